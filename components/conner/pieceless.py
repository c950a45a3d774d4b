"""Words without a sub-word are never entities.

The encoder's tokenizer maps some spaCy tokens to no piece at all: the
whitespace tokens spaCy keeps for extra spaces, tabs and line breaks, and
invisible characters such as a zero-width space or a byte-order mark.
``conner.first_subword.v1`` gives them a zero vector, so their emission
scores are the layer's bias alone, and the CRF used to label them (a double
space came back as ORG). Here they are told apart and kept outside:

* at inference, their emission scores of every tag but ``O`` are set to the
  CRF's penalty for illegal moves, so Viterbi labels them ``O``. ``O`` is
  legal after and before any tag, so the path stays legal BIOES; an entity
  cannot span such a token.
* in training, their gold tag is ``O`` and an entity that contains them is
  split around them, as inference would tag it.

Which tokens: those that the transformer aligned to no piece
(``doc._.trf_data.align``), where the Doc went through the transformer
component; otherwise (training batches, which the listener gets straight
from the transformer) those whose text is only whitespace or zero-width
characters, which no tokenizer turns into a piece.
"""
from typing import List, Sequence

import numpy
from spacy.tokens import Doc
from thinc.api import get_array_module

from .bioes_crf import ILLEGAL
from .tags import OUTSIDE, spans_from_tags

# Zero-width space, non-joiner, joiner, word joiner, byte-order mark.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def is_blank(text: str) -> bool:
    """Whether ``text`` holds only whitespace and zero-width characters."""
    return all(char.isspace() or char in ZERO_WIDTH for char in text)


def pieceless_tokens(doc: Doc) -> numpy.ndarray:
    """Boolean mask of the tokens of ``doc`` that have no sub-word."""
    trf_data = doc._.trf_data if doc.has_extension("trf_data") else None
    align = getattr(trf_data, "align", None)
    if align is not None and len(align.lengths) == len(doc):
        return numpy.asarray(align.lengths) == 0
    return numpy.asarray([is_blank(token.text) for token in doc], dtype=bool)


def force_outside(emissions, mask: numpy.ndarray):
    """A copy of ``emissions`` (n_tokens, n_tags) where masked tokens can only be ``O``."""
    if not mask.any():
        return emissions
    forced = emissions.copy()
    # Column 0 is O (conner.tags); the other tags get the illegal-move penalty.
    forced[get_array_module(emissions).asarray(mask), 1:] = ILLEGAL
    return forced


def outside_tags(tags: Sequence[str], mask: Sequence[bool]) -> List[str]:
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


def bioes(length: int, label: str) -> List[str]:
    """BIOES tags of one entity of ``length`` tokens."""
    if length == 1:
        return [f"S-{label}"]
    return [f"B-{label}"] + [f"I-{label}"] * (length - 2) + [f"E-{label}"]

