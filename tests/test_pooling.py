"""First-sub-word pooling, including words that have no sub-word at all."""

import numpy
from thinc.api import NumpyOps
from thinc.types import Ragged

from conner.transformer.pooling import first_subword


def test_first_piece_per_word_and_zeros_for_a_word_without_pieces():
    model = first_subword()
    model.initialize()
    X = numpy.arange(12, dtype="f").reshape(6, 2)
    lengths = numpy.array([2, 0, 3, 1], dtype="i")
    Y, backprop = model(Ragged(X, lengths), is_train=True)
    numpy.testing.assert_array_equal(Y, [[0, 1], [0, 0], [4, 5], [10, 11]])
    dX = backprop(numpy.ones_like(Y) * numpy.array([[1], [2], [3], [4]], dtype="f"))
    # Gradient goes to each word's first piece only; the empty word sends none.
    numpy.testing.assert_array_equal(dX.data[:, 0], [1, 0, 3, 0, 0, 4])
    numpy.testing.assert_array_equal(dX.lengths, lengths)


def test_matches_thinc_reduce_first_when_no_word_is_empty():
    X = numpy.random.default_rng(0).normal(size=(7, 3)).astype("f")
    lengths = numpy.array([1, 3, 2, 1], dtype="i")
    ours, _ = first_subword()(Ragged(X, lengths), is_train=False)
    theirs, _ = NumpyOps().reduce_first(X, lengths)
    numpy.testing.assert_array_equal(ours, theirs)
