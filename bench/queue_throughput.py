"""Queue throughput: short clips through 1 and 2 Celery worker processes on a Redis broker.

Starts redis-server on a free loopback port, the web app (gunicorn ``web:create_app()``) and,
for each per-worker thread setting (``CAPTIONER_CPU_THREADS``: 0 = all cores), 1 and then 2
worker processes (``celery -A worker.app worker --concurrency 1`` each). Every configuration
gets the same clips (cut from the samples, cached), uploaded through the API at once; the clock
runs from the first upload to the last clip seen ready. Prints clips/minute per configuration,
the scaling ratio 2 workers / 1 worker, the setting that maximises throughput, and how busy the
CPUs were (what limits scaling).

    .venv/bin/python bench/queue_throughput.py [--clips 20] [--threads 0,1,2] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import harness
import psutil

TARGET_SCALING = 1.6  # issue 5: 2 workers >= 1.6x 1 worker, only if the work allows it


@dataclass
class Config:
    threads: int  # CAPTIONER_CPU_THREADS per worker (0: CTranslate2 picks, all cores)
    workers: int
    clips: int
    seconds: float  # first upload -> last clip ready
    audio_s: float
    cpu_busy: float  # share of all CPUs busy during the run (0..1)

    @property
    def clips_per_min(self) -> float:
        return 60 * self.clips / self.seconds

    @property
    def cpu_s_per_clip(self) -> float:
        """CPU seconds (all processes on the machine) spent per clip."""
        return self.cpu_busy * (os.cpu_count() or 1) * self.seconds / self.clips

    @property
    def x_real_time(self) -> float:
        return self.audio_s / self.seconds


def wait_all_ready(client: harness.Client, ids: list[str], timeout: float) -> float:
    """Poll (one list request every 0.25 s, so polling costs the CPUs little) until every
    clip is ready; return the monotonic time the last one was seen ready."""
    left = set(ids)
    deadline = time.monotonic() + timeout
    while left:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(left)} clip(s) not ready after {timeout} s")
        for clip in client.list_clips():
            if clip["id"] in left and clip["status"] == "failed":
                raise RuntimeError(f"clip {clip['id']} failed: {clip['error']}")
            if clip["status"] == "ready":
                left.discard(clip["id"])
        if left:
            time.sleep(0.25)
    return time.monotonic()


def busy_share(before: psutil._common.scputimes, after: psutil._common.scputimes) -> float:
    total = sum(after) - sum(before)
    idle = (after.idle + getattr(after, "iowait", 0)) - (before.idle + getattr(before, "iowait", 0))
    return 1 - idle / total if total > 0 else 0.0


def run_config(procs: harness.Procs, env: dict[str, str], client: harness.Client,
               clips: list[Path], audio_s: float, threads: int, workers: int,
               timeout: float) -> Config:
    worker_env = {**env, "CAPTIONER_CPU_THREADS": str(threads)}
    started = [harness.start_worker(procs, worker_env, name=f"w{i + 1}-t{threads}-of{workers}")
               for i in range(workers)]
    try:
        cpu0 = psutil.cpu_times()
        start = time.monotonic()
        ids = [client.upload(clip)[0]["id"] for clip in clips]
        end = wait_all_ready(client, ids, timeout)
        cpu = busy_share(cpu0, psutil.cpu_times())
    finally:
        for proc in started:
            procs.stop(proc)
    return Config(threads, workers, len(clips), round(end - start, 2), audio_s, round(cpu, 3))


def thread_label(threads: int) -> str:
    return f"{threads} (all)" if threads == 0 else str(threads)


def report(results: list[Config], workers: list[int]) -> list[str]:
    by = {(c.threads, c.workers): c for c in results}
    settings = sorted({c.threads for c in results})
    head = "".join(f"{f'{w} worker(s) clips/min':>24}{'CPU busy':>10}" for w in workers)
    scaling = len(workers) >= 2
    lines = [f"{'threads/worker':<16}{head}"
             + (f"{f'{workers[-1]}w / {workers[0]}w':>12}" if scaling else "")]
    for t in settings:
        row = f"{thread_label(t):<16}"
        for w in workers:
            c = by.get((t, w))
            row += (f"{c.clips_per_min:>24.2f}{c.cpu_busy:>10.0%}" if c else f"{'n/a':>34}")
        if scaling:
            row += f"{harness.fmt(scale_of(by, t, workers), '.2f'):>12}"
        lines.append(row)
    best = max(results, key=lambda c: c.clips_per_min)
    lines += ["", f"most clips/minute: {best.workers} worker(s) x CAPTIONER_CPU_THREADS="
              f"{thread_label(best.threads)}: {best.clips_per_min:.2f} clips/min "
              f"({best.x_real_time:.1f}x real time)"]
    for w in workers:
        ranked = sorted((c for c in results if c.workers == w), key=lambda c: -c.clips_per_min)
        if len(ranked) > 1:
            best_t, worst_t = thread_label(ranked[0].threads), thread_label(ranked[-1].threads)
            lines.append(f"with {w} worker(s), clips/min of best thread setting {best_t} / "
                         f"worst {worst_t}: "
                         f"{ranked[0].clips_per_min / ranked[-1].clips_per_min:.2f}")
    if scaling:
        lines += scaling_lines(by, settings, workers)
    return lines


def scale_of(by: dict[tuple[int, int], Config], threads: int, workers: list[int]) -> float | None:
    one, many = by.get((threads, workers[0])), by.get((threads, workers[-1]))
    return harness.ratio(many and many.clips_per_min, one and one.clips_per_min)


def scaling_lines(by: dict[tuple[int, int], Config], settings: list[int],
                  workers: list[int]) -> list[str]:
    """The scaling verdict and what bounds it, from CPU busy shares and CPU seconds per clip."""
    cores = os.cpu_count() or 1
    few, many = workers[0], workers[-1]
    lines = []
    for t in settings:
        one, more = by.get((t, few)), by.get((t, many))
        if one and more:
            lines.append(f"threads {thread_label(t)}: {few} worker(s) leave {1 - one.cpu_busy:.0%}"
                         f" of the CPUs idle ({one.cpu_s_per_clip:.2f} CPU s/clip); {many} "
                         f"workers {more.cpu_busy:.0%} busy ({more.cpu_s_per_clip:.2f} CPU s/clip)"
                         f": {more.clips_per_min / one.clips_per_min:.2f}x")
    best = max((by[k] for k in by if k[1] == many), key=lambda c: c.clips_per_min)
    scale = scale_of(by, best.threads, workers)
    ok = None if scale is None else scale >= TARGET_SCALING
    ceiling = 60 * cores / best.cpu_s_per_clip
    label = thread_label(best.threads)
    lines += [
        f"scaling {many} / {few} worker(s) at the best thread setting ({label}): "
        f"{harness.fmt(scale, '.2f')} (target >= {TARGET_SCALING} where the cores allow it) "
        f"{harness.verdict(ok)}",
        f"what limits it: {cores} cores. {many} workers keep them {best.cpu_busy:.0%} busy; at "
        f"{best.cpu_s_per_clip:.2f} CPU s per clip the {cores} cores cap this machine at "
        f"~{ceiling:.0f} clips/min ({best.clips_per_min / ceiling:.2f} of that reached), so "
        "more workers cannot help here.",
    ]
    alone = [by[(t, few)] for t in settings if (t, few) in by]
    if alone and (top := max(c.cpu_busy for c in alone)) < 0.9:
        lines.append(f"{few} worker(s) alone leave at least {1 - top:.0%} of the CPUs idle "
                     "whatever the thread setting (likely the one-thread parts between the "
                     "model's bursts: audio decode, segmenting, files, database, queue hand-off); "
                     "a second worker fills that.")
    threaded = [c for c in alone if c.threads != 1]
    single = by.get((1, few))
    if single and threaded and all(c.cpu_s_per_clip > single.cpu_s_per_clip for c in threaded):
        lines.append("more than 1 thread per worker costs more CPU s per clip "
                     f"({', '.join(f'{c.cpu_s_per_clip:.2f}' for c in threaded)} vs "
                     f"{single.cpu_s_per_clip:.2f} with 1 thread): on {cores} cores, one thread "
                     "per worker and one worker per core is the efficient shape.")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--shortest", type=float, default=20.0, help="seconds (default 20)")
    parser.add_argument("--longest", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--threads", default="0,1,2",
                        help="CAPTIONER_CPU_THREADS settings to try (default 0,1,2; 0 = all)")
    parser.add_argument("--workers", default="1,2", help="worker process counts (default 1,2)")
    parser.add_argument("--timeout", type=float, default=3600, help="per configuration (s)")
    parser.add_argument("--keep", type=Path, default=None, help="keep data and logs here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.threads = [int(x) for x in args.threads.split(",")]
    args.workers = sorted(int(x) for x in args.workers.split(","))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from captioner import media

    clips = harness.short_clips(args.clips, shortest=args.shortest, longest=args.longest)
    audio_s = sum(media.probe(c).duration for c in clips)
    harness.log(f"{len(clips)} clips, {audio_s:.0f} s of audio in all, {os.cpu_count()} CPUs")
    results: list[Config] = []
    with harness.processes(args.keep) as procs:
        env = harness.service_env(procs.folder / "data",
                                  CAPTIONER_BROKER_URL=harness.start_redis(procs))
        harness.init_store(env)
        client = harness.Client(harness.start_web(procs, env), harness.producer_token(env))
        for threads in args.threads:
            for workers in args.workers:
                try:
                    c = run_config(procs, env, client, clips, audio_s, threads, workers,
                                   args.timeout)
                except RuntimeError as exc:
                    print(f"threads {threads}, {workers} worker(s) failed: {exc}")
                    return 1
                results.append(c)
                harness.log(f"  threads {thread_label(threads)}, {workers} worker(s): "
                            f"{c.seconds:.1f} s, {c.clips_per_min:.2f} clips/min, "
                            f"CPU busy {c.cpu_busy:.0%}")
    print(f"{len(clips)} clips ({args.shortest:.0f}-{args.longest:.0f} s, {audio_s:.0f} s of audio)"
          f" per configuration, Redis broker, {os.cpu_count()} CPUs")
    print("\n".join(report(results, args.workers)))
    harness.save_json(args.json, {
        "clips": len(clips), "audio_s": audio_s, "cpus": os.cpu_count(),
        "configs": [{**asdict(c), "clips_per_min": c.clips_per_min,
                     "cpu_s_per_clip": c.cpu_s_per_clip,
                     "x_real_time": c.x_real_time} for c in results],
        "scaling": {str(t): scale_of({(c.threads, c.workers): c for c in results}, t,
                                     args.workers) for t in args.threads},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
