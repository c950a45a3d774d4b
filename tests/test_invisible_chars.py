"""One rule for words the tagger never puts in an entity, in training and at inference.

A word is blank if its text is invisible (whitespace, control and format
characters, the Hangul fillers, the blank Braille cell) or if the
transformer gave it no sub-word. Several invisible characters do get a
sub-word from the XLM-R tokenizer (a word joiner becomes ``▁`` + ``\\u2060``),
so the text decides for them; a few visible ones get none (``▁`` itself),
so the alignment decides for those, in training as at inference.
"""

import numpy
import pytest
from spacy.tokens import Doc, Span
from spacy.training import Example
from test_bad_input import entity_prone
from test_transformer_pipeline import build_nlp

from conner.tagger.pieceless import is_blank

FORMAT = ["\u2060", "\u00ad", "\u200b", "\ufeff", "\u202a", "\u2066", "\U000e0001"]
FILLERS = ["\u3164", "\u115f", "\u1160", "\uffa0"]
BRAILLE_BLANK = ["\u2800"]
WHITESPACE = [" ", "\t", "\n", "\u00a0", "\u3000"]
CONTROLS = ["\x01", "\x7f"]
INVISIBLE = FORMAT + FILLERS + BRAILLE_BLANK + WHITESPACE + CONTROLS
# Visible, but the XLM-R tokenizer maps them to no piece at all.
NO_PIECE = ["\u2581", "\ufffd"]
VISIBLE = ["a", "-", "\u2801", "\u3131", "\u0301", "a\u00ad", "\u2060b"]
NO_DROPOUT = {
    "components.transformer.model.transformer_config": {
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }
}


def name(char: str) -> str:
    return f"U+{ord(char[0]):04X}"


@pytest.fixture(scope="module")
def nlp(tiny_encoder):
    return entity_prone(build_nlp(tiny_encoder, NO_DROPOUT)[0])


@pytest.mark.parametrize("char", INVISIBLE, ids=name)
def test_invisible_characters_are_blank(char):
    assert is_blank(char) and is_blank(char * 3)


def test_runs_of_different_invisible_characters_are_blank():
    assert is_blank("\u2060\u00ad\u3164\u2800 \t")


@pytest.mark.parametrize("text", VISIBLE + NO_PIECE, ids=name)
def test_visible_text_is_not_blank(text):
    assert not is_blank(text)


@pytest.mark.parametrize("char", INVISIBLE + NO_PIECE, ids=name)
def test_a_blank_word_is_never_part_of_a_predicted_entity(nlp, char):
    words = ["Angela", char, "Merkel", "visited", char, "Paris", "."]
    for tagged in (nlp(Doc(nlp.vocab, words=words)), *nlp.pipe([Doc(nlp.vocab, words=words)])):
        assert tagged.ents, "the biased tagger marks the other words"
        inside = {t.i for ent in tagged.ents for t in ent}
        assert not inside & {1, 4}, [(t.text, t.ent_iob_, t.ent_type_) for t in tagged]
        assert tagged[1].ent_iob_ == tagged[4].ent_iob_ == "O"


@pytest.mark.parametrize("char", INVISIBLE + NO_PIECE, ids=name)
def test_training_splits_a_gold_entity_at_a_blank_word_as_inference_would(nlp, char):
    """nlp.update through the transformer: a gold entity across the blank word
    teaches the same as the gold split around it (what inference can tag)."""
    words = ["Angela", char, "Merkel", "visited", "Paris", "."]

    def example(ents):
        reference = Doc(nlp.vocab, words=words)
        reference.ents = [Span(reference, s, e, label=label) for s, e, label in ents]
        return Example(Doc(nlp.vocab, words=words), reference)

    across = nlp.update([example([(0, 3, "PER"), (4, 5, "LOC")])], sgd=False, drop=0.0)
    split = nlp.update(
        [example([(0, 1, "PER"), (2, 3, "PER"), (4, 5, "LOC")])], sgd=False, drop=0.0
    )
    assert numpy.isfinite(across["conner_nll"])
    assert across["conner_nll"] == pytest.approx(split["conner_nll"], rel=1e-5)


def test_a_visible_word_in_a_gold_entity_is_learned_as_part_of_it(nlp):
    """The control of the test above: there the two golds teach different things."""
    words = ["Angela", "von", "Merkel", "visited", "Paris", "."]

    def nll(ents):
        reference = Doc(nlp.vocab, words=words)
        reference.ents = [Span(reference, s, e, label=label) for s, e, label in ents]
        example = Example(Doc(nlp.vocab, words=words), reference)
        return nlp.update([example], sgd=False, drop=0.0)["conner_nll"]

    assert nll([(0, 3, "PER")]) != pytest.approx(nll([(0, 1, "PER"), (2, 3, "PER")]), rel=1e-5)
