"""Quality figures against a reference: word error rate, cue sync, cues over no-speech, and
whether one tool's WER really differs from another's (paired bootstrap over sentences).

Used by the tests and the benchmarks. jiwer and whisper-normalizer come with the ``test``
and ``bench`` extras; they are imported only here.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    sentences: list[str] = field(default_factory=list)  # text of each, in order

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
            sentences=[s["text"] for s in doc["sentences"]],
        )


def _normalizer() -> Callable[[str], str]:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER after Whisper's English normalizer (numbers, spelling, punctuation unified)."""
    import jiwer

    norm = _normalizer()
    return float(jiwer.wer(norm(reference), norm(hypothesis)))


def sentence_errors(sentences: Sequence[str], hypothesis: str) -> tuple[list[int], list[int]]:
    """Words and word errors per reference sentence, for the whole hypothesis aligned at once.

    A substitution or deletion counts against the sentence of the reference word; an insertion
    against the sentence of the reference word that follows it (the last one at the end).
    """
    import jiwer

    norm = _normalizer()
    words = [norm(s).split() for s in sentences]
    owner = [i for i, w in enumerate(words) for _ in w]
    errors = [0] * len(words)
    hyp = norm(hypothesis)
    if not owner:
        raise ValueError("the reference has no words")
    if not hyp.split():  # jiwer refuses an empty hypothesis: every word is deleted
        return [len(w) for w in words], [len(w) for w in words]
    for chunk in jiwer.process_words(" ".join(" ".join(w) for w in words), hyp).alignments[0]:
        if chunk.type == "insert":
            errors[owner[min(chunk.ref_start_idx, len(owner) - 1)]] += (
                chunk.hyp_end_idx - chunk.hyp_start_idx)
        elif chunk.type != "equal":
            for k in range(chunk.ref_start_idx, chunk.ref_end_idx):
                errors[owner[k]] += 1
    return [len(w) for w in words], errors


@dataclass(frozen=True)
class WerDifference:
    """WER of tool a minus WER of tool b on the same sentences, with a 95% interval."""

    words: int
    errors_a: int
    errors_b: int
    low: float
    high: float
    share_a_worse: float  # of the resamples in which a made more errors than b

    @property
    def difference(self) -> float:
        return (self.errors_a - self.errors_b) / self.words


def paired_bootstrap(words: Sequence[int], errors_a: Sequence[int], errors_b: Sequence[int],
                     rounds: int = 10_000, seed: int = 0) -> WerDifference:
    """Resample sentences with replacement, both tools together (Bisani & Ney, 2004).

    A few words' difference on a few hundred words is within what another choice of sentences
    would give; the interval says whether a difference is more than that.
    """
    import numpy as np

    n, e_a, e_b = (np.asarray(x, dtype=np.int64) for x in (words, errors_a, errors_b))
    picks = np.random.default_rng(seed).integers(0, len(n), size=(rounds, len(n)))
    diffs = (e_a[picks].sum(axis=1) - e_b[picks].sum(axis=1)) / n[picks].sum(axis=1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return WerDifference(int(n.sum()), int(e_a.sum()), int(e_b.sum()), float(low), float(high),
                         float((diffs > 0).mean()))


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
