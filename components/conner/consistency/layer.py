"""The two ConNER consistency losses as a Thinc layer over padded emissions.

Input: ``(emissions, mask, groups)``: the (B, T, K) emission scores of a
training batch padded by :func:`conner.tagger.crf.pad_emissions`, its (B, T)
real-token mask, and the batch's dropout twins and conjugate spans
(:func:`conner.consistency.groups.find_consistency_groups`).

Output: ``(L_drop, L_trans)`` as floats. The backward pass takes the weight
of each term, ``(alpha, beta)``, and returns the gradient of
``alpha * L_drop + beta * L_trans`` with respect to the emissions. With
``token_distribution = "crf"`` the CRF marginals also depend on the CRF's
transition scores; their gradients accumulate in the CRF layer's PyTorch
shim and are applied by its ``finish_update``, like the NLL's.

The math itself is in :mod:`conner.consistency.losses` (pure torch).
"""

from typing import Callable, Tuple, cast

from thinc.api import Model, torch2xp, xp2torch
from thinc.types import Floats2d, Floats3d

from ..settings import (
    DETACH_REFERENCE,
    DIVERGENCE,
    SPAN_OUTCOMES,
    TOKEN_DISTRIBUTION,
    Divergence,
    SpanOutcomes,
    TokenDistribution,
)
from ..tagger.crf import crf_module
from ..tagger.tags import TagSet
from .groups import ConsistencyGroups
from .losses import CRFParams, dropout_consistency, translation_consistency

ConsistencyInput = Tuple[Floats3d, Floats2d, ConsistencyGroups]
ConsistencyTerms = Tuple[float, float]


def build_consistency_loss(
    tagset: TagSet,
    crf: Model,
    *,
    divergence: Divergence = DIVERGENCE,
    token_distribution: TokenDistribution = TOKEN_DISTRIBUTION,
    detach_reference: bool = DETACH_REFERENCE,
    span_outcomes: SpanOutcomes = SPAN_OUTCOMES,
) -> Model[ConsistencyInput, ConsistencyTerms]:
    """The loss layer of a tagger over ``tagset`` whose CRF layer is ``crf``.

    divergence (Divergence): "bi", "kl_unlabeled" or "kl_translation" (paper, Table 5).
    token_distribution (TokenDistribution): "softmax" of the emissions or exact "crf" marginals.
    detach_reference (bool): treat the reference side of each KL as a constant.
    span_outcomes (SpanOutcomes): "all" outcomes of a span (paper) or the "legal" ones, renormalised.
    """
    # No parameters of its own (the CRF's belong to the CRF layer), so the
    # layer is never serialized and may hold plain Python settings.
    return Model(
        "conner_consistency_loss",
        forward,
        refs={"crf": crf},
        attrs={
            "tagset": tagset,
            "divergence": divergence,
            "token_distribution": token_distribution,
            "detach_reference": detach_reference,
            "span_outcomes": span_outcomes,
        },
    )


def forward(
    model: Model[ConsistencyInput, ConsistencyTerms], inputs: ConsistencyInput, is_train: bool
) -> Tuple[ConsistencyTerms, Callable[[ConsistencyTerms], Floats3d]]:
    padded, mask, groups = inputs
    attrs = model.attrs
    scores = xp2torch(padded, requires_grad=is_train)
    real = xp2torch(mask).bool()
    crf_params = None
    if attrs["token_distribution"] == "crf":
        crf_params = CRFParams.from_module(crf_module(model.get_ref("crf")))
    options = dict(
        divergence=attrs["divergence"],
        token_distribution=attrs["token_distribution"],
        crf_params=crf_params,
        detach_reference=attrs["detach_reference"],
    )
    first, second = groups.twins
    drop = dropout_consistency(scores[first], scores[second], real[first], **options)
    trans = translation_consistency(
        scores,
        groups.unlabeled_spans,
        scores,
        groups.translated_spans,
        attrs["tagset"],
        unlabeled_mask=real,
        translated_mask=real,
        span_outcomes=attrs["span_outcomes"],
        **options,
    )

    def backprop(d_terms: ConsistencyTerms) -> Floats3d:
        d_drop, d_trans = d_terms
        (d_drop * drop + d_trans * trans).backward()
        if scores.grad is None:
            raise ValueError("the consistency terms were computed with is_train=False: no gradient")
        # torch2xp is typed for any array; the gradient has the scores' shape.
        return cast(Floats3d, torch2xp(scores.grad))

    return (float(drop.detach()), float(trans.detach())), backprop
