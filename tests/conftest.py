"""Shared fixtures. Each sample clip is captioned once per session with the real model."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from captioner.evaluate import Reference
from captioner.pipeline import CaptionOptions, CaptionResult, caption
from captioner.results import Cue

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
JS = Path(__file__).resolve().parent / "js"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
GLOSSARY = ("Kerry", "Lavrov", "Kyiv", "Crimea", "Crimean", "Sergei", "Putin", "NATO")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _caption_sample(name: str, cache_dir: Path) -> CaptionResult:
    options = CaptionOptions(glossary=GLOSSARY)
    return caption(SAMPLES / f"{name}.mp4", options, cache_dir)


@pytest.fixture(scope="session")
def seed_result(cache_dir: Path) -> CaptionResult:
    return _caption_sample("seed-news", cache_dir)


@pytest.fixture(scope="session")
def late_result(cache_dir: Path) -> CaptionResult:
    return _caption_sample("late-audio", cache_dir)


@pytest.fixture(scope="session")
def brief_result(cache_dir: Path) -> CaptionResult:
    return _caption_sample("world-brief", cache_dir)


@pytest.fixture(scope="session")
def seed_ref() -> Reference:
    return Reference.load(SAMPLES / "seed-news.ref.json")


@pytest.fixture(scope="session")
def late_ref() -> Reference:
    return Reference.load(SAMPLES / "late-audio.ref.json")


@pytest.fixture(scope="session")
def brief_ref() -> Reference:
    return Reference.load(SAMPLES / "world-brief.ref.json")


def w3c_parse(vtt: str) -> dict:
    """Run the W3C reference WebVTT parser (npm webvtt-parser) on ``vtt``."""
    proc = subprocess.run(
        ["node", str(JS / "validate-vtt.js")], input=vtt, capture_output=True, text=True,
        check=True, timeout=60,
    )
    return json.loads(proc.stdout)


def cue_summary(cues: list[Cue]) -> str:
    return "\n".join(f"{c.start:7.2f} {c.end:7.2f} {' / '.join(c.lines)}" for c in cues)


# --- real service processes ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveService:
    """`captioner serve` (gunicorn + a Celery worker) running as real processes."""

    url: str
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen
    token: str = ""  # the producer's API token (user PRODUCER, password PASSWORD)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "captioner.cli", *args], env=self.env,
                              input=stdin, capture_output=True, text=True, timeout=60)

    def add_producer(self, name: str, password: str = "a long enough password") -> str:
        """Add a producer with the real CLI; return a new API token of theirs."""
        added = self.cli("users", "add", name, "--password", password)
        assert added.returncode == 0, added.stderr
        made = self.cli("tokens", "create", name)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    def login_session(self, name: str = "", password: str = "") -> tuple[requests.Session, str]:
        """A cookie session logged in through the login form, and its CSRF token."""
        session = requests.Session()
        form = session.get(f"{self.url}/login", timeout=10).text
        r = session.post(f"{self.url}/login", timeout=10, data={
            "name": name or PRODUCER, "password": password or PASSWORD,
            "csrf_token": csrf_token(form)}, allow_redirects=False)
        assert r.status_code == 303, r.text
        return session, csrf_token(session.get(f"{self.url}/", timeout=10).text)

    def upload(self, clip: Path, publish: bool = True, **fields: str) -> dict:
        with clip.open("rb") as f:
            r = requests.post(self.api("/clips"), files={"file": (clip.name, f)},
                              data={"publish": str(publish).lower(), **fields},
                              headers=self.auth, timeout=60)
        assert r.status_code == 202, r.text
        return r.json()

    def wait_ready(self, clip_id: str, timeout: float = 600,
                   seen: list[dict] | None = None) -> dict:
        """Poll until the clip is ready or failed; every status read is appended to ``seen``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            clip = requests.get(self.api(f"/clips/{clip_id}"), headers=self.auth,
                                timeout=10).json()
            if seen is not None:
                seen.append(clip)
            if clip["status"] in ("ready", "failed"):
                return clip
            time.sleep(0.25)
        raise AssertionError(f"clip {clip_id} not finished after {timeout} s: {clip}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()


PRODUCER, PASSWORD = "producer", "a long enough password"


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def start_service(data_dir: Path, **env_extra: str) -> LiveService:
    port = free_port()
    # Tests upload far more than a newsroom would; rate-limit tests set their own limits.
    env = {**os.environ, "CAPTIONER_DATA_DIR": str(data_dir),
           "CAPTIONER_UPLOAD_RATE": "10000/minute", "CAPTIONER_LOGIN_RATE": "10000/minute",
           **env_extra}
    log = (data_dir.parent / f"{data_dir.name}-serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "captioner.cli", "serve", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    service = LiveService(f"http://127.0.0.1:{port}", data_dir, env, proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"captioner serve exited; see {log.name}"
        try:
            if requests.get(service.api("/clips"), timeout=2).ok:
                service.token = service.add_producer(PRODUCER, PASSWORD)
                return service
        except requests.RequestException:
            time.sleep(0.3)
    service.stop()
    raise AssertionError("captioner serve did not answer within 60 s")


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """The embedded default: SQLite + filesystem broker in a temp data dir."""
    service = start_service(tmp_path_factory.mktemp("service") / "data")
    yield service
    service.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server in a temp dir (run as the postgres user: it refuses root)."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    # Not under pytest's root-only tmp tree: the postgres user must be able to reach it.
    folder = Path(tempfile.mkdtemp(prefix="captioner-pg-"))
    port = free_port()

    def as_postgres(*args: str) -> None:
        cmd = [str(pg_bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    as_postgres("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")
    as_postgres("pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w", "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    as_postgres("pg_ctl", "-D", str(folder / "data"), "-m", "fast", "stop")
    shutil.rmtree(folder, ignore_errors=True)
