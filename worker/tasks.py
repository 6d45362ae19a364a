"""The pipeline task: one clip id in, caption files and a ready (or failed) clip out.

Idempotent: the database claim lets only one worker run a clip at a time, files are written
to temp names and renamed, and a re-run simply overwrites the same files.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from functools import cache
from pathlib import Path

from celery.signals import worker_process_init

from captioner import formats, media, models
from captioner.config import Settings
from captioner.errors import CaptionerError
from captioner.glossary import parse_glossary
from captioner.pipeline import CaptionOptions, Progress, caption
from captioner.results import Cue
from captioner.segment import segment
from captioner.store import FAILED, OUTPUT_NAMES, PARTIAL_VTT, READY, Clip, Store
from captioner.transcribe import load_model
from worker.app import app

log = logging.getLogger(__name__)
HEARTBEAT_S = 10.0
PARTIAL_EVERY_S = 2.0


@cache
def get_store() -> Store:
    settings = _settings()
    return Store(settings.database_url, settings.data_dir)


def _settings() -> Settings:
    return app.conf.captioner_settings


@worker_process_init.connect
def _warm_up(**_kw: object) -> None:
    """Load the model when the worker process starts, not when the first clip waits for it."""
    if get_store.cache_info().currsize:
        # A pool child forked after the parent's recovery sweep opened the database (a child
        # replacing one that died): never use the parent's pooled connections, and never
        # close them from here either (SQLAlchemy's advice for engines across fork).
        get_store().engine.dispose(close=False)
    settings = _settings()
    try:
        model_dir = models.resolve(settings.model, settings.cache_dir)
        load_model(str(model_dir), settings.device, settings.compute_type, settings.cpu_threads)
    except CaptionerError:
        log.exception("model not ready; clips will fail with the reason until it is installed")


@app.task(name="captioner.process_clip", acks_late=True, reject_on_worker_lost=True)
def process_clip(clip_id: str) -> str:
    store, settings = get_store(), _settings()
    if not store.claim(clip_id, timedelta(seconds=settings.stale_after_s), settings.max_attempts):
        log.info("clip %s skipped: finished, gone, or a live worker has it", clip_id)
        return "skipped"
    clip = store.get(clip_id)
    assert clip is not None
    outcome = "ready"
    # Beat well inside the staleness window, or the sweep takes a live clip for a dead one.
    with _Heartbeat(store, clip_id, min(HEARTBEAT_S, settings.stale_after_s / 3)):
        try:
            _run(store, settings, clip)
        except CaptionerError as exc:
            store.finish(clip_id, clip.attempts, status=FAILED, stage="failed", error=str(exc))
            outcome = "failed"
        except Exception as exc:  # noqa: BLE001 - record why, then let Celery log it
            log.exception("clip %s failed", clip_id)
            store.finish(clip_id, clip.attempts, status=FAILED, stage="failed",
                         error=f"internal error while captioning ({type(exc).__name__}): {exc}")
            outcome = "failed"
    log.info("clip %s finished: %s (attempt %d)", clip_id, outcome, clip.attempts)
    return outcome


def _run(store: Store, settings: Settings, clip: Clip) -> None:
    folder = store.clip_dir(clip.id)
    # Temp files of a run that was killed mid-write; the claim makes this run the only one.
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
    options = settings.caption_options(language=clip.language or None,
                                       glossary=parse_glossary(clip.glossary))
    partial = _PartialWriter(store, clip.id, folder / PARTIAL_VTT, options)
    result = caption(folder / clip.media_file, options, settings.cache_dir, partial)
    meta = {"model": result.model, "clip_id": clip.id, "title": clip.title}
    for fmt, name in OUTPUT_NAMES.items():
        text = formats.render(fmt, result.transcript, result.cues, **meta)
        formats.write_atomic(folder / name, text, gzipped=True, durable=True)
    store.heartbeat(clip.id, stage="captions ready", progress=1.0, cue_count=len(result.cues),
                    detected_language=result.transcript.language, duration=result.media.duration,
                    captions_version=clip.captions_version + 1)
    web_file = _playable_file(result.media, folder)
    (folder / PARTIAL_VTT).unlink(missing_ok=True)
    # A run that stalled past the stale time and was taken over must not overwrite the newer one.
    if not store.finish(clip.id, clip.attempts, status=READY, stage="ready", web_file=web_file,
                        error=None):
        log.warning("clip %s: a newer attempt took over; this run's result is dropped", clip.id)


def _playable_file(info: media.MediaInfo, folder: Path) -> str | None:
    """The file the player gets; None when no playable copy can be made.

    Captions are already written by then: a video ffmpeg cannot re-encode must not throw
    them away. The player then says "No media source currently available".
    """
    if media.is_browser_playable(info):
        return info.path.name
    target = folder / "web.mp4"
    try:
        media.make_web_rendition(info, target)
    except CaptionerError:
        log.warning("clip in %s: no playable copy could be made", folder.name, exc_info=True)
        return None
    return target.name


class _PartialWriter:
    """Saves progress and the cues found so far, at most every couple of seconds."""

    def __init__(self, store: Store, clip_id: str, path: Path, options: CaptionOptions) -> None:
        self.store, self.clip_id, self.path, self.options = store, clip_id, path, options
        self.last = 0.0
        self.cues: list[Cue] = []
        self.segments_done = 0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.stage != "transcribe":
            self.store.heartbeat(self.clip_id, stage=p.stage)
            return
        if now - self.last < PARTIAL_EVERY_S:
            return
        self.last = now
        # Only the new segments are cut into cues: a preview, re-cut whole at the end.
        words = [w for s in p.segments[self.segments_done:] for w in s.words]
        self.segments_done = len(p.segments)
        self.cues.extend(segment(words, self.options.style))
        formats.write_atomic(self.path, formats.to_vtt(self.cues))
        self.store.heartbeat(self.clip_id, stage="transcribing", progress=round(p.fraction, 4),
                             cue_count=len(self.cues))


class _Heartbeat:
    """Beats while the clip runs, also through long quiet stages (audio decode, rendition)."""

    def __init__(self, store: Store, clip_id: str, every_s: float = HEARTBEAT_S) -> None:
        self.store, self.clip_id, self.every_s = store, clip_id, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.store.heartbeat(self.clip_id)
            except Exception:  # noqa: BLE001 - a locked or restarting database: beat again
                # If this thread died, the live clip would go stale and run twice.
                log.exception("heartbeat for clip %s failed; trying again", self.clip_id)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()
