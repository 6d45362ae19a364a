"""Word error rate of ours, raw faster-whisper and whisper-ctranslate2 on every sample clip.

Each tool captions each clip once (the same commands as ``caption_speed.py``); errors are counted
per reference sentence, pooled over all clips, and ours is compared with each other tool by a
paired bootstrap over those sentences, so a difference of a few words is shown for what it is.

    .venv/bin/python bench/wer_samples.py [--clips samples/a.mp4 samples/b.mp4] [--model base]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import caption_speed as cs  # beside this script; it also puts the repo on sys.path

from captioner import models
from captioner.config import Settings
from captioner.evaluate import WerDifference, cues_text, paired_bootstrap, sentence_errors

TOOLS = [cs.OURS, cs.RAW, cs.PEER]


@dataclass
class Tally:
    """One tool's words and errors per reference sentence, clip after clip."""

    words: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    per_clip: dict[str, tuple[int, int]] = field(default_factory=dict)  # clip -> words, errors

    def add(self, clip: str, words: list[int], errors: list[int]) -> None:
        self.words += words
        self.errors += errors
        self.per_clip[clip] = (sum(words), sum(errors))

    @property
    def wer(self) -> float:
        return sum(self.errors) / sum(self.words)


def sample_clips() -> list[Path]:
    return sorted(p for p in (cs.ROOT / "samples").glob("*.mp4")
                  if p.with_suffix(".ref.json").is_file())


def score_clip(clip: Path, work: Path, model: str, model_dir: Path, peer: str,
               tallies: dict[str, Tally]) -> list[str]:
    """Run every tool once on the clip; add its sentence errors; return failure lines."""
    copy, ref = cs.snapshot(clip, work)
    if ref is None or not ref.sentences:
        raise SystemExit(f"{clip}: no reference sentences beside it ({clip.stem}.ref.json)")
    results = cs.run_all(TOOLS, copy, work, 1, model, model_dir, peer)
    for name, result in results.items():
        text = cues_text(cs.read_vtt(Path(result.good_runs[-1].vtt))) if result.ok else ""
        tallies[name].add(clip.name, *sentence_errors(ref.sentences, text))
    return cs.failure_lines(results)


def table(tallies: dict[str, Tally]) -> str:
    clips = list(tallies[cs.OURS].per_clip)
    lines = [f"{'clip':<22}{'words':>7}" + "".join(f"{t:>24}" for t in tallies)]
    for clip in clips:
        words = tallies[cs.OURS].per_clip[clip][0]
        cells = [f"{e:>4} errors = {e / words:.3f}" for _, e in
                 (t.per_clip[clip] for t in tallies.values())]
        lines.append(f"{clip:<22}{words:>7}" + "".join(f"{c:>24}" for c in cells))
    total = sum(tallies[cs.OURS].words)
    cells = [f"{sum(t.errors):>4} errors = {t.wer:.3f}" for t in tallies.values()]
    lines.append(f"{'all samples':<22}{total:>7}" + "".join(f"{c:>24}" for c in cells))
    return "\n".join(lines)


def difference_line(other: str, diff: WerDifference, sentences: int) -> str:
    return (f"ours - {other}: {diff.difference:+.3f} WER ({diff.errors_a - diff.errors_b:+d} "
            f"words of {diff.words}), 95% interval [{diff.low:+.3f}, {diff.high:+.3f}] "
            f"(paired bootstrap over {sentences} sentences); ours worse in "
            f"{100 * diff.share_a_worse:.0f}% of resamples")


def verdict(tallies: dict[str, Tally], diff: WerDifference) -> str:
    ours, peer = tallies[cs.OURS].wer, tallies[cs.PEER].wer
    if ours <= peer:
        result = "PASS"
    elif diff.low <= 0:
        result = "FAIL (by fewer words than the interval: not a real difference)"
    else:
        result = "FAIL"
    return (f"WER on the samples: ours {ours:.3f} vs whisper-ctranslate2 {peer:.3f} "
            f"(target: no worse): {result}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, nargs="+", default=None,
                        help="clips with a .ref.json beside them (default: every sample)")
    parser.add_argument("--model", default="tiny.en", help="tiny.en, base or a model directory")
    parser.add_argument("--peer-bin", default=None)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep every tool's VTT and log in this directory")
    parser.add_argument("--json", type=Path, default=None, help="save the figures here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clips = [c.resolve() for c in args.clips] if args.clips else sample_clips()
    model_dir = models.resolve(args.model, Settings.from_env().cache_dir)
    peer = cs.peer_binary(args.peer_bin)
    tallies = {t: Tally() for t in TOOLS}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wer-bench-") as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        for clip in clips:
            print(f"{clip.name}:", file=sys.stderr)
            failures += score_clip(clip, work / clip.stem, args.model, model_dir, peer, tallies)

    ours = tallies[cs.OURS]
    diffs = {t: paired_bootstrap(ours.words, ours.errors, tallies[t].errors) for t in TOOLS[1:]}
    print(f"\nWER per clip and pooled, model {args.model} (whisper normalizer, errors per "
          "reference sentence)")
    print(table(tallies))
    print()
    for other, diff in diffs.items():
        print(difference_line(other, diff, len(ours.words)))
    print(verdict(tallies, diffs[cs.PEER]))
    for line in failures:
        print(line)
    if args.json:
        doc = {"model": args.model, "clips": [str(c) for c in clips],
               "tools": {t: {"wer": x.wer, **asdict(x)} for t, x in tallies.items()},
               "ours_minus": {t: {**asdict(d), "difference": d.difference}
                              for t, d in diffs.items()}}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
