"""``nlp.add_pipe("conner")`` with its defaults, after a default ``transformer``.

The factory's default model pools each word's first sub-word with
``conner.first_subword.v1``: words that the tokenizer gives no sub-word
(a zero-width space, extra spaces) get a zero vector, where thinc's
``reduce_first.v1`` raised, in training and in tagging.
"""

import numpy
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example
from thinc.api import Adam

SENTENCES = [
    (["Angela", "Merkel", "visited", "Paris", "."], [(0, 2, "PER"), (3, 4, "LOC")]),
    (
        ["Apple", "hired", "Tim", "in", "\u200b", "London", "."],
        [(0, 1, "ORG"), (2, 3, "PER"), (5, 6, "LOC")],
    ),
    (["\u00ad"], []),
    (["Frau", "\u00ad", "Merkel", " ", "besuchte", "Paris"], [(2, 3, "PER"), (5, 6, "LOC")]),
]


def test_conner_defaults_after_a_default_transformer_train_and_tag(tiny_encoder):
    nlp = spacy.blank("xx")
    nlp.add_pipe("transformer", config={"model": {"name": str(tiny_encoder)}})
    nlp.add_pipe("conner")
    pooling = nlp.config["components"]["conner"]["model"]["tok2vec"]["pooling"]
    assert pooling == {"@layers": "conner.first_subword.v1"}
    examples = []
    for words, ents in SENTENCES:
        reference = Doc(nlp.vocab, words=words)
        reference.ents = [Span(reference, s, e, label=label) for s, e, label in ents]
        examples.append(Example(Doc(nlp.vocab, words=words), reference))
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.001)
    for _ in range(3):
        losses = nlp.update(examples, sgd=optimizer, drop=0.1)
    assert numpy.isfinite(losses["conner"]) and losses["conner"] > 0
    texts = ["Frau\u00ad Merkel  besuchte Paris.", "\u00ad", "Tim \u200b in London"]
    for doc in [nlp(t) for t in texts] + list(nlp.pipe(texts)):
        assert all(t.ent_iob_ in ("B", "I", "O") for t in doc)
        assert all(t.ent_iob_ == "O" for t in doc if not t.text.strip("\u00ad\u200b "))
    assert len(nlp(Doc(nlp.vocab, words=["\u200b"]))) == 1
