"""Real processes for the fault tests: gunicorn, Celery workers and redis-server.

Each child runs in its own session (process group), so a test can SIGKILL one part of the
service, a prefork worker together with its pool child, and teardown can always reap it all.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from captioner.serve import commands
from captioner.store import Clip, Store

PRODUCER, PASSWORD = "fault-producer", "a long enough password"
# What worker/tasks.py logs when a run of the task ends; one line per run, with the clip id.
FINISHED = re.compile(r"clip (\w+) finished: (\w+) \(attempt (\d+)\)")
SKIPPED = re.compile(r"clip (\w+) skipped")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], object], timeout: float, what: str, every: float = 0.25):
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Group:
    """One child process started as the leader of its own process group; output to a log."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path,
                 cwd: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def members(self) -> list[psutil.Process]:
        """Every live process of the group (the leader and, for Celery, its pool children)."""
        found = []
        for p in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error):
                if os.getpgid(p.pid) == self.pid and p.status() != psutil.STATUS_ZOMBIE:
                    found.append(p)
        return found

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole group at once, then wait until none of it is left."""
        self.signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)
        wait_for(lambda: not self.members(), 10, f"{self.name}'s group to die", every=0.05)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, SIGKILL what is left after ``timeout``; safe to call twice."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)  # stragglers, even when the leader is gone
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class RedisServer:
    """redis-server on a fixed loopback port, no persistence: a restart loses the queue."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.group: Group | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.starts += 1
        self.group = Group(
            f"redis-{self.starts}",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            dict(os.environ), self.folder / f"redis-{self.starts}.log", self.folder)
        wait_for(self._answers, 20, "redis-server to answer", every=0.05)

    def _answers(self) -> bool:
        assert self.group is not None and self.group.alive(), "redis-server exited"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM, as an orderly restart does; with no persistence the queue is gone."""
        if self.group is not None:
            self.group.stop()

    def queue_length(self, queue: str = "captions") -> int:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(f"LLEN {queue}\r\n".encode())
            reply = s.recv(64)
        assert reply.startswith(b":"), reply
        return int(reply[1:].split(b"\r\n")[0])


@dataclass
class Deployment:
    """The scaled-out shape on one machine: gunicorn and separate Celery worker processes."""

    root: Path
    env: dict[str, str]
    url: str = ""
    token: str = ""
    web: Group | None = None
    workers: list[Group] = field(default_factory=list)
    _store: Store | None = None

    @classmethod
    def create(cls, root: Path, cache_dir: Path, **env_extra: str) -> Deployment:
        data = root / "data"
        env = {**os.environ, "CAPTIONER_DATA_DIR": str(data), "CAPTIONER_CACHE_DIR": str(cache_dir),
               "CAPTIONER_UPLOAD_RATE": "10000/minute", "CAPTIONER_LOGIN_RATE": "10000/minute",
               "PYTHONUNBUFFERED": "1", **env_extra}
        root.mkdir(parents=True, exist_ok=True)
        deployment = cls(root, env)
        # The producer first: this also makes the schema before web and worker race for it.
        deployment._cli("users", "add", PRODUCER, "--password", PASSWORD)
        deployment.token = deployment._cli("tokens", "create", PRODUCER).strip()
        return deployment

    def _cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "captioner.cli", *args], env=self.env,
                              cwd=self.root, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    @property
    def data_dir(self) -> Path:
        return Path(self.env["CAPTIONER_DATA_DIR"])

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.env.get("CAPTIONER_DATABASE_URL", ""), self.data_dir)
        return self._store

    # --- processes ---------------------------------------------------------------------
    def start_web(self, app: str = "") -> None:
        """gunicorn as `captioner serve` runs it; ``app`` replaces ``web:create_app()``."""
        port = free_port()
        web_cmd = commands("127.0.0.1", port, 1, 1)[0]
        if app:
            web_cmd[-1] = app
        self.web = Group("web", web_cmd, self.env, self.root / "web.log", self.root)
        self.url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            assert self.web is not None and self.web.alive(), self.web.text()[-3000:]
            with contextlib.suppress(requests.RequestException):
                return requests.get(f"{self.url}/api/v1/clips", timeout=2).ok
            return False

        wait_for(answers, 60, "gunicorn to answer")

    def start_worker(self) -> Group:
        """A Celery worker, concurrency 1, as `captioner serve` runs it; ready when it says so."""
        n = len(self.workers) + 1
        cmd = [*commands("127.0.0.1", 0, 1, 1)[1], "--hostname", f"fault{n}@%h"]
        worker = Group(f"worker-{n}", cmd, self.env, self.root / f"worker-{n}.log", self.root)
        self.workers.append(worker)

        def ready() -> bool:
            assert worker.alive(), worker.text()[-3000:]
            return " ready." in worker.text()

        wait_for(ready, 60, f"{worker.name} to be ready")
        return worker

    def close(self) -> None:
        for group in [*self.workers, self.web]:
            if group is not None:
                group.stop()
        if self._store is not None:
            self._store.engine.dispose()

    # --- the API and the database ------------------------------------------------------
    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def upload(self, path: Path, title: str = "") -> requests.Response:
        with path.open("rb") as f:
            return requests.post(f"{self.url}/api/v1/clips", files={"file": (path.name, f)},
                                 data={"title": title or path.stem}, headers=self.auth,
                                 timeout=60)

    def clip(self, clip_id: str) -> dict:
        r = requests.get(f"{self.url}/api/v1/clips/{clip_id}", headers=self.auth, timeout=10)
        assert r.ok, r.text
        return r.json()

    def row(self, clip_id: str) -> Clip:
        clip = self.store.get(clip_id)
        assert clip is not None, clip_id
        return clip

    def worker_logs(self) -> str:
        return "".join(w.text() for w in self.workers)

    def outcomes(self) -> Counter[tuple[str, str]]:
        """How often each (clip id, outcome) was logged by a task run, over all workers."""
        logs = self.worker_logs()
        found = Counter((m[1], m[2]) for m in FINISHED.finditer(logs))
        found.update((m[1], "skipped") for m in SKIPPED.finditer(logs))
        return found

    def stray_files(self, clip_id: str) -> list[str]:
        """Files in the clip's folder that a finished clip must not have."""
        folder = self.data_dir / "clips" / clip_id
        return sorted(p.name for p in folder.iterdir()
                      if p.name.startswith(".") or p.name.endswith(".tmp")
                      or p.name == "partial.vtt")
