"""What translation consistency actually compares: span distributions on pairs.

Algorithm 1 turns token distributions into a distribution over
``{label_1..label_N, O, illegal}`` per span. When most of that mass is on
"illegal", L_trans mostly aligns how each side splits a type over B/I/E/S,
which decoding ignores. These numbers make that visible: they are logged at
every evaluation (``conner.ConsoleLogger.v1``) and written into evaluation
reports (``conner evaluate --pairs``).
"""

import random
from pathlib import Path
from typing import Dict, List, Optional, Protocol, Sequence, Tuple, cast

import torch
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from thinc.api import Model, xp2torch

from ..settings import TokenDistribution
from ..tagger.crf import crf_module, pad_emissions
from ..tagger.tags import TagSet
from .groups import find_consistency_groups
from .losses import CRFParams, span_log_distribution, token_log_probs
from .pairs import bare_copy, load_pairs

DISTRIBUTIONS: Tuple[TokenDistribution, ...] = ("softmax", "crf")


class LossWeights(Protocol):
    """The weights of L_drop and L_trans (:class:`conner.component.ConsistencyWeights`)."""

    @property
    def alpha(self) -> float: ...

    @property
    def beta(self) -> float: ...


class ConnerPipe(Protocol):
    """What the diagnostics and the training logger read of the conner pipe
    (:class:`conner.component.ConnerTagger`, on a floor above this module)."""

    model: Model
    weights: LossWeights

    @property
    def tagset(self) -> TagSet: ...


def span_agreement(dist_target: torch.Tensor, dist_translation: torch.Tensor) -> Dict[str, float]:
    """Summaries of row-aligned log span distributions (columns: labels, O, illegal).

    Returns the mean probability of "illegal" and of O on each side, how
    often the two argmaxes agree, and how often both argmaxes are a label.
    """
    if dist_target.shape != dist_translation.shape:
        raise ValueError("the two sides must have the same shape")
    if dist_target.shape[0] == 0:
        return {"spans": 0}
    p_u, p_t = dist_target.exp(), dist_translation.exp()
    arg_u, arg_t = p_u.argmax(-1), p_t.argmax(-1)
    n_labels = p_u.shape[1] - 2
    return {
        "spans": int(p_u.shape[0]),
        "illegal_target": float(p_u[:, -1].mean()),
        "illegal_translation": float(p_t[:, -1].mean()),
        "outside_target": float(p_u[:, -2].mean()),
        "outside_translation": float(p_t[:, -2].mean()),
        "argmax_agree": float((arg_u == arg_t).float().mean()),
        "argmax_both_label": float(((arg_u < n_labels) & (arg_t < n_labels)).float().mean()),
    }


def sample_pairs(path: Path, vocab, size: int, seed: int = 0) -> List[Tuple[Doc, Doc]]:
    """A fixed sample of ``size`` conjugate pairs of ``path`` (file or directory)."""
    pairs = load_pairs(Path(path), vocab)
    random.Random(seed).shuffle(pairs)
    return pairs[:size]


def pair_span_diagnostics(
    nlp: Language,
    pairs: Sequence[Tuple[Doc, Doc]],
    component: str = "conner",
    distributions: Sequence[TokenDistribution] = DISTRIBUTIONS,
    batch_size: int = 64,
) -> Dict[str, Dict[str, float]]:
    """Span distributions of the pipeline on conjugate pairs, per token
    distribution (emission softmax and CRF marginals), summarised by
    :func:`span_agreement`. The pipeline is run without dropout."""
    # get_pipe is typed as a plain callable.
    pipe = cast(ConnerPipe, nlp.get_pipe(component))
    tagset = pipe.tagset
    docs = [bare_copy(d, nlp.vocab) for p in pairs for d in p]
    emissions = []
    for start in range(0, len(docs), batch_size):
        batch = docs[start : start + batch_size]
        for name, proc in nlp.pipeline:
            if name == component:
                break
            # The pipes before the tagger (the transformer) are Pipes, with .pipe.
            batch = list(cast(Pipe, proc).pipe(batch))
        emissions.extend(pipe.model.predict(batch))
    # Same pairing of conjugate spans as in training (docs are target, translation, ...).
    groups = find_consistency_groups([doc for pair in pairs for doc in pair])
    spans_u, spans_t = groups.unlabeled_spans, groups.translated_spans
    if not spans_u:
        return {}
    padded, mask = pad_emissions(emissions, pipe.model.ops.xp)
    scores, real = xp2torch(padded), xp2torch(mask).bool()
    crf = crf_module(pipe.model.get_ref("crf"))
    out: Dict[str, Dict[str, float]] = {}
    with torch.no_grad():
        for source in distributions:
            params: Optional[CRFParams] = CRFParams.from_module(crf) if source == "crf" else None
            logp = token_log_probs(scores, real, source, params)
            out[source] = span_agreement(
                span_log_distribution(logp, spans_u, tagset),
                span_log_distribution(logp, spans_t, tagset),
            )
    return out


def loss_shares(
    losses: Dict[str, float], alpha: float, beta: float, component: str = "conner"
) -> Dict[str, float]:
    """Each term's share of the weighted loss: NLL, alpha * L_drop, beta * L_trans."""
    terms = {
        "nll": losses.get(f"{component}_nll", 0.0),
        "drop": alpha * losses.get(f"{component}_drop", 0.0),
        "trans": beta * losses.get(f"{component}_trans", 0.0),
    }
    total = sum(terms.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in terms.items()}
