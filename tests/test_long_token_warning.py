"""No false "sequence too long" warning for a word that the windows already cut.

transformers warns once per tokenizer that a text longer than the model's
maximum "will result in indexing errors". Inside the transformer pipe the
windows (conner.transformer.windows) split every long window and spacy-transformers
cuts a single long word to its first pieces, so the warning is false there;
outside it, the tokenizer still warns.
"""

import logging

import pytest
from test_transformer_pipeline import build_nlp

SENTENCE = "Angela Merkel met Emmanuel Macron in Paris ."
MESSAGE = "Token indices sequence length is longer than the specified maximum sequence length"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def tokenizer_log():
    # transformers' loggers do not propagate to the root logger (caplog).
    logger = logging.getLogger("transformers.tokenization_utils_base")
    records = Records()
    logger.addHandler(records)
    yield records
    logger.removeHandler(records)


def test_a_200000_character_word_is_tagged_without_a_length_warning(tiny_encoder, tokenizer_log):
    nlp, _ = build_nlp(tiny_encoder)
    text = SENTENCE + " " + "x" * 200_000 + " " + SENTENCE
    doc = nlp(text)
    docs = list(nlp.pipe([text, SENTENCE]))
    assert not [m for m in tokenizer_log.messages if MESSAGE in m]
    n = len(nlp.make_doc(SENTENCE))
    assert len(doc) == 2 * n + 1 and [t.text for t in doc[n + 1 :]] == SENTENCE.split()
    for tagged in [doc, *docs]:
        assert all(t.ent_iob_ in ("B", "I", "O") for t in tagged)
    assert doc._.trf_data.align.lengths[n] > 0  # the long word keeps its first pieces
    # Outside the pipe the tokenizer still warns: the check above could fail,
    # and the pipe did not use up the tokenizer's one warning.
    nlp.get_pipe("transformer").model.tokenizer("x" * 20_000)
    assert [m for m in tokenizer_log.messages if MESSAGE in m]
