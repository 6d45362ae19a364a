"""One clip to captions: probe -> extract audio -> transcribe -> segment into cues.

The same function serves the CLI, the worker and the tests; ``on_progress`` is called as
segments arrive so callers can show or save progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from captioner import audio, media, models
from captioner.glossary import Glossary
from captioner.results import Cue, Segment, Transcript
from captioner.segment import CaptionStyle, segment
from captioner.transcribe import LanguageInfo, TranscribeOptions, load_model, transcribe


@dataclass(frozen=True)
class CaptionOptions:
    model: str = "tiny.en"
    language: str | None = None
    glossary: tuple[str, ...] = ()
    beam_size: int = 5
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0
    batch_size: int = 8  # 0: sequential decoding
    piece_s: float = audio.PIECE_S  # audio decoded and held at once
    style: CaptionStyle = field(default_factory=CaptionStyle)


@dataclass(frozen=True)
class Progress:
    stage: str  # "probe", "audio", "transcribe", "segment", "done"
    fraction: float  # of the audio transcribed, 0..1
    segments: list[Segment]


@dataclass
class CaptionResult:
    media: media.MediaInfo
    transcript: Transcript
    cues: list[Cue]
    model: str
    seconds: dict[str, float]  # wall time per stage

    @property
    def speed(self) -> float:
        """Times real time: clip seconds captioned per wall-clock second."""
        total = sum(self.seconds.values())
        return self.media.duration / total if total > 0 else 0.0


ProgressFn = Callable[[Progress], None]


def caption(
    path: Path | str,
    options: CaptionOptions,
    cache_dir: Path,
    on_progress: ProgressFn | None = None,
) -> CaptionResult:
    report = on_progress or (lambda _p: None)
    clock = _Clock()
    report(Progress("probe", 0.0, []))
    info = media.probe(path)
    model_dir = models.resolve(options.model, cache_dir)
    model = load_model(str(model_dir), options.device, options.compute_type, options.cpu_threads)
    clock.lap("load")

    language = LanguageInfo(options.language or "", 1.0)
    segments: list[Segment] = []
    glossary = Glossary(options.glossary)
    heard = max(info.duration - info.audio_start, 1e-6)
    decoded_end = 0.0
    # Audio arrives in pieces (minutes each), so memory stays flat however long the clip.
    for piece in audio.pieces(info, options.piece_s):
        decoded_end = info.audio_start + piece.start + len(piece.samples) / media.SAMPLE_RATE
        opts = TranscribeOptions(language=options.language or language.language or None,
                                 beam_size=options.beam_size, batch_size=options.batch_size)
        offset = info.audio_start + piece.start
        for seg in transcribe(model, piece.samples, opts, offset, _keep(language)):
            segments.append(glossary.apply(seg))
            done = (seg.end - info.audio_start) / heard
            report(Progress("transcribe", min(1.0, done), segments))
    clock.lap("transcribe")
    if decoded_end > info.duration + 1.0:  # the header understated it: trust the audio
        info = replace(info, duration=round(decoded_end, 3))

    transcript = Transcript(language.language, language.probability, info.duration, segments)
    cues = segment(transcript.words, options.style, duration=info.duration)
    clock.lap("segment")
    report(Progress("done", 1.0, segments))
    return CaptionResult(info, transcript, cues, options.model, clock.laps)


def _keep(language: LanguageInfo):
    """Remember the first detected language; later pieces are decoded in it."""

    def keep(found: LanguageInfo) -> None:
        if not language.language:
            language.language, language.probability = found.language, found.probability

    return keep


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
