"""The benchmark scripts stay runnable, and the WER verdict reads the interval right.

The benchmarks themselves take minutes and belong outside CI; these checks catch a script
that no longer imports or parses its options, and test the pure parts of the WER comparison.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from captioner.evaluate import paired_bootstrap

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name != "harness.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_script_starts(script: str) -> None:
    proc = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True,
                          text=True, timeout=120, cwd=BENCH.parent)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout


@pytest.fixture
def wer_samples(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import wer_samples

    return wer_samples


def _tallies(wer_samples, ours: list[int], peer: list[int]) -> dict:
    tallies = {t: wer_samples.Tally() for t in wer_samples.TOOLS}
    words = [20] * len(ours)
    for name, errors in ((wer_samples.cs.OURS, ours), (wer_samples.cs.RAW, ours),
                         (wer_samples.cs.PEER, peer)):
        tallies[name].add("clip.mp4", words, errors)
    return tallies


@pytest.mark.parametrize(("ours", "peer", "expected"), [
    ([1] * 30, [2] * 30, "PASS"),
    ([2] * 30, [2] * 30, "PASS"),
    ([3, 2] * 15, [2, 3] * 14 + [2, 1], "FAIL (by fewer words than the interval"),
    ([5] * 30, [1] * 30, "FAIL"),
])
def test_wer_verdict(wer_samples, ours, peer, expected) -> None:
    tallies = _tallies(wer_samples, ours, peer)
    diff = paired_bootstrap(tallies["ours"].words, ours, peer)
    line = wer_samples.verdict(tallies, diff)
    assert line.split("(target: no worse): ")[1].startswith(expected), line
    if expected == "FAIL":
        assert "interval" not in line
