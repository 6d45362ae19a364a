"""Quality figures against a reference: word error rate, cue sync, cues over no-speech.

Used by the tests and the benchmarks. jiwer and whisper-normalizer come with the ``test``
and ``bench`` extras; they are imported only here.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from captioner.results import Cue


@dataclass(frozen=True)
class Reference:
    """What a sample clip really says and when (known from how it was built)."""

    title: str
    duration: float
    text: str
    sentence_starts: list[float]
    sentence_ends: list[float]
    no_speech: list[tuple[float, float]]

    @classmethod
    def load(cls, path: Path) -> Reference:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            title=doc["title"],
            duration=doc["duration"],
            text=doc["text"],
            sentence_starts=[s["start"] for s in doc["sentences"]],
            sentence_ends=[s["end"] for s in doc["sentences"]],
            no_speech=[(a, b) for a, b in doc.get("no_speech", [])],
        )


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER after Whisper's English normalizer (numbers, spelling, punctuation unified)."""
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    return float(jiwer.wer(norm(reference), norm(hypothesis)))


def sync_offsets(sentence_starts: Sequence[float], cues: Sequence[Cue]) -> list[float]:
    """For each reference sentence start, the distance to the nearest cue start."""
    starts = [c.start for c in cues]
    if not starts:
        return [float("inf")] * len(sentence_starts)
    return [min(abs(s - c) for c in starts) for s in sentence_starts]


def median_sync(sentence_starts: Sequence[float], cues: Sequence[Cue]) -> float:
    return statistics.median(sync_offsets(sentence_starts, cues))


def cues_in_no_speech(no_speech: Sequence[tuple[float, float]], cues: Sequence[Cue],
                      tolerance: float = 0.5) -> list[Cue]:
    """Cues that overlap a no-speech stretch by more than ``tolerance`` seconds."""
    return [
        c for c in cues for a, b in no_speech
        if min(c.end, b) - max(c.start, a) > tolerance
    ]


def cues_text(cues: Sequence[Cue]) -> str:
    return " ".join(" ".join(c.lines) for c in cues)
