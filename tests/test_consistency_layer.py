"""The consistency losses as a Thinc layer: which rows of the batch each
setting trains. With ``divergence = "kl_translation"`` and
``detach_reference = true`` the translation is a fixed teacher: only the
target sentence (and only the first dropout pass, the "original" side P of
:func:`conner.consistency.losses.consistency_divergence`) gets a gradient."""

import numpy
import pytest

from conner.consistency.groups import ConsistencyGroups
from conner.consistency.layer import build_consistency_loss
from conner.tagger.crf import build_crf
from conner.tagger.tags import TagSet

TAGSET = TagSet.from_labels(["LOC", "PER"])
# Rows: 0 and 1 are dropout twins of a labeled sentence; 2 is a target
# sentence, 3 its translation, conjugate spans (2, 1, 3) and (3, 0, 2).
GROUPS = ConsistencyGroups(([0], [1]), [(2, 1, 3)], [(3, 0, 2)])


def row_gradients(divergence, detach_reference, d_terms):
    """|gradient| summed per row of a random (4, 5, K) emission batch."""
    crf = build_crf(TAGSET)
    crf.initialize()
    layer = build_consistency_loss(
        TAGSET, crf, divergence=divergence, detach_reference=detach_reference
    )
    emissions = numpy.random.default_rng(0).normal(size=(4, 5, TAGSET.n_tags)).astype("float32")
    mask = numpy.ones((4, 5), dtype="float32")
    terms, backprop = layer((emissions, mask, GROUPS), is_train=True)
    d_emissions = numpy.asarray(backprop(d_terms))
    assert d_emissions.shape == emissions.shape
    return terms, numpy.abs(d_emissions).sum(axis=(1, 2))


@pytest.mark.parametrize("divergence", ["bi", "kl_unlabeled", "kl_translation"])
def test_without_a_stop_gradient_both_sides_of_each_term_learn(divergence):
    terms, rows = row_gradients(divergence, False, (1.0, 1.0))
    assert min(terms) > 0
    assert (rows > 1e-6).all(), rows


def test_the_translation_as_teacher_trains_the_target_side_only():
    """KL(translation || target) with the translation held fixed: the value is
    the plain KL's, the gradient reaches the target row alone (and the first
    dropout pass alone: the second pass plays the translation's role)."""
    plain_terms, plain_rows = row_gradients("kl_translation", False, (1.0, 1.0))
    terms, rows = row_gradients("kl_translation", True, (1.0, 1.0))
    assert terms == pytest.approx(plain_terms, rel=1e-6)
    assert rows[2] > 1e-6 and rows[3] == 0.0  # target learns, translation does not
    assert rows[0] > 1e-6 and rows[1] == 0.0  # the second pass is the reference, the first learns
    assert rows[2] == pytest.approx(plain_rows[2], rel=1e-5)  # the student's gradient is unchanged


def test_the_target_as_reference_trains_the_translation_side_only():
    _, rows = row_gradients("kl_unlabeled", True, (1.0, 1.0))
    assert rows[3] > 1e-6 and rows[2] == 0.0
    assert rows[0] == 0.0 and rows[1] > 1e-6


def test_each_term_trains_only_its_own_rows():
    _, drop_only = row_gradients("bi", False, (1.0, 0.0))
    _, trans_only = row_gradients("bi", False, (0.0, 1.0))
    assert (drop_only[:2] > 0).all() and (drop_only[2:] == 0).all()
    assert (trans_only[:2] == 0).all() and (trans_only[2:] > 0).all()
