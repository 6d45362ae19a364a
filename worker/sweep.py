"""Recovery sweep: the database, not the broker, decides what still needs doing.

Every worker runs it on start and then periodically: clips left queued (a lost message, a
broker restart) or processing with a dead worker (no heartbeat) are queued again. The claim in
the task makes duplicates harmless, so several workers sweeping at once is fine.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from captioner.config import Settings
from captioner.store import Store

log = logging.getLogger(__name__)
_stop = threading.Event()


def sweep_once(store: Store, settings: Settings, celery: Celery) -> list[str]:
    ids = store.sweep(
        stale_after=timedelta(seconds=settings.stale_after_s),
        requeue_after=timedelta(seconds=settings.requeue_after_s),
        max_attempts=settings.max_attempts,
    )
    for clip_id in ids:
        celery.send_task("captioner.process_clip", args=[clip_id])
    if ids:
        log.warning("recovery sweep queued %d clip(s) again: %s", len(ids), ", ".join(ids))
    return ids


def _loop(store: Store, settings: Settings, celery: Celery, every_s: float) -> None:
    while True:
        try:
            sweep_once(store, settings, celery)
        except Exception:  # noqa: BLE001 - a broker or database hiccup must not end the loop
            log.exception("recovery sweep failed; trying again later")
        if _stop.wait(every_s):
            return


@worker_ready.connect
def _start(sender, **_kw) -> None:
    from worker.tasks import get_store

    settings: Settings = sender.app.conf.captioner_settings
    every = max(5.0, min(settings.stale_after_s, settings.requeue_after_s) / 3)
    threading.Thread(
        target=_loop, args=(get_store(), settings, sender.app, every), daemon=True,
        name="recovery-sweep",
    ).start()


@worker_shutdown.connect
def _stop_loop(**_kw) -> None:
    _stop.set()
