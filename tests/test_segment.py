"""Words -> cues: examples of the caption style, and properties over random word sequences."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from captioner.results import Cue, Word
from captioner.segment import (
    HARD_RULES,
    SOFT_RULES,
    CaptionStyle,
    Violation,
    break_lines,
    check,
    compliance,
    ends_sentence,
    segment,
)

STYLE = CaptionStyle()
KERRY = (
    "U.S. Secretary of State John Kerry is calling on Russia to pull back thousands of troops "
    "along the Ukraine border, saying those forces are creating a climate of fear that does not "
    "support diplomatic dialogue."
)


def timed(text: str, start: float = 0.5, rate: float = 2.8, pause_after_sentence: float = 0.3):
    """Plausible word times: ``rate`` words a second, longer words longer, a pause after a
    sentence."""
    words, t = [], start
    for token in text.split():
        slot = (0.6 + 0.08 * len(token)) / rate
        words.append(Word(round(t, 3), round(t + 0.85 * slot, 3), token))
        t += slot + (pause_after_sentence if ends_sentence(token) else 0.0)
    return words


def split(text: str) -> list[str]:
    return text.split()


def line_breaks(cues: list[Cue]) -> set[tuple[str, str]]:
    """(last word of a line, first word of the next line), across lines and cues alike."""
    lines = [line.split() for cue in cues for line in cue.lines]
    return {(a[-1], b[0]) for a, b in zip(lines, lines[1:], strict=False) if a and b}


def cue_of(cues: list[Cue], word: Word) -> int:
    return next(i for i, cue in enumerate(cues) if any(w is word for w in cue.words))


def hard(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.hard]


# --- examples ---------------------------------------------------------------------------------


def test_kerry_sentence_keeps_units_together():
    words = timed(KERRY)
    cues = segment(words)
    assert all(len(line) <= 42 for cue in cues for line in cue.lines)
    assert all(1 <= len(cue.lines) <= 2 for cue in cues)
    breaks = line_breaks(cues)
    for pair in [("John", "Kerry"), ("the", "Ukraine"), ("does", "not"), ("State", "John")]:
        assert pair not in breaks
    assert " ".join(" ".join(cue.lines) for cue in cues) == KERRY
    assert check(cues, words) == []


def test_every_word_in_one_cue_in_order_unchanged():
    words = timed(KERRY + " Russia says the troops are on exercise. I don't think so.")
    cues = segment(words)
    assert [w for cue in cues for w in cue.words] == words
    for cue in cues:
        assert " ".join(cue.lines) == " ".join(w.text for w in cue.words)


def test_long_pause_splits_cues_and_no_cue_spans_it():
    words = timed("The talks went on for hours and ended late") + timed(
        "Officials said nothing more", start=6.0
    )
    cues = segment(words)
    before, after = words[8], words[9]
    assert cue_of(cues, before) != cue_of(cues, after)
    first = cues[cue_of(cues, before)]
    assert first.end <= before.end + STYLE.max_linger + 1e-9
    assert cues[cue_of(cues, after)].start >= after.start - STYLE.max_lead_in - 1e-9
    assert check(cues, words) == []


def test_sentence_end_ends_a_cue():
    words = timed("Russia says the troops are on exercise. Washington says they are not.")
    cues = segment(words)
    assert [" ".join(c.lines) for c in cues] == [
        "Russia says the troops are on exercise.",
        "Washington says they are not.",
    ]


def test_short_cue_lasts_minimum_duration_when_silence_follows():
    words = [Word(1.0, 1.3, "Yes."), *timed("We will go on.", start=5.0)]
    cues = segment(words)
    assert cues[0].lines == ["Yes."]
    assert cues[0].duration >= STYLE.min_duration - 1e-9
    assert cues[0].start == pytest.approx(0.9)  # a 0.1 s lead-in
    assert check(cues, words) == []


def test_cue_lingers_at_most_max_linger_after_its_last_word():
    words = timed("Russia says the troops are on exercise near the border.") + timed(
        "Nothing more was said.", start=12.0
    )
    cues = segment(words)
    assert cues[0].end == pytest.approx(words[9].end + STYLE.max_linger, abs=0.001)


def test_small_gaps_are_chained_to_two_frames():
    words = timed("Russia says the troops are on exercise.", pause_after_sentence=0.0)
    words += timed("Washington disagrees with that.", start=words[-1].end + 0.75)
    cues = segment(words)
    assert len(cues) == 2
    assert cues[1].start - cues[0].end == pytest.approx(0.084, abs=0.001)


def test_cues_stay_inside_the_clip():
    words = [Word(0.02, 0.4, "Hello"), Word(0.45, 0.9, "everyone.")]
    cues = segment(words, duration=1.0)
    assert cues[0].start == 0.0
    assert cues[-1].end <= 1.0


def test_fast_speech_breaks_only_soft_rules():
    words = timed(KERRY, rate=8.0)
    violations = check(segment(words, duration=words[-1].end), words, duration=words[-1].end)
    assert violations and {v.rule for v in violations} <= SOFT_RULES


def test_word_longer_than_a_line_gets_its_own_line():
    long = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"
    assert break_lines(["the", "village", long, "is", "in", "Wales"]) == [
        "the village", long, "is in Wales"
    ]  # three lines' worth: wrapped greedily (the segmenter never asks for it)
    words = timed(f"We visited {long} in Wales.")
    cues = segment(words)
    assert long in [line for cue in cues for line in cue.lines]
    assert hard(check(cues, words)) == []


def test_break_lines():
    assert break_lines([]) == []
    assert break_lines(split("Russia says the troops are on exercise.")) == [
        "Russia says the troops are on exercise."
    ]
    lines = break_lines(split("saying those forces are creating a climate of fear that does not"))
    assert lines == ["saying those forces are creating a climate", "of fear that does not"]
    lines = break_lines(split("I do not think the talks will go ahead next week in Geneva"))
    assert len(lines) == 2 and all(len(line) <= 42 for line in lines)
    breaks = {(lines[0].split()[-1], lines[1].split()[0])}
    assert breaks.isdisjoint({("I", "do"), ("do", "not"), ("the", "talks"), ("in", "Geneva")})
    too_many = break_lines(["word"] * 40)  # more than two lines' worth: wrapped greedily
    assert len(too_many) > 2 and all(len(line) <= 42 for line in too_many)
    assert break_lines(["x" * 50]) == ["x" * 50]


def test_break_lines_prefers_punctuation_and_keeps_names():
    lines = break_lines(split("Officials in Moscow, speaking to John Kerry on Tuesday said"))
    assert lines[0].endswith("Moscow,")
    lines = break_lines(split("he said that Secretary of State John Kerry would travel"))
    assert not any(line.endswith("John") for line in lines)


def test_ends_sentence():
    assert ends_sentence("dialogue.") and ends_sentence("why?") and ends_sentence('"done."')
    assert not ends_sentence("U.S.") and not ends_sentence("Mr.") and not ends_sentence("F.")
    assert not ends_sentence("border,") and not ends_sentence("and...")


def test_messy_word_times_are_survived():
    words = [
        Word(2.0, 1.5, "backwards"),
        Word(1.0, 1.0, "earlier"),
        Word(math.nan, math.inf, "broken"),
        Word(-3.0, -2.0, "negative"),
        Word(3.0, 3.0, "zero-length."),
    ]
    cues = segment(words, duration=3.0)
    assert [w for c in cues for w in c.words] == words
    assert hard(check(cues, words, duration=3.0)) == []


def test_clip_too_short_for_every_gap_still_no_overlap():
    words = [Word(0.0, 0.0, "x" * 40) for _ in range(12)]
    cues = segment(words, duration=0.05)
    rules = {v.rule for v in check(cues, words, duration=0.05)}
    assert not rules & {"overlap", "bounds", "timing", "lines", "line_length", "completeness"}
    cues = segment(words, duration=0.0)  # cannot fit at all: the words are still all there
    assert [w for c in cues for w in c.words] == words and all(c.end > c.start for c in cues)


def test_style_overrides_and_validation():
    style = CaptionStyle.from_overrides(max_line_chars=32, max_cps=None)
    assert style.max_line_chars == 32 and style.max_cps == 20.0
    assert dataclasses.replace(style, max_lines=1).max_lines == 1
    with pytest.raises(ValueError):
        CaptionStyle.from_overrides(max_chars=10)
    with pytest.raises(ValueError):
        CaptionStyle(min_duration=8.0)
    words = timed(KERRY)
    narrow = CaptionStyle(max_line_chars=32, max_lines=1)
    cues = segment(words, narrow)
    assert all(len(c.lines) == 1 and len(c.lines[0]) <= 32 for c in cues)
    assert hard(check(cues, words, narrow)) == []


def test_check_grades_a_peers_cues_without_words():
    peer = [
        Cue(0.0, 9.0, ["U.S. Secretary of State John Kerry is calling on Russia to pull back"]),
        Cue(8.5, 8.9, ["thousands", "of", "troops"]),
        Cue(8.9, 9.5, ["along the Ukraine border"]),
    ]
    rules = {(v.cue_index, v.rule) for v in check(peer, [])}
    assert {(0, "line_length"), (0, "max_duration"), (0, "overlap"), (1, "lines"),
            (1, "min_duration"), (1, "gap"), (2, "cps")} <= rules
    assert not any(r in {"sync", "linger", "completeness"} for _, r in rules)
    said = "U.S. Secretary of State John Kerry is calling on Russia to pull back thousands of"
    said += " troops"
    assert [v.rule for v in check(peer, timed(said + " along the Ukraine border"))].count(
        "completeness"
    ) == 0
    extra = check(peer, timed(said))  # the peer shows words nobody said
    assert [v.cue_index for v in extra if v.rule == "completeness"] == [2]
    lost = check(peer, timed(said + " along the Ukraine border today"))
    assert [v.cue_index for v in lost if v.rule == "completeness"] == [2]
    assert compliance(peer, []) == 0.0
    assert compliance([], []) == 1.0 and compliance([], timed(said)) == 0.0


def test_check_flags_our_cues_when_tampered():
    words = timed(KERRY)
    cues = segment(words)
    cues[1] = dataclasses.replace(cues[1], start=cues[0].end - 0.2, lines=cues[1].lines[::-1])
    rules = {v.rule for v in check(cues, words)}
    assert {"overlap", "completeness", "sync"} <= rules
    assert compliance(cues, words) < 1.0
    assert HARD_RULES.isdisjoint(SOFT_RULES)


def test_half_an_hour_of_speech_is_clean():
    words = timed(" ".join([KERRY] * 150))  # ~5000 words, about half an hour of speech
    cues = segment(words, duration=words[-1].end + 1)
    assert check(cues, words, duration=words[-1].end + 1) == []


# --- properties -------------------------------------------------------------------------------

VOCAB = split(
    "the a of to and in is not does will I don't John Kerry Russia said troops border, forces. "
    "Ukraine? diplomatic dialogue. U.S. Mr. that they it 3 million"
)
messy_text = st.one_of(
    st.sampled_from(VOCAB),
    st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=60),
)


@st.composite
def messy_words(draw) -> tuple[list[Word], float | None]:
    """Any texts (long ones too), overlapping, zero-length, backwards and far-apart times."""
    n = draw(st.integers(0, 40))
    t = draw(st.floats(-1.0, 5.0))
    words = []
    for _ in range(n):
        t += draw(st.sampled_from([0.0, 0.0, -0.3]) | st.floats(-0.5, 3.0))
        length = draw(st.sampled_from([0.0, 0.1]) | st.floats(-0.2, 9.0))
        words.append(Word(t, t + length, draw(messy_text)))
    if draw(st.booleans()):
        return words, None
    last = max([w.end for w in words] + [0.0])
    # room for a millisecond per cue and the gaps between: every cue holds at least a word
    return words, max(last, n * 0.085) + draw(st.floats(0.0, 3.0))


@st.composite
def natural_words(draw) -> tuple[list[Word], float | None]:
    """Speech a person could caption by the rules: words 0.15-0.6 s, gaps 0-0.3 s, 2-12 chars.
    A word lasts at least (len+1)/15 s, so speech never outruns ~15 chars/s: a 12-char word in
    0.15 s would break max_cps whatever the captioner did."""
    n = draw(st.integers(1, 60))
    t = draw(st.floats(0.0, 3.0))
    words = []
    for _ in range(n):
        body = draw(st.text("abcdefghijklmnopqrstuvwxyzKRU", min_size=2, max_size=11))
        text = body + draw(st.sampled_from(["", "", "", "", ",", ".", "?"]))
        length = max(draw(st.floats(0.15, 0.6)), (len(text) + 1) / 15)
        words.append(Word(round(t, 3), round(t + length, 3), text))
        t += length + draw(st.floats(0.0, 0.3))
    duration = None if draw(st.booleans()) else words[-1].end + draw(st.floats(1.0, 3.0))
    return words, duration


def assert_hard_rules(cues: list[Cue], words: list[Word], duration: float | None) -> None:
    assert [w for c in cues for w in c.words] == words
    for i, cue in enumerate(cues):
        assert " ".join(cue.lines) == " ".join(w.text for w in cue.words)
        assert 1 <= len(cue.lines) <= STYLE.max_lines
        assert all(len(ln) <= 42 or ln in {w.text for w in cue.words} for ln in cue.lines)
        assert cue.end > cue.start >= 0
        assert cue.duration <= STYLE.max_duration + 1e-9
        assert duration is None or cue.end <= duration
        assert cue.start == round(cue.start, 3) and cue.end == round(cue.end, 3)  # whole ms
        if i + 1 < len(cues):
            assert cues[i + 1].start - cue.end >= STYLE.min_gap - 1e-9


@settings(max_examples=300, deadline=None)
@given(messy_words())
def test_hard_rules_hold_for_any_input(case):
    words, duration = case
    cues = segment(words, duration=duration)
    assert_hard_rules(cues, words, duration)
    assert hard(check(cues, words, duration=duration)) == []


@settings(max_examples=200, deadline=None)
@given(natural_words())
def test_natural_speech_breaks_no_rule(case):
    words, duration = case
    cues = segment(words, duration=duration)
    assert_hard_rules(cues, words, duration)
    assert check(cues, words, duration=duration) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(messy_text, max_size=30))
def test_break_lines_keeps_text_and_widths(texts):
    lines = break_lines(texts)
    assert " ".join(lines) == " ".join(texts)
    assert all(len(line) <= 42 or line in texts for line in lines)
    if texts and len(" ".join(texts)) <= 42:
        assert len(lines) == 1
