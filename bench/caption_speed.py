"""Caption one clip with ours, raw faster-whisper and whisper-ctranslate2; compare speed and style.

Each tool runs as its own process, interleaved, ``--repeat`` times; wall time and peak RSS are
measured per process (``os.wait4``). Every tool's VTT is graded by the same rules: our
``CaptionStyle`` (``captioner.segment.compliance``) and, when ``<clip>.ref.json`` lies beside
the clip, WER, sentence-start sync and cues over no-speech stretches.

    .venv/bin/python bench/caption_speed.py [--clip samples/seed-news.mp4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the package

from captioner import media, models  # noqa: E402
from captioner.config import Settings  # noqa: E402
from captioner.evaluate import (  # noqa: E402
    Reference,
    cues_in_no_speech,
    cues_text,
    median_sync,
    word_error_rate,
)
from captioner.results import Cue  # noqa: E402

OURS, RAW, PEER = "ours", "raw faster-whisper", "whisper-ctranslate2"
TARGET_VS_RAW = 1.05  # our whole pipeline may cost at most 5% over the bare model
TARGET_VS_PEER = 0.7  # and must take at most 70% of the peer's time

STAGES_SNIPPET = """
import json, sys
from captioner.config import Settings
from captioner.pipeline import CaptionOptions, caption
s = Settings.from_env()
opts = CaptionOptions(model=sys.argv[2], beam_size=s.beam_size, device=s.device,
                      compute_type=s.compute_type, cpu_threads=s.cpu_threads)
print(json.dumps(caption(sys.argv[1], opts, s.cache_dir).seconds))
"""


@dataclass
class Run:
    seconds: float  # wall clock
    cpu_s: float  # user + system CPU of the process and its children (ffmpeg)
    peak_rss_mib: float
    returncode: int
    log: str
    vtt: str | None
    stages: dict[str, float] | None = None  # seconds per stage, where the tool reports them


@dataclass
class Grade:
    cues: int
    max_line_chars: int
    max_cue_s: float
    compliant_pct: float
    wer: float | None = None
    median_sync_s: float | None = None
    cues_in_no_speech: int | None = None
    cues_breaking: dict[str, int] = field(default_factory=dict)  # style rule -> cues


@dataclass
class ToolResult:
    name: str
    runs: list[Run] = field(default_factory=list)
    grade: Grade | None = None
    stages_run: Run | None = None  # the run whose stages are shown

    @property
    def good_runs(self) -> list[Run]:
        """Runs that exited 0 and wrote a VTT; figures come from these only."""
        return [r for r in self.runs if r.returncode == 0 and r.vtt]

    @property
    def ok(self) -> bool:
        return bool(self.good_runs)

    @property
    def wall_s(self) -> float | None:
        return statistics.median(r.seconds for r in self.good_runs) if self.ok else None

    @property
    def cpu_s(self) -> float | None:
        return statistics.median(r.cpu_s for r in self.good_runs) if self.ok else None

    @property
    def peak_rss_mib(self) -> float | None:
        return max(r.peak_rss_mib for r in self.good_runs) if self.ok else None

    def median_run(self) -> Run:
        runs = sorted(self.good_runs, key=lambda r: r.seconds)
        return runs[(len(runs) - 1) // 2]


# ---- running the tools ---------------------------------------------------------------------

def peer_binary(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "whisper-ctranslate2"
    return str(beside) if beside.exists() else shutil.which("whisper-ctranslate2") or (
        "whisper-ctranslate2")  # not installed: its run fails with "cannot start"


def command(tool: str, clip: Path, out: Path, model: str, model_dir: Path, peer: str) -> list[str]:
    """The command line for one run of ``tool``; it writes its VTT under ``out``."""
    if tool == OURS:
        return [sys.executable, "-m", "captioner.cli", "caption", str(clip),
                "-o", str(out / "ours.vtt"), "--format", "vtt", "--model", model]
    if tool == RAW:
        return [sys.executable, str(ROOT / "bench" / "raw_whisper.py"), str(clip),
                str(out / "raw.vtt"), "--model", model, "--stages", str(out / "stages.json")]
    # The peer with its defaults (device auto, compute_type auto, no VAD, no word times, ...);
    # only the model is pointed at the same local directory, so nothing is downloaded.
    return [peer, str(clip), "--model_directory", str(model_dir),
            "--output_dir", str(out), "--output_format", "vtt"]


def measure(cmd: list[str], log: Path) -> tuple[float, float, float, int]:
    """Run ``cmd``; return wall seconds, CPU seconds, peak RSS (MiB) and exit code."""
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    with log.open("wb") as out:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        except OSError as exc:
            out.write(f"cannot start {cmd[0]!r}: {exc}\n".encode())
            return 0.0, 0.0, 0.0, 127
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, proc.returncode  # ru_maxrss: KiB on Linux


def run_once(tool: str, clip: Path, out: Path, model: str, model_dir: Path, peer: str) -> Run:
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.txt"
    seconds, cpu, rss, code = measure(command(tool, clip, out, model, model_dir, peer), log)
    vtts = sorted(out.glob("*.vtt"))
    stages = out / "stages.json"
    return Run(round(seconds, 3), round(cpu, 3), round(rss, 1), code, str(log),
               str(vtts[0]) if vtts else None,
               json.loads(stages.read_text()) if stages.is_file() else None)


def run_all(tools: list[str], clip: Path, work: Path, repeat: int, model: str, model_dir: Path,
            peer: str) -> dict[str, ToolResult]:
    """Interleave the tools; each round starts with the next tool so none is always first."""
    results = {t: ToolResult(t) for t in tools}
    for round_ in range(repeat):
        shift = round_ % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            slug = tool.split()[0].replace("-", "_")
            run = run_once(tool, clip, work / f"{slug}-{round_}", model, model_dir, peer)
            results[tool].runs.append(run)
            state = "ok" if run.returncode == 0 and run.vtt else f"FAILED (exit {run.returncode})"
            print(f"  round {round_ + 1}/{repeat} {tool:<20} {run.seconds:7.2f} s wall "
                  f"{run.cpu_s:7.2f} s CPU {run.peak_rss_mib:7.1f} MiB  {state}",
                  file=sys.stderr)
    return results


def our_stages(clip: Path, work: Path, model: str) -> Run:
    """One extra run of our pipeline (not counted above) that reports seconds per stage."""
    out = work / "ours-stages"
    out.mkdir(parents=True, exist_ok=True)
    log = out / "log.txt"
    seconds, cpu, rss, code = measure([sys.executable, "-c", STAGES_SNIPPET, str(clip), model],
                                      log)
    lines = log.read_text(errors="replace").splitlines()
    found = next((x for x in reversed(lines) if x.startswith("{")), None) if code == 0 else None
    stages = json.loads(found) if found else None
    return Run(round(seconds, 3), round(cpu, 3), round(rss, 1), code, str(log), None, stages)


# ---- grading the VTT files -----------------------------------------------------------------

def parse_time(stamp: str) -> float:
    seconds = 0.0
    for part in stamp.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def read_vtt(path: Path) -> list[Cue]:
    import webvtt

    return [
        Cue(parse_time(c.start), parse_time(c.end), [html.unescape(x) for x in c.lines])
        for c in webvtt.read(str(path))
    ]


def grade(cues: list[Cue], duration: float, ref: Reference | None) -> Grade:
    from captioner.segment import CaptionStyle, check, compliance

    style = CaptionStyle()
    breaking: dict[str, set[int]] = {}
    for v in check(cues, [], style, duration):
        breaking.setdefault(v.rule, set()).add(v.cue_index)
    result = Grade(
        cues=len(cues),
        max_line_chars=max((len(line) for c in cues for line in c.lines), default=0),
        max_cue_s=round(max((c.duration for c in cues), default=0.0), 3),
        compliant_pct=round(100 * compliance(cues, [], style, duration), 1),
        cues_breaking={rule: len(ids) for rule, ids in sorted(breaking.items())},
    )
    if ref is not None:
        result.wer = round(word_error_rate(ref.text, cues_text(cues)), 4)
        result.median_sync_s = round(median_sync(ref.sentence_starts, cues), 3)
        result.cues_in_no_speech = len(cues_in_no_speech(ref.no_speech, cues))
    return result


# ---- reporting -----------------------------------------------------------------------------

def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt(value: float | int | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def table(results: dict[str, ToolResult], duration: float) -> str:
    tools = list(results.values())
    raw, peer = results.get(RAW), results.get(PEER)

    def row(label: str, values: list[str]) -> str:
        return f"{label:<28}" + "".join(f"{v:>22}" for v in values)

    def metric(label: str, get: Callable[[ToolResult], float | None], spec: str) -> str:
        return row(label, [fmt(get(t), spec) for t in tools])

    def graded(name: str) -> Callable[[ToolResult], float | None]:
        return lambda t: getattr(t.grade, name) if t.grade else None

    lines = [
        row("", [t.name for t in tools]),
        metric("wall time (s)", lambda t: t.wall_s, ".2f"),
        metric("ratio to raw faster-whisper", lambda t: ratio(t.wall_s, raw and raw.wall_s), ".2f"),
        metric("ratio to whisper-ctranslate2",
               lambda t: ratio(t.wall_s, peer and peer.wall_s), ".2f"),
        metric("x real time", lambda t: ratio(duration, t.wall_s), ".1f"),
        metric("CPU time (s)", lambda t: t.cpu_s, ".2f"),
        metric("CPU ratio to raw", lambda t: ratio(t.cpu_s, raw and raw.cpu_s), ".2f"),
        metric("peak RSS (MiB)", lambda t: t.peak_rss_mib, ".0f"),
        metric("cues", graded("cues"), "d"),
        metric("max line length (chars)", graded("max_line_chars"), "d"),
        metric("max cue duration (s)", graded("max_cue_s"), ".2f"),
        metric("style compliant cues (%)", graded("compliant_pct"), ".1f"),
        metric("WER vs reference", graded("wer"), ".3f"),
        metric("median sentence sync (s)", graded("median_sync_s"), ".3f"),
        metric("cues in no-speech", graded("cues_in_no_speech"), "d"),
    ]
    return "\n".join(lines)


def verdict(results: dict[str, ToolResult]) -> str:
    ours, raw, peer = results[OURS], results[RAW], results[PEER]
    pct = {k: f"{r.grade.compliant_pct:.1f}%" if r.grade else "n/a" for k, r in results.items()}
    return "\n".join([
        f"ours / raw faster-whisper: {fmt(ratio(ours.wall_s, raw.wall_s), '.2f')} "
        f"(target <= {TARGET_VS_RAW:.2f})",
        f"ours / whisper-ctranslate2: {fmt(ratio(ours.wall_s, peer.wall_s), '.2f')} "
        f"(target <= {TARGET_VS_PEER:.1f})",
        f"style compliance: ours {pct[OURS]} vs whisper-ctranslate2 {pct[PEER]}",
        wer_line(ours, peer),
    ])


def wer_line(ours: ToolResult, peer: ToolResult) -> str:
    if not (ours.grade and peer.grade) or ours.grade.wer is None or peer.grade.wer is None:
        return "WER: no reference for this clip"
    a, b = ours.grade.wer, peer.grade.wer
    # One clip is a few hundred words: a word or two either way is noise. The target (no worse
    # on the samples) is judged pooled over all of them, with an interval, by wer_samples.py.
    return (f"WER on this clip: ours {a:.3f} vs whisper-ctranslate2 {b:.3f} "
            f"({'ours lower or equal' if a <= b else 'ours higher'}; the target is judged "
            "on all samples by bench/wer_samples.py)")


def stage_lines(results: dict[str, ToolResult]) -> list[str]:
    """Seconds per stage; "rest" is process start, imports and writing the output."""
    lines = []
    for r in results.values():
        run = r.stages_run
        if run and not run.stages:
            lines.append(f"{r.name} stages: that run failed (exit {run.returncode}), see {run.log}")
        elif run and run.stages:
            parts = ", ".join(f"{k} {v:.2f}" for k, v in run.stages.items())
            rest = run.seconds - sum(run.stages.values())
            lines.append(f"{r.name} stages (s, one run of {run.seconds:.2f} s wall): "
                         f"{parts}, rest {rest:.2f}")
    return lines


def rule_lines(results: dict[str, ToolResult]) -> list[str]:
    lines = []
    for r in results.values():
        if r.grade:
            broken = ", ".join(f"{k} {n}" for k, n in r.grade.cues_breaking.items()) or "none"
            lines.append(f"{r.name} cues breaking each style rule: {broken}")
    return lines


def failure_lines(results: dict[str, ToolResult]) -> list[str]:
    lines = []
    for r in results.values():
        for run in r.runs:
            if run.returncode != 0 or not run.vtt:
                tail = Path(run.log).read_text(errors="replace").splitlines()[-15:]
                lines += [f"{r.name} failed (exit {run.returncode}, log {run.log}):", *tail]
                break
    return lines


# ---- main ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=ROOT / "samples" / "seed-news.mp4")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool (default 1)")
    parser.add_argument("--model", default="tiny.en", help="tiny.en, base or a model directory")
    parser.add_argument("--json", type=Path, default=None, help="save the results here")
    parser.add_argument("--stages", action="store_true",
                        help="one extra untimed run of our pipeline to show seconds per stage")
    parser.add_argument("--peer-bin", default=None,
                        help="whisper-ctranslate2 executable (default: beside this Python)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep every tool's VTT and log in this directory")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def snapshot(clip: Path, work: Path) -> tuple[Path, Reference | None]:
    """Copy the clip (and its reference) so every run reads the same bytes, even if the
    sample is rebuilt while the benchmark runs."""
    (work / "clip").mkdir(parents=True, exist_ok=True)
    copy = Path(shutil.copy2(clip, work / "clip" / clip.name))
    ref_path = clip.with_suffix(".ref.json")
    if not ref_path.is_file():
        return copy, None
    return copy, Reference.load(Path(shutil.copy2(ref_path, work / "clip" / ref_path.name)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings.from_env()
    # Resolving here also verifies model.bin once (the hash is remembered in the cache dir),
    # so no timed run pays for the one-time SHA-256 check.
    model_dir = models.resolve(args.model, settings.cache_dir)
    tools = [OURS, RAW, PEER]

    with tempfile.TemporaryDirectory(prefix="caption-bench-") as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        clip, ref = snapshot(args.clip.resolve(), work)
        duration = media.probe(clip).duration
        print(f"clip {clip.name} ({duration:.1f} s), model {args.model} ({model_dir}), "
              f"{args.repeat} run(s) each, {os.cpu_count()} CPUs", file=sys.stderr)
        results = run_all(tools, clip, work, args.repeat, args.model, model_dir,
                          peer_binary(args.peer_bin))
        for r in results.values():
            if r.ok:
                r.grade = grade(read_vtt(Path(r.good_runs[-1].vtt)), duration, ref)
        if results[RAW].ok:
            results[RAW].stages_run = results[RAW].median_run()
        if args.stages:
            results[OURS].stages_run = our_stages(clip, work, args.model)
        failures = failure_lines(results)

    ours, raw, peer = results[OURS], results[RAW], results[PEER]
    print(f"\n{clip.name}: {duration:.1f} s, model {args.model}, "
          f"{args.repeat} run(s) per tool (median wall time, max peak RSS)")
    print(table(results, duration))
    print()
    print(verdict(results))
    print(f"CPU time: ours / raw faster-whisper {fmt(ratio(ours.cpu_s, raw.cpu_s), '.2f')}, "
          f"ours / whisper-ctranslate2 {fmt(ratio(ours.cpu_s, peer.cpu_s), '.2f')} "
          "(steadier than wall time on a busy machine)")
    for line in rule_lines(results) + stage_lines(results) + failures:
        print(line)
    if args.json:
        save_json(args.json, args.clip.resolve(), duration, args, results)
    return 1 if failures else 0


def save_json(path: Path, clip: Path, duration: float, args: argparse.Namespace,
              results: dict[str, ToolResult]) -> None:
    ours, raw, peer = results[OURS], results[RAW], results[PEER]
    doc = {
        "clip": str(clip), "duration": duration, "model": args.model, "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "ratios": {"ours_vs_raw": ratio(ours.wall_s, raw.wall_s),
                   "ours_vs_peer": ratio(ours.wall_s, peer.wall_s),
                   "ours_vs_raw_cpu": ratio(ours.cpu_s, raw.cpu_s),
                   "ours_vs_peer_cpu": ratio(ours.cpu_s, peer.cpu_s),
                   "targets": {"ours_vs_raw": TARGET_VS_RAW, "ours_vs_peer": TARGET_VS_PEER}},
        "tools": {
            r.name: {**asdict(r), "wall_s": r.wall_s, "cpu_s": r.cpu_s,
                     "peak_rss_mib": r.peak_rss_mib, "ok": r.ok}
            for r in results.values()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
