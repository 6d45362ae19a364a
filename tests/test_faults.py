"""Fault tests with real processes: kill workers, restart the broker, count what survives.

The web app (gunicorn) and each Celery worker run as separate process groups, exactly as
`captioner serve` starts them, so a test can SIGKILL the worker alone. Staleness and re-queue
times are cut to seconds so the recovery sweep acts while the test waits. Counts of jobs
submitted, finished, lost and duplicated are printed (run with ``pytest -s`` to see them).
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import requests

from captioner import formats
from captioner.media import ffmpeg_binary
from captioner.store import OUTPUT_NAMES
from tests.conftest import SAMPLES, w3c_parse
from tests.fault_support import Deployment, RedisServer, wait_for

STALE_S = REQUEUE_S = 6
FAST_RECOVERY = {"CAPTIONER_STALE_AFTER_S": str(STALE_S),
                 "CAPTIONER_REQUEUE_AFTER_S": str(REQUEUE_S)}
# Decoding one VAD chunk at a time reports progress as it goes (batched decoding reports its
# segments near the end), so the test can kill the worker mid-transcription, not before it.
STREAMING = {"CAPTIONER_BATCH_SIZE": "0"}
SWEEP_EVERY_S = 5  # worker/sweep.py: max(5, min(stale, requeue) / 3)
# Kill to ready: staleness, one sweep period, a worker start and a full 3-minute clip.
RECOVERY_LIMIT_S = 120


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    yield counts
    print(f"\nfault tests, all together: submitted {counts['submitted']}, finished "
          f"{counts['finished']}, lost {counts['lost']}, duplicated {counts['duplicated']}")


@pytest.fixture(scope="module")
def fault_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault-cache")


@pytest.fixture
def deploy(tmp_path: Path, fault_cache: Path) -> Iterator[Callable[..., Deployment]]:
    """Make deployments; every process they started is reaped at teardown, pass or fail."""
    made: list[Deployment] = []

    def make(**env: str) -> Deployment:
        d = Deployment.create(tmp_path / f"deploy{len(made)}", fault_cache,
                              **FAST_RECOVERY, **env)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Our own redis-server, not the session one: these tests stop and restart it."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def short_clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Eight different 6-8 s pieces of the two samples, each with speech."""
    folder = tmp_path_factory.mktemp("short")
    clips = []
    for i, (sample, start, length) in enumerate([
        ("late-audio", 0, 7), ("late-audio", 7, 6), ("late-audio", 13, 8), ("late-audio", 21, 7),
        ("seed-news", 20, 6), ("seed-news", 45, 8), ("seed-news", 80, 7), ("seed-news", 130, 6),
    ]):
        path = folder / f"piece{i}.mp4"
        subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", "-ss", str(start), "-i",
                        str(SAMPLES / f"{sample}.mp4"), "-t", str(length), str(path)],
                       check=True, timeout=60)
        clips.append(path)
    return clips


# --- checks shared by the tests ----------------------------------------------------------------

def _upload(d: Deployment, path: Path, title: str = "") -> str:
    r = d.upload(path, title)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _wait_finished(d: Deployment, clip_id: str, timeout: float,
                   seen: list[tuple[float, str]] | None = None) -> dict:
    """Poll the API until ready or failed; status changes go to ``seen`` (time, status)."""
    start = time.monotonic()

    def finished() -> dict | None:
        clip = d.clip(clip_id)
        if seen is not None and (not seen or seen[-1][1] != clip["status"]):
            seen.append((round(time.monotonic() - start, 1), clip["status"]))
        return clip if clip["status"] in ("ready", "failed") else None

    return wait_for(finished, timeout, f"clip {clip_id} to finish", every=0.3)


def _check_one_caption_set(d: Deployment, clip_id: str, api_clip: dict) -> int:
    """Ready once: one set of caption files, no temp files, a complete valid VTT; cue count."""
    folder = d.data_dir / "clips" / clip_id
    row = d.row(clip_id)
    expected = {row.media_file} | {n for name in OUTPUT_NAMES.values() for n in
                                   (name, f"{name}.gz")}
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    assert d.stray_files(clip_id) == []
    assert row.captions_version == 1, "captions were written by more than one finished run"
    r = requests.get(d.url + api_clip["links"]["vtt"], headers=d.auth, timeout=10)
    assert r.status_code == 200 and r.headers["X-Captions-Complete"] == "true"
    assert w3c_parse(r.text)["errors"] == []
    cues = formats.read_vtt(r.text)
    assert cues and len(cues) == api_clip["cue_count"] == row.cue_count
    assert r.text == (folder / OUTPUT_NAMES["vtt"]).read_text()
    doc = requests.get(d.url + api_clip["links"]["json"], headers=d.auth,
                       timeout=10).json()
    assert len(doc["cues"]) == len(cues)
    return len(cues)


def _count(d: Deployment, clip_ids: list[str], tally: Counter[str], label: str) -> dict:
    """Submitted, finished, lost, duplicated for these clips, from the database and the logs."""
    outcomes = d.outcomes()
    counts = Counter(submitted=len(clip_ids))
    for clip_id in clip_ids:
        row = d.row(clip_id)
        ready_runs = outcomes[(clip_id, "ready")]
        counts["finished"] += row.status == "ready"
        counts["lost"] += row.status != "ready"
        counts["duplicated"] += ready_runs > 1 or row.captions_version > 1
    counts["skipped runs"] = sum(n for (_, what), n in outcomes.items() if what == "skipped")
    tally.update({k: v for k, v in counts.items() if k != "skipped runs"})
    print(f"\n{label}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


# --- 1. SIGKILL a worker mid-job ----------------------------------------------------------------

@pytest.fixture(params=["filesystem", "redis"])
def broker_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The embedded broker, or a Redis one (set up before, so torn down after, the workers)."""
    if request.param == "redis":
        return {"CAPTIONER_BROKER_URL": request.getfixturevalue("redis").url}
    return {}


def test_worker_killed_mid_job_finishes_once(broker_env, deploy, tally):
    broker = "redis" if broker_env else "filesystem"
    d = deploy(**broker_env, **STREAMING)
    d.start_web()
    first = d.start_worker()
    t0 = time.monotonic()
    clip_id = _upload(d, SAMPLES / "seed-news.mp4", "US, Russia At Odds on Ukraine")

    def mid_transcription() -> dict | None:
        clip = d.clip(clip_id)
        assert clip["status"] in ("queued", "processing"), clip
        return clip if clip["status"] == "processing" and clip["progress"] > 0 else None

    before = wait_for(mid_transcription, 90, "the clip to be mid-transcription", every=0.2)
    group = first.members()
    assert len(group) >= 2, "a prefork worker: the parent and its pool child"
    first.kill()  # the whole group at once: the parent and the pool child doing the work
    killed_at = time.monotonic()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in group)
    assert not first.members()
    row = d.row(clip_id)
    assert (row.status, row.attempts) == ("processing", 1), "what the crash left behind"
    assert (d.data_dir / "clips" / clip_id / "partial.vtt").exists()

    d.start_worker()
    seen: list[tuple[float, str]] = []
    done = _wait_finished(d, clip_id, RECOVERY_LIMIT_S, seen)
    recovered_s = time.monotonic() - killed_at
    assert done["status"] == "ready", done
    # Taken up again by the new worker's sweep once its heartbeat went stale.
    assert f"queued 1 clip(s) again: {clip_id}" in d.workers[1].text()
    assert [s for _, s in seen][-1] == "ready", seen
    assert d.row(clip_id).attempts == 2
    cues = _check_one_caption_set(d, clip_id, done)
    assert d.outcomes()[(clip_id, "ready")] == 1, d.outcomes()
    counts = _count(d, [clip_id], tally, f"SIGKILL worker mid-job ({broker} broker)")
    assert (counts["finished"], counts["lost"], counts["duplicated"]) == (1, 0, 0)
    print(f"  killed at progress {before['progress']:.0%} after {killed_at - t0:.1f} s; "
          f"ready {recovered_s:.1f} s after the kill (statuses {seen}); {cues} cues")


def test_pool_child_killed_message_redelivered_but_run_once(redis, deploy, tally):
    """Only the pool child dies (the OOM killer's pick): Celery requeues the message at once
    (reject_on_worker_lost), the new child gets it while the heartbeat is still fresh, and the
    database claim refuses it; the sweep takes the clip up once its heartbeat is stale."""
    d = deploy(CAPTIONER_BROKER_URL=redis.url, **STREAMING)
    d.start_web()
    worker = d.start_worker()
    clip_id = _upload(d, SAMPLES / "seed-news.mp4")
    wait_for(lambda: d.clip(clip_id)["progress"] > 0, 90, "transcription to start", every=0.2)
    children = psutil.Process(worker.pid).children()  # the pool child; ffmpeg is its child
    assert len(children) == 1
    helpers = children[0].children()
    children[0].kill()
    killed_at = time.monotonic()
    # Its ffmpeg, if it had one running, sees the pipe close and goes too: no orphan left.
    wait_for(lambda: not any(h.is_running() and h.status() != psutil.STATUS_ZOMBIE
                             for h in helpers), 10, "the dead child's ffmpeg to exit")
    done = _wait_finished(d, clip_id, RECOVERY_LIMIT_S)
    assert done["status"] == "ready", done
    assert worker.alive(), "the worker's parent lives on and forks a new child"
    assert d.outcomes()[(clip_id, "skipped")] >= 1, "the redelivered message must be refused"
    assert d.outcomes()[(clip_id, "ready")] == 1 and d.row(clip_id).attempts == 2
    _check_one_caption_set(d, clip_id, done)
    counts = _count(d, [clip_id], tally, "SIGKILL pool child only (redis broker)")
    assert (counts["finished"], counts["lost"], counts["duplicated"]) == (1, 0, 0)
    print(f"  ready {time.monotonic() - killed_at:.1f} s after the kill")


# --- 2. Redis restarts and loses its queue --------------------------------------------------------

def test_redis_restart_loses_queue_all_clips_finish(redis, deploy, short_clips, tally):
    d = deploy(CAPTIONER_BROKER_URL=redis.url)
    d.start_web()
    worker = d.start_worker()
    t0 = time.monotonic()
    # Keep the worker busy on a long clip, so the short ones wait in Redis's list.
    busy = _upload(d, SAMPLES / "seed-news.mp4", "busy")
    wait_for(lambda: d.clip(busy)["status"] == "processing", 60, "the long clip to start")
    queued = [_upload(d, path, f"queued {i}") for i, path in enumerate(short_clips[:6])]
    assert redis.queue_length() == len(queued), "all six wait in the broker"
    assert all(d.clip(c)["status"] == "queued" for c in queued)

    redis.stop()  # SIGTERM while the worker is mid-clip; no persistence: the six are gone
    stopped_at = time.monotonic()
    time.sleep(2.0)
    redis.start()  # the same port, an empty queue
    assert redis.queue_length() == 0
    down_s = time.monotonic() - stopped_at

    everything = [busy, *queued]
    results = {c: _wait_finished(d, c, 150) for c in everything}
    finished_s = time.monotonic() - t0
    assert all(r["status"] == "ready" for r in results.values()), results
    assert worker.alive() and len(d.workers) == 1, "the same worker rode out the restart"
    for clip_id in everything:
        _check_one_caption_set(d, clip_id, results[clip_id])
    counts = _count(d, everything, tally, "Redis restart with a lost queue")
    assert (counts["finished"], counts["lost"], counts["duplicated"]) == (len(everything), 0, 0)
    assert "recovery sweep queued" in d.worker_logs()
    print(f"  redis down {down_s:.1f} s; {len(everything)} clips ready {finished_s:.1f} s "
          "after the first upload")


def test_upload_while_redis_is_down_is_kept_and_finishes(redis, deploy, short_clips, tally):
    d = deploy(CAPTIONER_BROKER_URL=redis.url)
    d.start_web()
    d.start_worker()
    redis.stop()
    # Durable in the database and on disk before the 202; the failed enqueue is only logged.
    answers = [d.upload(path, f"while down {i}") for i, path in enumerate(short_clips[6:8])]
    assert [r.status_code for r in answers] == [202, 202], (
        "an upload must not need the broker; see web.log (the rate limiter keeps its counts "
        "in the same Redis)", [r.text for r in answers])
    during = [r.json()["id"] for r in answers]
    assert "waits for the sweep" in (d.web.text() if d.web else "")
    redis.start()
    back_at = time.monotonic()
    results = {c: _wait_finished(d, c, 90) for c in during}
    assert all(r["status"] == "ready" for r in results.values()), results
    for clip_id in during:
        _check_one_caption_set(d, clip_id, results[clip_id])
    counts = _count(d, during, tally, "uploads while Redis is down")
    assert (counts["finished"], counts["lost"], counts["duplicated"]) == (len(during), 0, 0)
    print(f"  both ready {time.monotonic() - back_at:.1f} s after Redis came back")
