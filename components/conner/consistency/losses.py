"""ConNER consistency losses as pure torch functions (no spaCy, no Thinc).

Everything is computed in log space. The pieces, bottom-up:

* :func:`token_log_probs` - per-token log tag distributions, either the
  softmax of the emission scores (what the paper uses) or exact CRF
  marginals (:func:`crf_log_marginals`, an option beyond the paper).
* :func:`span_log_distribution` - Algorithm 1 of the paper: token
  distributions of a span -> log distribution over
  ``{label_1, ..., label_N, O, illegal}``.
* :func:`legal_span_log_distribution` - the same over the legal outcomes
  only, renormalised (an option beyond the paper).
* :func:`kl_divergence` / :func:`consistency_divergence` - row-wise KL and
  the three divergences of the paper's Table 5.
* :func:`dropout_consistency` (L_drop, Eq. 3) and
  :func:`translation_consistency` (L_trans, Eq. 2).

Reading of the paper (ConNER, EMNLP 2022) that these functions follow:

* "bidirectional KL" is the *average* of the two directions,
  ``0.5 * [KL(P||Q) + KL(Q||P)]`` (Eqs. 2, 3 and 5c all carry the 1/2).
* ``kl_unlabeled`` is Eq. 5a, ``KL(P_unlabeled || P_translation)``: the
  prediction on the unlabeled target-language span is the reference
  ("ground-truth") distribution. ``kl_translation`` is Eq. 5b,
  ``KL(P_translation || P_unlabeled)``: the prediction on the translated
  (source-language) span is the reference.
* The paper never mentions a stop-gradient, and the authors' released code
  (``trainer.py`` of RandyZhouRan/ConNER) detaches neither side, so by
  default gradients flow into *both* distributions in every mode.
  ``detach_reference=True`` turns the reference side of each KL term
  into a constant (a UDA-style teacher), for users who want that reading
  of "taken as ground-truth probabilities".
* L_drop and L_trans are means: over the real tokens (Eq. 3, 1/n) and over
  the conjugate pairs (Eq. 2, 1/m). The batch versions here average over
  all real tokens / all pairs of the batch, as the released code does.

Tag layout (see :mod:`conner.tagger.tags`): index 0 is ``O``; then, per label in
sorted order, ``B-``, ``I-``, ``E-``, ``S-``.
"""

import math
from typing import NamedTuple, Optional, Protocol, Sequence, Union

import torch
from torch import Tensor

from ..settings import (
    DIVERGENCE,
    SPAN_OUTCOMES,
    TOKEN_DISTRIBUTION,
    Divergence,
    SpanOutcomes,
    TokenDistribution,
    check_choice,
)
from ..tagger.tags import TagSet

SpanSpec = Union[Tensor, Sequence[Sequence[int]]]


class CRFTables(Protocol):
    """A module holding a linear-chain CRF's tables under ``torchcrf.CRF``'s names."""

    @property
    def start_transitions(self) -> Tensor: ...

    @property
    def transitions(self) -> Tensor: ...

    @property
    def end_transitions(self) -> Tensor: ...


class CRFParams(NamedTuple):
    """The three score tables of a linear-chain CRF over ``K`` tags."""

    start_transitions: Tensor  # (K,)
    transitions: Tensor  # (K, K), [from, to]
    end_transitions: Tensor  # (K,)

    @classmethod
    def from_module(cls, crf: CRFTables) -> "CRFParams":
        """Take the tables of a ``torchcrf.CRF``-like module (same attribute names)."""
        return cls(crf.start_transitions, crf.transitions, crf.end_transitions)


# ---------------------------------------------------------------------------
# Small numerical helpers
# ---------------------------------------------------------------------------


def log1mexp(x: Tensor) -> Tensor:
    """``log(1 - exp(x))`` for ``x < 0``, accurate at both ends.

    Uses ``log(-expm1(x))`` near 0 and ``log1p(-exp(x))`` below ``-log 2``
    (Maechler 2012). The caller must keep ``x`` strictly negative; both
    branches are then finite, so ``torch.where`` does not leak NaN gradients.
    """
    return torch.where(
        x > -math.log(2.0),
        torch.log(-torch.expm1(x)),
        torch.log1p(-torch.exp(x)),
    )


def _finite_floor(t: Tensor) -> Tensor:
    """Replace ``-inf`` log-probabilities by the most negative finite number.

    Only changes entries whose probability is exactly zero; it keeps
    ``0 * log 0`` terms at 0 (instead of NaN) in values and gradients.
    """
    return t.clamp(min=torch.finfo(t.dtype).min)


def _as_mask(mask: Optional[Tensor], emissions: Tensor) -> Tensor:
    if mask is None:
        return torch.ones(emissions.shape[:2], dtype=torch.bool, device=emissions.device)
    if mask.shape != emissions.shape[:2]:
        raise ValueError(
            f"mask shape {tuple(mask.shape)} != emissions (B, T) {tuple(emissions.shape[:2])}"
        )
    return mask.to(device=emissions.device, dtype=torch.bool)


# ---------------------------------------------------------------------------
# Token distributions
# ---------------------------------------------------------------------------


def crf_log_marginals(
    emissions: Tensor,
    mask: Optional[Tensor],
    start_transitions: Tensor,
    transitions: Tensor,
    end_transitions: Tensor,
) -> Tensor:
    """Exact per-token tag log-marginals of a linear-chain CRF (forward-backward).

    Args:
        emissions: (B, T, K) emission scores.
        mask: (B, T) bool, True on real tokens; each row must be a prefix of
            True values (left-aligned padding), as in ``torchcrf``. ``None``
            means no padding.
        start_transitions: (K,) scores of the first tag.
        transitions: (K, K) scores, ``transitions[i, j]`` for tag i -> tag j.
        end_transitions: (K,) scores of the last tag.

    Returns:
        (B, T, K) ``log P(y_t = k | x)``; each real row has logsumexp 0.
        Padded rows are the uniform distribution (``-log K``) - meaningless
        but finite. Illegal moves should be large negative scores (e.g.
        -1e4); ``-inf`` also works but yields ``-inf`` marginals.
    """
    mask = _as_mask(mask, emissions)
    emissions = emissions.masked_fill(~mask.unsqueeze(-1), 0.0)
    batch, length, n_tags = emissions.shape
    trans = transitions.unsqueeze(0)  # (1, K_from, K_to)

    alphas = [start_transitions.unsqueeze(0) + emissions[:, 0]]
    for t in range(1, length):
        step = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]
        alphas.append(torch.where(mask[:, t : t + 1], step, alphas[-1]))
    # Padded steps carry alpha forward, so alphas[-1] is at each row's last real token.
    log_z = torch.logsumexp(alphas[-1] + end_transitions.unsqueeze(0), dim=1)  # (B,)

    end = end_transitions.unsqueeze(0).expand(batch, n_tags)
    betas = [end]
    for t in range(length - 2, -1, -1):
        nxt = emissions[:, t + 1] + betas[-1]  # (B, K_to)
        step = torch.logsumexp(trans + nxt.unsqueeze(1), dim=2)  # (B, K_from)
        betas.append(torch.where(mask[:, t + 1 : t + 2], step, end))
    betas.reverse()

    alpha = torch.stack(alphas, dim=1)
    beta = torch.stack(betas, dim=1)
    marginals = alpha + beta - log_z.view(batch, 1, 1)
    return marginals.masked_fill(~mask.unsqueeze(-1), -math.log(n_tags))


def token_log_probs(
    emissions: Tensor,
    mask: Optional[Tensor] = None,
    token_distribution: TokenDistribution = TOKEN_DISTRIBUTION,
    crf_params: Optional[CRFParams] = None,
) -> Tensor:
    """Per-token log tag distributions used by the consistency losses.

    Args:
        emissions: (B, T, K) emission scores.
        mask: (B, T) bool, True on real tokens (``None``: all real). Padded
            rows are replaced by the uniform distribution; their emission
            values never influence the result.
        token_distribution: ``"softmax"`` - ``log_softmax`` of the
            emissions, as in the paper; ``"crf"`` - exact CRF marginals
            (needs ``crf_params``).
        crf_params: transition tables for ``token_distribution="crf"``.

    Returns:
        (B, T, K) log-probabilities.
    """
    check_choice("token_distribution", token_distribution)
    mask = _as_mask(mask, emissions)
    if token_distribution == "crf":
        if crf_params is None:
            raise ValueError("token_distribution='crf' needs crf_params")
        return crf_log_marginals(emissions, mask, *crf_params)
    clean = emissions.masked_fill(~mask.unsqueeze(-1), 0.0)
    return torch.log_softmax(clean, dim=-1)


# ---------------------------------------------------------------------------
# Algorithm 1: token -> span distributions
# ---------------------------------------------------------------------------


def _span_tensor(spans: SpanSpec, token_logp: Tensor) -> Tensor:
    """Normalise ``spans`` to an (N, 3) int64 tensor of (batch, start, end)."""
    if isinstance(spans, Tensor):
        out = spans.to(device=token_logp.device, dtype=torch.long)
    else:
        out = torch.as_tensor([list(s) for s in spans], dtype=torch.long, device=token_logp.device)
    if out.numel() == 0:
        return out.reshape(0, 3)
    width = 2 if token_logp.dim() == 2 else 3
    if out.dim() != 2 or out.shape[1] != width:
        raise ValueError(f"spans must be (N, {width}) for a {token_logp.dim()}-d token_logp")
    if width == 2:
        out = torch.cat([out.new_zeros(out.shape[0], 1), out], dim=1)
    return out


def span_log_distribution(token_logp: Tensor, spans: SpanSpec, tagset: TagSet) -> Tensor:
    """Log span distributions over ``{label_1..label_N, O, illegal}`` (Algorithm 1).

    For a span of tokens ``u = i..j`` (``spans`` use exclusive ends, j = end-1):

    * one token: ``P(label) = P_t(S-label | x_i)``;
    * two or more: ``P(label) = P_t(B-label|x_i) * prod_{i<u<j} P_t(I-label|x_u)
      * P_t(E-label|x_j)`` (the paper's two-token case reads ``E`` at ``x_i``;
      Fig. 2 and the released code use ``x_j``, as here);
    * ``P(O) = prod_u P_t(O | x_u)``;
    * ``P(illegal) = 1 - sum(others)``, as ``log1mexp(logsumexp(others))``.
      In floating point the others can sum to 1 (or a hair above) when the
      model is confident, so their logsumexp is clamped to at most
      ``-eps`` of the dtype: ``log P(illegal) >= log(eps)`` (about -15.9 in
      float32), always finite with finite gradients.

    Vectorised over spans: each span's rows are gathered into a padded
    (N, L_max, K) window and summed under a length mask. (Differences of
    cumulative sums would also work, but lose precision once a sentence
    holds very negative log-probabilities such as -2e4.)

    Args:
        token_logp: (B, T, K) log tag probabilities (e.g. ``log_softmax`` of
            the emissions), or (T, K) for a single sentence.
        spans: (N, 3) rows ``(batch_index, start, end)`` with ``end``
            exclusive - or (N, 2) ``(start, end)`` rows for a (T, K) input;
            a tensor or a sequence of tuples.
        tagset: the :class:`~conner.tagger.tags.TagSet` whose layout ``token_logp``
            follows.

    Returns:
        (N, N_labels + 2) log-probabilities, columns in ``tagset.labels``
        order, then ``O``, then ``illegal``. Each row's exp sums to 1 (up to
        the ``eps`` floor on ``illegal``).
    """
    if token_logp.dim() not in (2, 3):
        raise ValueError("token_logp must be (T, K) or (B, T, K)")
    if token_logp.shape[-1] != tagset.n_tags:
        raise ValueError(f"token_logp has {token_logp.shape[-1]} tags, tagset has {tagset.n_tags}")
    span_t = _span_tensor(spans, token_logp)
    logp = token_logp.unsqueeze(0) if token_logp.dim() == 2 else token_logp
    device = logp.device
    n_labels = len(tagset.labels)
    if span_t.shape[0] == 0:
        return logp.new_zeros((0, n_labels + 2))

    b_idx, starts, ends = span_t.unbind(1)
    lengths = ends - starts
    n_batch, n_tokens = logp.shape[:2]
    if (lengths < 1).any() or (starts < 0).any() or (ends > n_tokens).any():
        raise ValueError("every span needs 0 <= start < end <= T")
    if (b_idx < 0).any() or (b_idx >= n_batch).any():
        raise ValueError("span batch index out of range")

    max_len = int(lengths.max())
    offsets = torch.arange(max_len, device=device)
    positions = (starts.unsqueeze(1) + offsets).clamp(max=n_tokens - 1)  # (N, L)
    window = logp[b_idx.unsqueeze(1), positions]  # (N, L, K)
    in_span = offsets.unsqueeze(0) < lengths.unsqueeze(1)  # (N, L)
    inner = (
        in_span & (offsets.unsqueeze(0) >= 1) & (offsets.unsqueeze(0) < (lengths - 1).unsqueeze(1))
    )

    def idx(prefix: str) -> Tensor:
        return torch.as_tensor(tagset.prefix_indices(prefix), device=device)

    first = window[:, 0]  # (N, K)
    last = window[torch.arange(window.shape[0], device=device), lengths - 1]  # (N, K)
    middle_i = window[..., idx("I")].masked_fill(~inner.unsqueeze(-1), 0.0).sum(1)  # (N, C)
    multi = first[:, idx("B")] + middle_i + last[:, idx("E")]
    single = first[:, idx("S")]
    entity = torch.where((lengths == 1).unsqueeze(1), single, multi)  # (N, C)
    outside = window[..., 0].masked_fill(~in_span, 0.0).sum(1, keepdim=True)  # (N, 1)

    legal = torch.cat([entity, outside], dim=1)
    legal_mass = torch.logsumexp(legal, dim=1, keepdim=True)
    legal_mass = legal_mass.clamp(max=-torch.finfo(legal.dtype).eps)
    illegal = log1mexp(legal_mass)
    return torch.cat([legal, illegal], dim=1)


def legal_span_log_distribution(span_logp: Tensor) -> Tensor:
    """Span log distributions renormalised over the legal outcomes.

    Takes :func:`span_log_distribution`'s (N, N_labels + 2) output and
    returns (N, N_labels + 1) log-probabilities over ``{label_1..label_N,
    O}``: the ``illegal`` column dropped, each row renormalised. Every legal
    outcome takes one tag per token of the span, so with softmax token
    distributions the per-token normalisers cancel here, and a row depends
    only on the differences of the emission scores of the span's legal
    labelings. A model cannot meet a divergence over these rows by moving
    both sides' mass onto ``illegal``.
    """
    legal = span_logp[:, :-1]
    return legal - torch.logsumexp(legal, dim=1, keepdim=True)


# ---------------------------------------------------------------------------
# Divergences
# ---------------------------------------------------------------------------


def kl_divergence(p_log: Tensor, q_log: Tensor) -> Tensor:
    """Row-wise ``KL(P || Q) = sum_k P_k (log P_k - log Q_k)`` over the last dim.

    Both arguments are log-probabilities of the same shape; zero
    probabilities (``-inf``) in ``P`` contribute 0. No stop-gradient.
    """
    p_log = _finite_floor(p_log)
    q_log = _finite_floor(q_log)
    return (p_log.exp() * (p_log - q_log)).sum(-1)


def consistency_divergence(
    p_log: Tensor,
    q_log: Tensor,
    divergence: Divergence = DIVERGENCE,
    detach_reference: bool = False,
) -> Tensor:
    """Row-wise divergence between two log distributions (the paper's Table 5).

    ``P`` is the original side (unlabeled target-language span, or the first
    dropout pass) and ``Q`` the perturbed side (its translation, or the
    second pass).

    * ``"bi"`` (Eq. 5c / Eqs. 2, 3): ``0.5 * [KL(P||Q) + KL(Q||P)]`` - the
      average of the two directions, not their sum; symmetric.
    * ``"kl_unlabeled"`` (Eq. 5a): ``KL(P||Q)``, ``P`` is the reference.
    * ``"kl_translation"`` (Eq. 5b): ``KL(Q||P)``, ``Q`` is the reference.

    ``detach_reference``: if True, the first argument of every KL term (its
    reference distribution) is treated as a constant. The paper and its
    released code use no stop-gradient, hence the default False.

    Returns:
        Tensor of the leading shape (last dim reduced).
    """
    check_choice("divergence", divergence)

    def kl(ref: Tensor, other: Tensor) -> Tensor:
        return kl_divergence(ref.detach() if detach_reference else ref, other)

    if divergence == "kl_unlabeled":
        return kl(p_log, q_log)
    if divergence == "kl_translation":
        return kl(q_log, p_log)
    return 0.5 * (kl(p_log, q_log) + kl(q_log, p_log))


def _zero_with_grad(first: Tensor, *rest: Tensor) -> Tensor:
    """A scalar 0 connected to the tensors (sum over an empty slice: never NaN)."""
    zero = first.reshape(-1)[:0].sum()
    for tensor in rest:
        zero = zero + tensor.reshape(-1)[:0].sum()
    return zero


# ---------------------------------------------------------------------------
# The two consistency losses
# ---------------------------------------------------------------------------


def dropout_consistency(
    emissions_a: Tensor,
    emissions_b: Tensor,
    mask: Optional[Tensor] = None,
    divergence: Divergence = DIVERGENCE,
    token_distribution: TokenDistribution = TOKEN_DISTRIBUTION,
    crf_params: Optional[CRFParams] = None,
    detach_reference: bool = False,
) -> Tensor:
    """L_drop (Eq. 3): token-level divergence between two dropout passes.

    Args:
        emissions_a, emissions_b: (B, T, K) emission scores of the same
            labeled batch from two forward passes (different dropout masks).
        mask: (B, T) bool, True on real tokens (e.g. first sub-word of each
            word). Padded positions do not affect the value.
        divergence: see :func:`consistency_divergence`; ``a`` plays ``P``,
            ``b`` plays ``Q``.
        token_distribution, crf_params: see :func:`token_log_probs`.
        detach_reference: see :func:`consistency_divergence`.

    Returns:
        Scalar: the divergence averaged over all real tokens of the batch
        (0 with a gradient path if there are none). Exactly 0 when
        ``emissions_a`` equals ``emissions_b``.
    """
    if emissions_a.shape != emissions_b.shape:
        raise ValueError("the two passes must have the same shape")
    mask = _as_mask(mask, emissions_a)
    logp_a = token_log_probs(emissions_a, mask, token_distribution, crf_params)
    logp_b = token_log_probs(emissions_b, mask, token_distribution, crf_params)
    per_token = consistency_divergence(logp_a, logp_b, divergence, detach_reference)  # (B, T)
    n_real = mask.sum()
    if int(n_real) == 0:
        return _zero_with_grad(emissions_a, emissions_b)
    return per_token.masked_fill(~mask, 0.0).sum() / n_real


def translation_consistency(
    unlabeled_emissions: Tensor,
    unlabeled_spans: SpanSpec,
    translated_emissions: Tensor,
    translated_spans: SpanSpec,
    tagset: TagSet,
    divergence: Divergence = DIVERGENCE,
    unlabeled_mask: Optional[Tensor] = None,
    translated_mask: Optional[Tensor] = None,
    token_distribution: TokenDistribution = TOKEN_DISTRIBUTION,
    crf_params: Optional[CRFParams] = None,
    detach_reference: bool = False,
    span_outcomes: SpanOutcomes = SPAN_OUTCOMES,
) -> Tensor:
    """L_trans (Eq. 2): span-level divergence over conjugate pairs.

    Pair ``i`` is span ``unlabeled_spans[i]`` of the unlabeled
    (target-language) batch and span ``translated_spans[i]`` of its
    translation batch.

    Args:
        unlabeled_emissions: (B, T, K) emissions of the unlabeled sentences.
        unlabeled_spans: (N, 3) ``(batch_index, start, end)``, end exclusive.
        translated_emissions: (B', T', K) emissions of the translations.
        translated_spans: (N, 3), row-aligned with ``unlabeled_spans``.
        tagset: tag layout of the emissions.
        divergence: see :func:`consistency_divergence`; the unlabeled side
            is ``P``, the translated side ``Q``.
        unlabeled_mask, translated_mask: (B, T) real-token masks (needed
            for ``token_distribution="crf"``; ``None`` = no padding).
        token_distribution, crf_params: see :func:`token_log_probs`.
        detach_reference: see :func:`consistency_divergence`.
        span_outcomes: ``"all"`` compares the span distributions over every
            outcome, ``illegal`` included (the paper); ``"legal"`` over the
            entity types and ``O``, renormalised
            (:func:`legal_span_log_distribution`).

    Returns:
        Scalar: mean divergence over the N pairs; with N = 0, a zero that is
        still connected to both emission tensors.
    """
    span_u = _span_tensor(unlabeled_spans, unlabeled_emissions)
    span_t = _span_tensor(translated_spans, translated_emissions)
    check_choice("span_outcomes", span_outcomes)
    if span_u.shape[0] != span_t.shape[0]:
        raise ValueError(
            f"{span_u.shape[0]} unlabeled spans but {span_t.shape[0]} translated spans"
        )
    if span_u.shape[0] == 0:
        return _zero_with_grad(unlabeled_emissions, translated_emissions)
    logp_u = token_log_probs(unlabeled_emissions, unlabeled_mask, token_distribution, crf_params)
    logp_t = token_log_probs(translated_emissions, translated_mask, token_distribution, crf_params)
    dist_u = span_log_distribution(logp_u, span_u, tagset)
    dist_t = span_log_distribution(logp_t, span_t, tagset)
    if span_outcomes == "legal":
        dist_u = legal_span_log_distribution(dist_u)
        dist_t = legal_span_log_distribution(dist_t)
    return consistency_divergence(dist_u, dist_t, divergence, detach_reference).mean()
