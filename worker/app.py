"""The Celery application, configured from ``Settings`` (embedded or scaled out)."""

from __future__ import annotations

from celery import Celery

from captioner.config import Settings


def _filesystem_options(settings: Settings) -> dict[str, object]:
    folder = settings.data_dir / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        # kombu's default is ./control, relative to wherever the process was started.
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery("captioner", broker=settings.broker, include=["worker.tasks", "worker.sweep"])
    app.conf.update(
        task_acks_late=True,  # a crashed worker's message goes back to the queue (Redis)
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # one long clip must not hold others hostage
        task_ignore_result=True,  # the database holds results, not a result backend
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_default_queue="captions",
        # Redis: redeliver unacked messages after 30 min instead of 1 h; the sweep is faster.
        broker_transport_options=(
            _filesystem_options(settings) if settings.broker == "filesystem://"
            else {"visibility_timeout": 1800}
        ),
    )
    if settings.broker == "filesystem://":
        app.conf.broker_transport = "worker.fs_broker:Transport"  # whole messages only
    app.conf.captioner_settings = settings
    return app


app = make_celery()
