"""`captioner serve`: the web app (gunicorn) and one Celery worker on the embedded defaults.

The same two programs run scaled out on separate machines; this only starts and watches them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from captioner.accounts import Accounts
from captioner.config import Settings
from captioner.store import Store


def commands(host: str, port: int, web_workers: int, concurrency: int) -> list[list[str]]:
    py = sys.executable
    return [
        [py, "-m", "gunicorn", "--workers", str(web_workers), "--threads", "8",
         "--bind", f"{host}:{port}", "--timeout", "600", "--access-logfile", "-",
         "web:create_app()"],
        [py, "-m", "celery", "-A", "worker.app", "worker", "--queues", "captions",
         "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
    ]


def run(settings: Settings, host: str, port: int, web_workers: int, concurrency: int,
        echo=print) -> int:
    store = Store(settings.database_url, settings.data_dir)  # schema first, before the race
    if not Accounts(store).users():
        echo("No producer accounts yet: add one with `captioner users add NAME` to upload.")
    env = {**os.environ, "CAPTIONER_DATA_DIR": str(settings.data_dir)}
    procs = [subprocess.Popen(cmd, env=env) for cmd in commands(host, port, web_workers,
                                                                 concurrency)]
    echo(f"captioner is running at http://{host}:{port}/  (data in {settings.data_dir}; "
         "Ctrl-C stops it)")
    return _watch(procs)


def _watch(procs: Sequence[subprocess.Popen]) -> int:
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(p.poll() is None for p in procs):
        time.sleep(0.5)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    return 0 if stopping else 1  # a child that died on its own is a failure
