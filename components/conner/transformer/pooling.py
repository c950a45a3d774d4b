"""First-sub-word pooling that also works for words without sub-words.

A spaCy token can align to no transformer piece at all: a whitespace token
(spaCy keeps extra spaces as tokens), a zero-width space or a byte-order
mark, which the XLM-R tokenizer normalises away.
Thinc's ``reduce_first`` raises on such tokens, which would crash training
on real unlabeled text and tagging at inference; these tokens get a zero
vector instead (the emission layer's bias still scores them).
"""

from typing import Callable, Tuple

from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d, Ragged


@registry.layers("conner.first_subword.v1")
def first_subword() -> Model[Ragged, Floats2d]:
    """Pool each word's pieces to the vector of its first piece (zeros if none)."""
    return Model("first_subword", forward)


def forward(model: Model, Xr: Ragged, is_train: bool) -> Tuple[Floats2d, Callable]:
    xp = model.ops.xp
    lengths = model.ops.asarray1i(Xr.lengths)
    starts = xp.cumsum(lengths) - lengths
    has_pieces = lengths > 0
    rows = starts[has_pieces]
    Y = model.ops.alloc2f(lengths.shape[0], Xr.data.shape[1])
    Y[has_pieces] = Xr.data[rows]

    def backprop(dY: Floats2d) -> Ragged:
        dX = model.ops.alloc2f(*Xr.data.shape)
        dX[rows] = dY[has_pieces]
        return Ragged(dX, Xr.lengths)

    return Y, backprop
