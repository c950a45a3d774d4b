"""Placeholder insertion (Figure 2) and recovery of placeholders an engine changed."""

import pytest

from conner.prepare.translation.placeholders import (
    Piece,
    fill,
    find_placeholders,
    make_placeholder,
    mask_spans,
)

PH = [make_placeholder(0), make_placeholder(1)]


def test_placeholders_are_type_neutral_by_default_and_typed_on_request():
    assert make_placeholder(0) == "SPAN0"
    assert make_placeholder(12) == "SPAN12"
    assert make_placeholder(3, "PER") == "PER3"
    assert make_placeholder(1, "b-misc") == "BMISC1"
    with pytest.raises(ValueError):
        make_placeholder(0, "--")


def test_mask_spans_replaces_character_ranges():
    text = "Bruce Willis wurde in Westdeutschland geboren."
    masked = mask_spans(text, [(0, 12), (22, 37)], ["SPAN0", "SPAN1"])
    assert masked == "SPAN0 wurde in SPAN1 geboren."
    with pytest.raises(ValueError):
        mask_spans(text, [(0, 12), (5, 20)], ["SPAN0", "SPAN1"])


def test_figure_2_round_trip():
    recovery = find_placeholders("Bruce Willis was born in SPAN0.", ["SPAN0"])
    assert recovery.kinds == {0: "exact"}
    pieces = fill(recovery, {0: "West German"})
    assert "".join(p.text for p in pieces) == "Bruce Willis was born in West German."
    conjugate = [p for p in pieces if p.conjugate]
    assert conjugate == [Piece("West German", 0, True)]
    assert recovery.attached_punctuation == [0]


@pytest.mark.parametrize(
    "translation,kind",
    [
        ("born in SPAN0 and SPAN1", "exact"),
        ("born in span0 and SPAN1", "case"),
        ("born in Span0 and SPAN1", "case"),
        ("born in SPAN 0 and SPAN1", "spacing"),
        ("born in SPAN_0 and SPAN1", "spacing"),
        ("born in SPAN-0 and SPAN1", "hyphen"),
        ("born in SPAN\u20130 and SPAN1", "hyphen"),
        ("born in span - 0 and SPAN1", "hyphen"),
    ],
)
def test_each_repair_kind_is_recovered_and_named(translation, kind):
    recovery = find_placeholders(translation, PH)
    assert recovery.kinds == {0: kind, 1: "exact"}
    assert recovery.dropped == []
    assert recovery.counts()[kind] >= 1
    text = "".join(p.text for p in fill(recovery, {0: "Madrid", 1: "Paris"}))
    assert text == "born in Madrid and Paris"


@pytest.mark.parametrize(
    "translation,expected",
    [("(SPAN0) SPAN1.", "(Madrid) Paris."), ("SPAN0, SPAN1.", "Madrid, Paris.")],
)
def test_attached_punctuation_is_counted_and_split_off(translation, expected):
    recovery = find_placeholders(translation, PH)
    assert sorted(recovery.attached_punctuation) == [0, 1]
    assert recovery.counts()["attached_punctuation"] == 2
    pieces = fill(recovery, {0: "Madrid", 1: "Paris"})
    assert "".join(p.text for p in pieces) == expected
    assert [p.text for p in pieces if p.conjugate] == ["Madrid", "Paris"]


def test_glued_letters_are_counted_separately():
    recovery = find_placeholders("the SPAN0s of SPAN1", PH)
    assert recovery.attached_text == [0]
    assert recovery.attached_punctuation == []


def test_repeated_placeholder_keeps_best_occurrence_and_copies_text():
    recovery = find_placeholders("span0 met SPAN0 and SPAN1", PH)
    # The exact occurrence wins over the earlier case-changed one.
    assert recovery.kinds == {0: "exact", 1: "exact"}
    assert recovery.repeated == {0: 1}
    assert recovery.counts()["repeated"] == 1
    pieces = fill(recovery, {0: "Ana", 1: "Luis"})
    assert "".join(p.text for p in pieces) == "Ana met Ana and Luis"
    conjugate = [(p.text, p.index) for p in pieces if p.conjugate]
    assert conjugate == [("Ana", 0), ("Luis", 1)]
    assert pieces[0].conjugate is False  # the copy is plain text


def test_dropped_placeholder_loses_only_its_span():
    recovery = find_placeholders("He was born in SPAN1.", PH)
    assert recovery.dropped == [0]
    assert recovery.survived == [1]
    assert recovery.counts()["dropped"] == 1
    none_left = find_placeholders("He was born there.", PH)
    assert none_left.survived == [] and none_left.dropped == [0, 1]


def test_no_false_matches():
    placeholders = [make_placeholder(i) for i in range(11)]
    recovery = find_placeholders("a lifespan 3 and SPAN10 here", placeholders)
    # "lifespan 3" is an English word, SPAN10 is not SPAN1.
    assert recovery.kinds == {10: "exact"}
    assert 1 not in recovery.kinds and 3 not in recovery.kinds


def test_typed_placeholders_are_recovered_too():
    placeholders = [make_placeholder(0, "PER"), make_placeholder(1, "LOC")]
    recovery = find_placeholders("per 0 lives in LOC1", placeholders)
    assert recovery.kinds == {0: "spacing", 1: "exact"}


def test_empty_span_translation_leaves_no_conjugate_piece():
    recovery = find_placeholders("SPAN0 and SPAN1", PH)
    pieces = fill(recovery, {0: "", 1: "Paris"})
    assert [p.index for p in pieces if p.conjugate] == [1]
