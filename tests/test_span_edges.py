"""trim_edges: the words a span's translation added around a name."""

import pytest

from conner.prepare.translation.edges import ENGLISH_EDGE_WORDS, edge_words_for, trim_edges


@pytest.mark.parametrize(
    "words, expected",
    [
        (["in", "Vitoria"], (1, 2)),
        (["Of", "the", "inside", "Ministry"], (3, 4)),
        (["NATO", "-", "and"], (0, 1)),
        (["Gipuzkoa", "'s"], (0, 1)),
        (["FROM", "INDONESIA"], (1, 2)),
        (["Bank", "of", "England"], (0, 3)),  # inside a name: kept
        (["Bosnia", "and", "Herzegovina"], (0, 3)),
        (["Vitoria"], (0, 1)),
    ],
)
def test_edges_lose_function_words_and_joiners_only(words, expected):
    assert trim_edges(words, ENGLISH_EDGE_WORDS) == expected


def test_a_span_of_function_words_only_stays_whole():
    assert trim_edges(["of", "the"], ENGLISH_EDGE_WORDS) == (0, 2)
    assert trim_edges(["-"], ENGLISH_EDGE_WORDS) == (0, 1)


def test_no_edge_words_trims_nothing():
    assert trim_edges(["in", "Vitoria"], frozenset()) == (0, 2)


def test_edge_words_exist_for_english_only():
    assert edge_words_for("en") == ENGLISH_EDGE_WORDS
    assert edge_words_for("de") == frozenset()


def test_a_name_that_starts_with_a_stays_whole():
    assert trim_edges(["A", "Coruña"], ENGLISH_EDGE_WORDS) == (0, 2)
