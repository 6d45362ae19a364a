"""Per-sentence word errors and the paired bootstrap that says whether two WERs differ."""

import pytest

from captioner.evaluate import paired_bootstrap, sentence_errors, word_error_rate

SENTENCES = ["Kerry met Lavrov in Paris.", "They talked for four hours.", "Nothing was agreed."]


def test_errors_are_charged_to_the_sentence_they_fall_in():
    hyp = "Carrie met Lavrov in Paris. They talked for hours. Nothing was agreed at all."
    words, errors = sentence_errors(SENTENCES, hyp)
    assert words == [5, 5, 3]
    # substitution in the first, deletion in the second, two insertions at the very end
    assert errors == [1, 1, 2]


def test_totals_match_the_wer_of_the_whole_text():
    hyp = "Kerry met Lavrov. They talked for four long hours and nothing was agreed"
    words, errors = sentence_errors(SENTENCES, hyp)
    assert sum(errors) / sum(words) == pytest.approx(word_error_rate(" ".join(SENTENCES), hyp))


def test_an_insertion_between_sentences_counts_against_the_next_one():
    _, errors = sentence_errors(SENTENCES, "Kerry met Lavrov in Paris. Well, they talked for "
                                           "four hours. Nothing was agreed.")
    assert errors == [0, 1, 0]


def test_an_empty_hypothesis_deletes_every_word():
    words, errors = sentence_errors(SENTENCES, "")
    assert errors == words


def test_identical_tools_are_not_told_apart():
    words = [10] * 40
    errors = [1, 2, 0, 3] * 10
    diff = paired_bootstrap(words, errors, errors)
    assert diff.difference == 0 and diff.low == diff.high == 0.0 and diff.share_a_worse == 0.0


def test_a_small_gap_on_few_sentences_is_within_the_interval():
    words = [20] * 20
    a = [3, 2] * 10  # 50 errors
    b = [2, 3] * 9 + [2, 1]  # 48 errors
    diff = paired_bootstrap(words, a, b)
    assert diff.errors_a - diff.errors_b == 2
    assert diff.low < 0 < diff.high  # two words of 400: noise


def test_a_tool_wrong_everywhere_is_worse_with_confidence():
    words = [20] * 30
    diff = paired_bootstrap(words, [4] * 30, [1] * 30)
    assert diff.difference == pytest.approx(0.15)
    assert diff.low > 0.1 and diff.share_a_worse == 1.0
