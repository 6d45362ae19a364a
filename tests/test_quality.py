"""The sample clips through the real model: style, W3C validity, WER, sync."""

from __future__ import annotations

from captioner import formats
from captioner.evaluate import (
    cues_in_no_speech,
    cues_text,
    median_sync,
    sync_offsets,
    word_error_rate,
)
from captioner.segment import check
from tests.conftest import cue_summary, w3c_parse


def test_seed_cues_follow_caption_style(seed_result):
    words = seed_result.transcript.words
    violations = check(seed_result.cues, words, duration=seed_result.media.duration)
    assert violations == [], cue_summary(seed_result.cues)
    assert len(seed_result.cues) > 40


def test_seed_vtt_is_valid_for_w3c_parser(seed_result):
    vtt = formats.to_vtt(seed_result.cues)
    parsed = w3c_parse(vtt)
    assert parsed["errors"] == []
    assert len(parsed["cues"]) == len(seed_result.cues)
    assert [c["start"] for c in parsed["cues"]] == [round(c.start, 3) for c in seed_result.cues]


def test_seed_word_error_rate(seed_result, seed_ref):
    wer = word_error_rate(seed_ref.text, cues_text(seed_result.cues))
    print(f"seed WER {wer:.3f}")
    assert wer <= 0.20


def test_seed_cue_starts_follow_sentences(seed_result, seed_ref):
    med = median_sync(seed_ref.sentence_starts, seed_result.cues)
    print(f"seed median sentence->cue start {med:.3f} s")
    assert med <= 0.25


def test_no_cue_over_the_music_stretch(seed_result, seed_ref):
    assert seed_ref.no_speech, "the seed sample must have a no-speech stretch"
    assert cues_in_no_speech(seed_ref.no_speech, seed_result.cues) == []


def test_late_audio_cues_on_video_timeline(late_result, late_ref):
    assert abs(late_result.media.audio_start - 2.0) < 0.05
    offsets = sync_offsets(late_ref.sentence_starts, late_result.cues)
    print("late-audio offsets", [round(o, 3) for o in offsets])
    assert max(offsets) <= 0.3, cue_summary(late_result.cues)


def test_no_cue_ends_after_the_clip(seed_result, late_result):
    for result in (seed_result, late_result):
        assert result.cues[0].start >= 0
        assert result.cues[-1].end <= result.media.duration


def test_glossary_names_come_out_right(seed_result):
    text = cues_text(seed_result.cues)
    for name in ("Kerry", "Ukraine", "Russia"):
        assert name in text


def test_other_voices_follow_style_and_sync(brief_result, brief_ref):
    """world-brief: three voices none of the other samples use, six unrelated items."""
    words = brief_result.transcript.words
    assert check(brief_result.cues, words, duration=brief_result.media.duration) == [], (
        cue_summary(brief_result.cues))
    wer = word_error_rate(brief_ref.text, cues_text(brief_result.cues))
    med = median_sync(brief_ref.sentence_starts, brief_result.cues)
    print(f"world-brief WER {wer:.3f}, median sentence->cue start {med:.3f} s")
    assert wer <= 0.20
    assert med <= 0.25
