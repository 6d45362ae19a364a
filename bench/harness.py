"""What the service benchmarks share: sample clips, service processes, uploads and polling.

Imported by ``first_caption.py``, ``queue_throughput.py``, ``caption_api.py`` and
``long_clip.py``; not a benchmark itself. Everything runs as real processes on loopback ports,
with data in a temporary folder; every process started here is stopped by its own id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the captioner package, run from anywhere without installing
SAMPLES = ROOT / "samples"
SEED = SAMPLES / "seed-news.mp4"
PY = sys.executable
PRODUCER, PASSWORD = "bench", "a long enough bench password"
VTT_CUE_ARROW = "-->"


# ---- figures -------------------------------------------------------------------------------

def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt(value: float | int | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def save_json(path: Path | None, doc: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")


def log(message: str) -> None:
    """Progress goes to stderr; the results table goes to stdout."""
    print(message, file=sys.stderr, flush=True)


# ---- clips ---------------------------------------------------------------------------------

def cache_dir() -> Path:
    """Built clips live here between runs (never in the repository)."""
    base = os.environ.get("CAPTIONER_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    folder = (Path(base) if base else Path.home() / ".cache" / "captioner") / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # the fallback the service itself uses

    return imageio_ffmpeg.get_ffmpeg_exe()


def fresh(target: Path, *sources: Path) -> bool:
    """True when ``target`` exists and is newer than every source."""
    return target.is_file() and all(target.stat().st_mtime >= s.stat().st_mtime for s in sources)


def run_ffmpeg(args: list[str], target: Path) -> Path:
    """Run ffmpeg writing to a temp name beside ``target``, then rename (never a half file)."""
    tmp = target.with_name(f".{target.stem}.tmp{target.suffix}")
    cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args, str(tmp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed for {target.name}: {done.stderr.strip()[-800:]}")
    tmp.replace(target)
    return target


def concat_copies(source: Path, copies: int, target: Path) -> Path:
    """``copies`` x ``source`` back to back with the concat demuxer (stream copy)."""
    if fresh(target, source):
        return target
    listing = target.with_suffix(".txt")
    line = "file '" + str(source.resolve()).replace("'", r"'\''") + "'\n"
    listing.write_text(line * copies, encoding="utf-8")
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                "-movflags", "+faststart"], target)
    listing.unlink()
    return target


def cut(source: Path, start: float, length: float, target: Path) -> Path:
    """A ``length`` s piece of ``source`` from ``start``, re-encoded (H.264/AAC MP4) so it
    starts on a keyframe and plays in a browser as is (no rendition work in the worker)."""
    if fresh(target, source):
        return target
    return run_ffmpeg(["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(source),
                       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                       "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"], target)


def short_clips(count: int, source: Path = SEED, shortest: float = 20.0,
                longest: float = 30.0) -> list[Path]:
    """``count`` clips of ``shortest``..``longest`` s spread over ``source`` (cached)."""
    from captioner import media

    total = media.probe(source).duration
    folder = cache_dir() / "short"
    folder.mkdir(exist_ok=True)
    clips = []
    for i in range(count):
        length = shortest + (longest - shortest) * ((i * 7) % 11) / 10
        start = (i * 37.0) % max(1.0, total - length)
        clips.append(cut(source, start, length,
                         folder / f"{source.stem}-{i:02d}-{start:.0f}s-{length:.0f}s.mp4"))
    return clips


# ---- processes -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited (code {proc.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port} after {timeout} s") from None
            time.sleep(0.1)


@dataclass
class Procs:
    """Processes started by a benchmark, each in its own session; stopped by id, newest first."""

    folder: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
        """Runs in the scratch folder (PYTHONPATH finds the code), so what a process writes
        to its working directory (kombu's filesystem ``control/`` folder) stays out of the
        repository."""
        logfile = (self.folder / f"{name}.log").open("ab")
        proc = subprocess.Popen(cmd, env=env or service_env(self.folder / "data"),
                                cwd=cwd or self.folder,
                                stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
        logfile.close()
        proc.name = name  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.folder / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, proc: subprocess.Popen, timeout: float = 30) -> None:
        """SIGTERM the process group this process leads (gunicorn and Celery children too)."""
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc in self.started:
            self.started.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.started)):
            self.stop(proc)


@contextmanager
def processes(keep: Path | None = None, prefix: str = "captioner-bench-") -> Iterator[Procs]:
    """A scratch folder (or ``keep``) holding data and logs; all processes stopped on exit."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        folder = keep.resolve() if keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        procs = Procs(folder)
        try:
            yield procs
        finally:
            procs.stop_all()


def service_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The service's environment: a private data dir, no rate limits in the way of a bench."""
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p),
            "CAPTIONER_DATA_DIR": str(data_dir), "CAPTIONER_UPLOAD_RATE": "100000/minute",
            "CAPTIONER_LOGIN_RATE": "100000/minute", **extra}


def start_redis(procs: Procs) -> str:
    """redis-server on a free loopback port, no persistence; returns its URL."""
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    folder = procs.folder / "redis"
    folder.mkdir(exist_ok=True)
    proc = procs.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", str(folder)])
    wait_port(port, proc)
    return f"redis://127.0.0.1:{port}/0"


def init_store(env: dict[str, str]) -> None:
    """Create the schema once, before several processes race to (as ``captioner serve`` does)."""
    code = "from captioner.config import Settings as S; from captioner.store import Store; " \
           "s = S.from_env(); Store(s.database_url, s.data_dir)"
    subprocess.run([PY, "-c", code], env=env, cwd=ROOT, check=True)


def start_web(procs: Procs, env: dict[str, str], workers: int = 1, threads: int = 8,
              name: str = "web", access_log: bool = False) -> str:
    """gunicorn ``web:create_app()`` (gthread) on a free port; returns its base URL."""
    port = free_port()
    cmd = [PY, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
           "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--timeout", "600",
           "--backlog", "2048", "web:create_app()"]
    if access_log:
        cmd[-1:-1] = ["--access-logfile", "-"]
    proc = procs.start(name, cmd, env)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/api/v1/clips", proc)
    return url


def start_worker(procs: Procs, env: dict[str, str], name: str = "worker",
                 concurrency: int = 1) -> subprocess.Popen:
    """One Celery worker process (``--concurrency`` pool children), as ``captioner serve``
    starts it; returns once it logged that it is ready to take tasks."""
    proc = procs.start(name, [PY, "-m", "celery", "-A", "worker.app", "worker", "--queues",
                              "captions", "--concurrency", str(concurrency), "--loglevel",
                              "INFO", "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
                              "--without-heartbeat"], env)
    deadline = time.monotonic() + 90
    while "ready." not in procs.log_tail(name, 200):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Celery worker {name} did not start:\n{procs.log_tail(name)}")
        time.sleep(0.2)
    return proc


def start_serve(procs: Procs, env: dict[str, str]) -> str:
    """The embedded default: ``captioner serve`` (gunicorn + one Celery worker)."""
    port = free_port()
    proc = procs.start("serve", [PY, "-m", "captioner.cli", "serve", "--port", str(port)], env)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/api/v1/clips", proc)
    return url


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{getattr(proc, 'name', proc.args)} exited before answering")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout} s")
        time.sleep(0.2)


def producer_token(env: dict[str, str]) -> str:
    """Add the bench producer with the real CLI and return a new API token of theirs."""
    def cli(*args: str) -> str:
        done = subprocess.run([PY, "-m", "captioner.cli", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"captioner {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    cli("users", "add", PRODUCER, "--password", PASSWORD)
    return cli("tokens", "create", PRODUCER).splitlines()[0]


# ---- the API ---------------------------------------------------------------------------------

@dataclass
class Client:
    url: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1{path}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def upload(self, clip: Path, publish: bool = True) -> tuple[dict, float]:
        """POST the clip; returns its JSON and the monotonic time the 202 arrived."""
        with clip.open("rb") as f:
            r = self.session.post(self.api("/clips"), files={"file": (clip.name, f)},
                                  data={"publish": str(publish).lower()}, headers=self.auth,
                                  timeout=300)
        accepted = time.monotonic()
        if r.status_code != 202:
            raise RuntimeError(f"upload of {clip.name}: {r.status_code} {r.text[:300]}")
        return r.json(), accepted

    def status(self, clip_id: str) -> dict:
        return self.session.get(self.api(f"/clips/{clip_id}"), headers=self.auth,
                                timeout=30).json()

    def list_clips(self, limit: int = 500) -> list[dict]:
        r = self.session.get(self.api("/clips"), params={"limit": limit}, headers=self.auth,
                             timeout=30)
        r.raise_for_status()
        return r.json()["clips"]

    def wait_ready(self, clip_id: str, timeout: float = 3600, every: float = 0.1) -> float:
        """Poll until the clip is ready; returns the monotonic time it was first seen ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            clip = self.status(clip_id)
            if clip["status"] == "ready":
                return time.monotonic()
            if clip["status"] == "failed":
                raise RuntimeError(f"clip {clip_id} failed: {clip['error']}")
            time.sleep(every)
        raise RuntimeError(f"clip {clip_id} not ready after {timeout} s")

    def captions(self, clip_id: str, **headers: str) -> requests.Response:
        return self.session.get(self.api(f"/clips/{clip_id}/captions.vtt"), headers=headers,
                                timeout=30)


def cue_count(vtt: str) -> int:
    return sum(VTT_CUE_ARROW in line for line in vtt.splitlines())
