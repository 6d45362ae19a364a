"""Speech to timed words with faster-whisper: int8 on CPU, VAD, guards against invented text.

``transcribe`` is a generator of segments (they arrive while the model runs) so callers can
report progress and save partial results; ``load_model`` keeps one model per process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.vad import VadOptions, get_speech_timestamps

from captioner.errors import CaptionerError
from captioner.media import SAMPLE_RATE
from captioner.results import Segment, Word

COLLAPSED_WORD_S = 0.05  # a spoken word is never this short; Whisper's alignment lost it
SECONDS_PER_LETTER = 0.065  # broadcast speech, ~15 letters a second
ONSET_PAUSE_S = 0.15  # a word after a pause this long gets its onset checked by VAD
ONSET_VAD = VadOptions(speech_pad_ms=0, min_speech_duration_ms=50, min_silence_duration_ms=100)


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding settings. Defaults favour broadcast captions over raw speed."""

    language: str | None = None  # None: detect (multilingual models only)
    beam_size: int = 5
    # >0: faster-whisper's BatchedInferencePipeline decodes this many VAD chunks at once.
    # On 2 CPU cores it captions the 3-min sample in half the time (WER 0.15 vs 0.13).
    batch_size: int = 8
    vad: bool = True
    # A segment is dropped as invented when the model itself doubts anyone spoke.
    max_no_speech_prob: float = 0.6
    min_avg_logprob: float = -1.0
    max_compression_ratio: float = 2.4


@dataclass
class LanguageInfo:
    language: str
    probability: float


@lru_cache(maxsize=2)
def load_model(model_dir: str, device: str = "cpu", compute_type: str = "int8",
               cpu_threads: int = 0) -> WhisperModel:
    """Load once per process: loading costs seconds, a worker serves many clips."""
    return WhisperModel(
        model_dir, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
        local_files_only=True,
    )


def transcribe(
    model: WhisperModel,
    audio: np.ndarray,
    options: TranscribeOptions,
    offset: float = 0.0,
    on_language: Callable[[LanguageInfo], None] | None = None,
) -> Iterator[Segment]:
    """Yield segments with word times shifted by ``offset`` (the audio stream's start)."""
    raw_segments, info = _decode(model, audio, options)
    if on_language:
        on_language(LanguageInfo(info.language, info.language_probability))
    if options.batch_size > 0:
        shifted = _redecode_failures(model, audio, raw_segments, options, info.language)
    else:  # sequential decoding already retries at higher temperatures itself
        shifted = ((raw, 0.0) for raw in raw_segments)
    previous: Segment | None = None
    for raw, shift in shifted:
        segment = _to_segment(raw, offset + shift)
        if _is_invented(segment, previous, options):
            continue
        floor = previous.words[-1].end if previous else offset
        words = repair_collapsed_words(segment.words, floor)
        segment.words = refine_onsets(words, audio, offset, floor)
        segment.start = segment.words[0].start
        previous = segment
        yield segment


def decode_options(options: TranscribeOptions, language: str | None) -> dict[str, object]:
    """The faster-whisper keyword arguments we run with (the benchmarks reuse them)."""
    kwargs: dict[str, object] = {
        "language": language,
        "beam_size": options.beam_size,
        "word_timestamps": True,
        "vad_filter": options.vad,
        "vad_parameters": {"min_silence_duration_ms": 500, "speech_pad_ms": 200},
        # Conditioning on earlier text is what lets Whisper loop on a phrase for minutes.
        "condition_on_previous_text": False,
        "compression_ratio_threshold": options.max_compression_ratio,
        "log_prob_threshold": options.min_avg_logprob,
        "no_speech_threshold": options.max_no_speech_prob,
    }
    if options.batch_size > 0:
        kwargs["batch_size"] = options.batch_size
    else:
        kwargs["hallucination_silence_threshold"] = 2.0  # sequential decoding only
    return kwargs


def _decode(model: WhisperModel, audio: np.ndarray, options: TranscribeOptions):
    kwargs = decode_options(options, _language_for(model, options.language))
    if options.batch_size > 0:
        return BatchedInferencePipeline(model).transcribe(audio, **kwargs)
    return model.transcribe(audio, **kwargs)


def _failed(raw, options: TranscribeOptions) -> bool:
    """A batched chunk sequential decoding would have retried at a higher temperature:
    a loop (the same phrase again and again) or text the model doubts, where it heard speech."""
    if raw.compression_ratio > options.max_compression_ratio:
        return True
    return raw.avg_logprob < options.min_avg_logprob and (
        raw.no_speech_prob <= options.max_no_speech_prob)


def _redecode_failures(model: WhisperModel, audio: np.ndarray, raw_segments: Iterable,
                       options: TranscribeOptions, language: str | None) -> Iterator[tuple]:
    """Yield (segment, seconds to add) with failed batched chunks decoded again one by one.

    The batched pipeline decodes at one temperature only, so a chunk that falls into a loop
    is lost whole (a 30 s hole in a 30-min clip's captions). The audio between the last good
    word before it and the first good word after it is decoded again sequentially, with the
    usual temperature fallback, as whisper itself and the peers do for every window.
    """
    retry = replace(options, batch_size=0)
    kwargs = decode_options(retry, language)
    held_back = False
    good_end = 0.0
    for raw in raw_segments:
        if _failed(raw, options):
            held_back = True
            continue
        if held_back:
            yield from _decode_span(model, audio, good_end, _first_start(raw), kwargs)
            held_back = False
        good_end = raw.words[-1].end if raw.words else raw.end
        yield raw, 0.0
    if held_back:
        yield from _decode_span(model, audio, good_end, len(audio) / SAMPLE_RATE, kwargs)


def _first_start(raw) -> float:
    return raw.words[0].start if raw.words else raw.start


def _decode_span(model: WhisperModel, audio: np.ndarray, start: float, end: float,
                 kwargs: dict[str, object]) -> Iterator[tuple]:
    span = audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
    if len(span) < SAMPLE_RATE // 2:
        return
    segments, _info = model.transcribe(span, **kwargs)
    for raw in segments:
        yield raw, start


def repair_collapsed_words(words: list[Word], floor: float) -> list[Word]:
    """Give back their length to words Whisper's alignment squeezed to (almost) nothing.

    The first word after a pause often comes out with start == end at the point where the
    next word begins, so its caption would appear up to half a second late. Its start is moved
    back by a typical spoken length for its letters, never before the previous word's end.
    """
    repaired: list[Word] = []
    for w in words:
        if w.end - w.start < COLLAPSED_WORD_S:
            letters = sum(ch.isalnum() for ch in w.text)
            start = max(floor, w.end - letters * SECONDS_PER_LETTER, 0.0)
            w = Word(round(min(w.start, start), 3), w.end, w.text, w.probability)
        repaired.append(w)
        floor = w.end
    return repaired


def refine_onsets(words: list[Word], audio: np.ndarray, offset: float, floor: float) -> list[Word]:
    """Move the start of each word that follows a pause to where the voice really begins.

    Whisper places such a word at the start of its (padded) VAD window, ~0.2 s early, or late
    when alignment squeezed it. Silero VAD on a one-second window around the word finds the
    onset within a few hundredths of a second, for ~1% of the transcription's time.
    """
    refined: list[Word] = []
    for w in words:
        if w.start - floor >= ONSET_PAUSE_S or not refined and floor <= offset:
            lo, hi = max(floor, w.start - 0.3), min(w.end, w.start + 0.6)
            onset = _voice_onset(audio, offset, lo, hi)
            if onset is not None and onset < w.end - 0.02:
                w = Word(round(onset, 3), w.end, w.text, w.probability)
        refined.append(w)
        floor = w.end
    return refined


def _voice_onset(audio: np.ndarray, offset: float, lo: float, hi: float) -> float | None:
    first, last = int((lo - offset) * SAMPLE_RATE), int((hi - offset) * SAMPLE_RATE)
    window = audio[max(first, 0):max(last, 0)]
    if len(window) < SAMPLE_RATE // 20:
        return None
    speech = get_speech_timestamps(window, ONSET_VAD)
    return lo + speech[0]["start"] / SAMPLE_RATE if speech else None


def _language_for(model: WhisperModel, language: str | None) -> str | None:
    if model.model.is_multilingual:
        return language
    if language not in (None, "en"):
        raise CaptionerError(
            f"this model understands English only; for {language!r} use --model base"
        )
    return "en"


def _to_segment(raw, offset: float) -> Segment:
    return Segment(
        start=round(float(raw.start) + offset, 3),
        end=round(float(raw.end) + offset, 3),
        text=raw.text.strip(),
        words=_words(raw.words or [], offset),
        avg_logprob=raw.avg_logprob,
        no_speech_prob=raw.no_speech_prob,
        compression_ratio=raw.compression_ratio,
    )


def _words(raw_words, offset: float) -> list[Word]:
    """Whisper marks a new word with a leading space; a piece without one (".S." after "U")
    belongs to the word before, so it is glued on rather than shown as a word of its own."""
    words: list[Word] = []
    for w in raw_words:
        text = w.word.strip()
        if not text:
            continue
        start, end = float(w.start) + offset, float(max(w.end, w.start)) + offset
        if words and not w.word[:1].isspace():
            prev = words.pop()
            text, start = prev.text + text, prev.start
            w_prob = min(prev.probability, float(w.probability))
        else:
            w_prob = float(w.probability)
        words.append(Word(round(start, 3), round(end, 3), text, round(w_prob, 4)))
    return words


def _is_invented(segment: Segment, previous: Segment | None, options: TranscribeOptions) -> bool:
    """Text Whisper makes up over silence or music, or a phrase it repeats in a loop."""
    if not segment.words:
        return True
    if segment.compression_ratio > options.max_compression_ratio:
        return True
    doubtful = segment.avg_logprob < options.min_avg_logprob
    if segment.no_speech_prob > options.max_no_speech_prob and doubtful:
        return True
    return previous is not None and _same_text(previous.text, segment.text)


def _same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    return len(norm(a)) > 0 and norm(a) == norm(b)

