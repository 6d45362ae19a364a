"""Pure logic around the model: word gluing, invented-text guards, glossary parsing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from captioner.media import SAMPLE_RATE
from captioner.results import Segment, Word
from captioner.transcribe import (
    TranscribeOptions,
    _is_invented,
    _redecode_failures,
    _words,
    refine_onsets,
    repair_collapsed_words,
)


def _raw(word: str, start: float, end: float, p: float = 0.9) -> SimpleNamespace:
    return SimpleNamespace(word=word, start=start, end=end, probability=p)


def test_pieces_without_a_leading_space_join_the_word_before():
    raw = [_raw(" U", 0.0, 0.2), _raw(".S.", 0.2, 0.5, 0.5), _raw(" Secretary", 0.5, 1.0)]
    words = _words(raw, offset=2.0)
    assert [w.text for w in words] == ["U.S.", "Secretary"]
    assert (words[0].start, words[0].end, words[0].probability) == (2.0, 2.5, 0.5)


def test_empty_words_are_dropped_and_times_never_run_backwards():
    words = _words([_raw(" ", 0, 1), _raw(" yes", 1.0, 0.8)], offset=0.0)
    assert words == [Word(1.0, 1.0, "yes", 0.9)]


def _seg(text: str, **kw) -> Segment:
    base = {"avg_logprob": -0.2, "no_speech_prob": 0.1, "compression_ratio": 1.3}
    return Segment(0, 1, text, [Word(0, 1, text)], **{**base, **kw})


def test_guards_drop_doubtful_repeated_and_looping_text():
    opts = TranscribeOptions()
    assert not _is_invented(_seg("Kerry spoke."), None, opts)
    assert _is_invented(_seg("Thank you.", no_speech_prob=0.9, avg_logprob=-1.5), None, opts)
    assert _is_invented(_seg("la la la la", compression_ratio=3.1), None, opts)
    assert _is_invented(_seg("Kerry spoke!"), _seg("kerry spoke."), opts)
    assert _is_invented(Segment(0, 1, "", []), None, opts)



def test_collapsed_words_get_their_length_back_but_never_overlap():
    words = [Word(10.0, 10.4, "dialogue."), Word(13.13, 13.13, "Secretary"),
             Word(13.13, 13.57, "Kerry"), Word(13.57, 13.57, "met"), Word(13.6, 13.9, "late")]
    fixed = repair_collapsed_words(words, floor=0.0)
    assert fixed[1] == Word(12.545, 13.13, "Secretary")  # 9 letters back from its end
    assert fixed[3].start == 13.57, "'met' cannot start before 'Kerry' ends"
    assert [w.text for w in fixed] == [w.text for w in words]
    assert repair_collapsed_words([Word(0.1, 0.1, "Hello")], floor=0.0)[0].start == 0.0


def test_vad_moves_pause_initial_words_to_the_real_onset():
    # Real audio: the late-audio sample's first sentence starts at 2.548 s (from how it was built).
    from captioner import media
    from tests.conftest import SAMPLES

    info = media.probe(SAMPLES / "late-audio.mp4")
    audio = media.extract_audio(info)
    # The audio is silent from 3.0 s to 3.3 s: the voice pauses after "U.S.".
    early = [Word(2.34, 3.14, "U.S."), Word(3.58, 3.94, "Secretary"), Word(3.94, 4.24, "of")]
    refined = refine_onsets(early, audio, info.audio_start, floor=info.audio_start)
    assert abs(refined[0].start - 2.548) < 0.05
    assert 3.3 <= refined[1].start <= 3.45, "Whisper put it late; the voice starts at ~3.32"
    assert refined[2] == early[2], "a word with no pause before it keeps Whisper's time"
    late = [Word(15.26, 15.6, "Secretary")]  # the second sentence really starts at 15.028
    assert abs(refine_onsets(late, audio, info.audio_start, floor=14.0)[0].start - 15.028) < 0.05


def _chunk(text: str, start: float, end: float, ratio: float = 1.3, logprob: float = -0.2,
           no_speech: float = 0.1) -> SimpleNamespace:
    return SimpleNamespace(text=text, start=start, end=end, compression_ratio=ratio,
                           avg_logprob=logprob, no_speech_prob=no_speech,
                           words=[_raw(f" {text}", start + 0.5, end - 0.5)])


class _SequentialModel:
    """Stands in for WhisperModel.transcribe: records the audio it is given."""

    def __init__(self) -> None:
        self.spans: list[float] = []

    def transcribe(self, audio, **kwargs):
        assert kwargs["word_timestamps"] and "batch_size" not in kwargs
        self.spans.append(len(audio) / SAMPLE_RATE)
        return iter([_chunk("again", 0.0, 2.0)]), None


def test_a_looping_batched_chunk_is_decoded_again_between_its_good_neighbours():
    audio = np.zeros(100 * SAMPLE_RATE, dtype=np.float32)
    model = _SequentialModel()
    chunks = [_chunk("one", 0, 30), _chunk("loop loop", 30, 60, ratio=5.4),
              _chunk("doubt", 60, 70, logprob=-1.5), _chunk("two", 70, 90)]
    out = list(_redecode_failures(model, audio, iter(chunks), TranscribeOptions(), "en"))
    assert [(raw.text, shift) for raw, shift in out] == [("one", 0.0), ("again", 29.5),
                                                         ("two", 0.0)]
    assert model.spans == [70.5 - 29.5]  # from the last good word to the next good word


def test_silence_the_model_doubts_is_not_decoded_again_and_a_failed_end_is():
    audio = np.zeros(100 * SAMPLE_RATE, dtype=np.float32)
    model = _SequentialModel()
    chunks = [_chunk("music", 0, 20, logprob=-1.5, no_speech=0.9), _chunk("one", 20, 40),
              _chunk("loop", 40, 100, ratio=3.0)]
    out = list(_redecode_failures(model, audio, iter(chunks), TranscribeOptions(), "en"))
    assert [raw.text for raw, _ in out] == ["music", "one", "again"]  # music: guards drop it
    assert model.spans == [100 - 39.5]
