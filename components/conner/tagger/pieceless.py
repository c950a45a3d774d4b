"""Blank words: never part of an entity, by one rule in training and at inference.

A word is blank (:func:`blank_tokens`) if

* its text is invisible (:func:`is_blank`): whitespace (spaCy keeps extra
  spaces, tabs and line breaks as tokens), control and format characters
  (zero-width space, word joiner, soft hyphen, byte-order mark, direction
  marks), the other default-ignorable characters (Hangul fillers, variation
  selectors) and the blank Braille cell; or
* the transformer gave it no sub-word, where that is known: the XLM-R
  tokenizer drops ``▁`` and ``\\ufffd`` too, and ``conner.first_subword.v1``
  gives such a word a zero vector, so its emission scores are the layer's
  bias alone (a double space came back as ORG).

The text decides for the invisible characters that the tokenizer does turn
into a piece (the word joiner becomes ``▁`` + ``\\u2060``); the sub-word
counts are those the transformer listener reads (:func:`piece_counts`): the
batch the transformer sent it in training, ``doc._.trf_data`` at inference,
the same alignment of the same text. Blank words are kept ``O``:

* at inference, Viterbi may give them no other tag (``O`` is legal next to
  any tag, so the path stays legal BIOES and no entity spans them), unless
  an entity set before the tagger holds them;
* in training, their gold tag is ``O`` and an entity that contains them is
  split around them, as inference would tag it.
"""

import functools
import unicodedata
from typing import List, Optional, Sequence, Union

import numpy
from spacy.tokens import Doc
from spacy_transformers.layers.listener import TransformerListener
from thinc.api import Model

from ..transformer.adapter import listener_outputs
from .tags import OUTSIDE, bioes, spans_from_tags

# Invisible characters that are neither whitespace nor in the control (Cc) or
# format (Cf) categories: Unicode's other default-ignorable code points
# (combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
# Mongolian and other variation selectors, reserved ones) and the blank
# Braille cell, which renders as a space.
OTHER_INVISIBLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})


def is_invisible(char: str) -> bool:
    """Whether the character ``char`` shows nothing (see the module docstring)."""
    if char.isspace() or unicodedata.category(char) in INVISIBLE_CATEGORIES:
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in OTHER_INVISIBLE)


@functools.lru_cache(maxsize=65536)
def is_blank(text: str) -> bool:
    """Whether ``text`` holds only invisible characters (cached: it runs on
    every word at inference, and words repeat)."""
    return all(is_invisible(char) for char in text)


def blank_tokens(doc: Doc, counts: Optional[numpy.ndarray] = None) -> numpy.ndarray:
    """Boolean mask of the words of ``doc`` that are never entities: blank
    text, or no sub-word where ``counts`` (sub-words per word) are known."""
    blank = numpy.asarray([is_blank(token.text) for token in doc], dtype=bool)
    if counts is not None and len(counts) == len(doc):
        blank |= numpy.asarray(counts) == 0
    return blank


def piece_counts(model: Model, docs: Sequence[Doc]) -> List[Optional[numpy.ndarray]]:
    """Sub-words per word of each doc, as the transformer listener in
    ``model`` reads them (None where unknown, e.g. without a transformer).

    In training the listener holds the batch the transformer sent it; at
    inference (and where that batch is not this one) it reads ``doc._.trf_data``.
    """
    listener = next((node for node in model.walk() if isinstance(node, TransformerListener)), None)
    outputs = None if listener is None else listener_outputs(listener, list(docs))
    if outputs is not None:
        return [_lengths(data) for data in outputs]
    return [_lengths(doc._.trf_data if doc.has_extension("trf_data") else None) for doc in docs]


def _lengths(trf_data) -> Optional[numpy.ndarray]:
    align = getattr(trf_data, "align", None)
    return None if align is None else numpy.asarray(align.lengths)


def outside_tags(tags: Sequence[str], mask: Union[Sequence[bool], numpy.ndarray]) -> List[str]:
    """Legal BIOES ``tags`` with the masked tokens ``O`` and the entities they cut split."""
    if not any(mask):
        return list(tags)
    out = [OUTSIDE] * len(tags)
    for start, end, label in spans_from_tags(tags):
        piece_start = None
        for i in range(start, end + 1):
            inside = i < end and not mask[i]
            if inside and piece_start is None:
                piece_start = i
            elif not inside and piece_start is not None:
                out[piece_start:i] = bioes(i - piece_start, label)
                piece_start = None
    return out
