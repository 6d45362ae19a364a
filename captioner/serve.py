"""`captioner serve`: the web app (gunicorn) and one Celery worker on the embedded defaults.

The same two programs run scaled out on separate machines; this only starts and watches them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

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


RESTARTS = 5  # a program that exits this often within RESTART_WINDOW_S is broken: give up
RESTART_WINDOW_S = 300.0


def run(settings: Settings, host: str, port: int, web_workers: int, concurrency: int,
        echo=print) -> int:
    store = Store(settings.database_url, settings.data_dir)  # schema first, before the race
    if not Accounts(store).users():
        echo("No producer accounts yet: add one with `captioner users add NAME` to upload.")
    env = {**os.environ, "CAPTIONER_DATA_DIR": str(settings.data_dir)}
    echo(f"captioner is running at http://{host}:{port}/  (data in {settings.data_dir}; "
         "Ctrl-C stops it)")
    return supervise(commands(host, port, web_workers, concurrency), env, echo)


def supervise(cmds: Sequence[list[str]], env: dict[str, str],
              echo: Callable[[str], object] = print, poll_s: float = 0.5) -> int:
    """Run the programs until Ctrl-C/SIGTERM; start again one that exits on its own.

    A worker that dies must not take the web pages down with it (uploads still land and wait
    in the queue; the recovery sweep of the new worker picks up the clip it was on). One that
    keeps dying is given up on, and everything stops with exit status 1.
    """
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    procs = [subprocess.Popen(cmd, env=env) for cmd in cmds]
    failed = False
    try:
        failed = _watch(procs, cmds, env, echo, poll_s, lambda: stopping)
    finally:
        _stop_all(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0


def _watch(procs: list[subprocess.Popen], cmds: Sequence[list[str]], env: dict[str, str],
           echo: Callable[[str], object], poll_s: float, stopping: Callable[[], bool]) -> bool:
    """Restart programs that exit until ``stopping()``; True if one kept failing."""
    exits: list[list[float]] = [[] for _ in cmds]
    while not stopping():
        time.sleep(poll_s)
        for i, proc in enumerate(procs):
            if stopping() or proc.poll() is None:
                continue
            now = time.monotonic()
            exits[i] = [t for t in exits[i] if now - t < RESTART_WINDOW_S] + [now]
            if len(exits[i]) > RESTARTS:
                echo(f"{_name(cmds[i])} exited {len(exits[i])} times in "
                     f"{RESTART_WINDOW_S:.0f} s; stopping captioner")
                return True
            echo(f"{_name(cmds[i])} exited with status {proc.returncode}; starting it again")
            procs[i] = subprocess.Popen(cmds[i], env=env)
    return False


def _name(cmd: Sequence[str]) -> str:
    return cmd[2] if len(cmd) > 2 and cmd[1] == "-m" else os.path.basename(cmd[0])


def _stop_all(procs: Sequence[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
