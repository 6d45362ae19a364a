"""The glossary spelling pass (pure logic)."""

from __future__ import annotations

import pytest

from captioner.glossary import Glossary, parse_glossary
from captioner.results import Segment, Word

NEWS = Glossary(("Kerry", "Lavrov", "Kyiv", "Crimea", "Crimean", "Sergei"))


def test_glossary_accepts_lines_commas_and_comments():
    text = "Lavrov, Kyiv\n# places\nCrimea\n\nKyiv\n"
    assert parse_glossary(text) == ("Lavrov", "Kyiv", "Crimea")


@pytest.mark.parametrize(
    ("heard", "written"),
    [("Lavera", "Lavrov"), ("Lavera,", "Lavrov,"), ("Kiev.", "Kyiv."), ("Sergey", "Sergei"),
     ("Krimea's", "Crimea's"), ("Krimean", "Crimean"), ("Carry", "Kerry")],
)
def test_near_misses_of_names_are_spelled_right(heard, written):
    assert NEWS.spell(heard) == written


@pytest.mark.parametrize("word", ["crime", "Kremlin", "Russia", "Crimean", "Paris", "Land-run",
                                  "Moscow", "at", "Ki"])
def test_other_words_are_left_alone(word):
    assert NEWS.spell(word) == word


def test_apply_keeps_times_and_rebuilds_text():
    seg = Segment(1.0, 2.0, "Minister Sergey Lavera.", [
        Word(1.0, 1.3, "Minister"), Word(1.3, 1.6, "Sergey"), Word(1.6, 2.0, "Lavera.", 0.4),
    ])
    fixed = NEWS.apply(seg)
    assert fixed.text == "Minister Sergei Lavrov."
    assert fixed.words[2] == Word(1.6, 2.0, "Lavrov.", 0.4)
    assert Glossary(()).apply(seg) is seg
