"""Tests for conner.consistency.losses: Algorithm 1, the KL variants, L_drop, L_trans, CRF marginals."""

import itertools
import math

import numpy
import pytest
import torch

from conner.consistency.losses import (
    CRFParams,
    consistency_divergence,
    crf_log_marginals,
    dropout_consistency,
    kl_divergence,
    legal_span_log_distribution,
    span_log_distribution,
    token_log_probs,
    translation_consistency,
)
from conner.tagger.tags import TagSet

TAGSET = TagSet.from_labels(["PER", "ORG", "LOC", "MISC"])  # sorted: LOC, MISC, ORG, PER
K = TAGSET.n_tags
MODES = ("bi", "kl_unlabeled", "kl_translation")


# --------------------------------------------------------------------------
# Plain reference implementations (probabilities, float64, Python loops)
# --------------------------------------------------------------------------


def algorithm1(probs, start, end, tagset=TAGSET):
    """Algorithm 1 of the paper, written plainly; span [start, end)."""
    i, j = start, end - 1
    out = []
    for label in tagset.labels:
        if i == j:
            p = probs[i, tagset.index(f"S-{label}")]
        else:
            p = probs[i, tagset.index(f"B-{label}")]
            for u in range(i + 1, j):
                p *= probs[u, tagset.index(f"I-{label}")]
            p *= probs[j, tagset.index(f"E-{label}")]
        out.append(p)
    p_o = 1.0
    for u in range(i, j + 1):
        p_o *= probs[u, tagset.index("O")]
    out.append(p_o)
    out.append(1.0 - sum(out))
    return numpy.asarray(out)


def plain_kl(p, q):
    return sum(pk * math.log(pk / qk) for pk, qk in zip(p, q) if pk > 0)


def plain_div(p, q, mode):
    if mode == "kl_unlabeled":
        return plain_kl(p, q)
    if mode == "kl_translation":
        return plain_kl(q, p)
    return 0.5 * (plain_kl(p, q) + plain_kl(q, p))


def softmax_np(x):
    e = numpy.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def random_spans(gen, n_batch, n_tokens, n_spans, max_len=5):
    spans = []
    for _ in range(n_spans):
        length = int(gen.integers(1, max_len + 1))
        start = int(gen.integers(0, n_tokens - length + 1))
        spans.append((int(gen.integers(0, n_batch)), start, start + length))
    return spans


# --------------------------------------------------------------------------
# Algorithm 1
# --------------------------------------------------------------------------


def test_span_distribution_matches_plain_algorithm1():
    gen = numpy.random.default_rng(0)
    logits = gen.normal(scale=1.5, size=(3, 9, K))
    spans = random_spans(gen, 3, 9, 40)
    assert {e - s for _, s, e in spans} == {1, 2, 3, 4, 5}
    logp = torch.log_softmax(torch.tensor(logits), dim=-1)
    got = span_log_distribution(logp, spans, TAGSET)
    assert got.shape == (40, len(TAGSET.labels) + 2)
    probs = softmax_np(logits)
    want = numpy.stack([algorithm1(probs[b], s, e) for b, s, e in spans])
    assert (want[:, -1] > 1e-3).all()  # the illegal column is exercised, not floored
    numpy.testing.assert_allclose(got.exp().numpy(), want, rtol=1e-10, atol=1e-12)
    numpy.testing.assert_allclose(got.exp().sum(1).numpy(), 1.0, atol=1e-12)


def test_span_distribution_single_sentence_and_float32_sums_to_one():
    gen = numpy.random.default_rng(1)
    logits = torch.tensor(gen.normal(scale=3.0, size=(7, K)), dtype=torch.float32)
    logp = torch.log_softmax(logits, dim=-1)
    spans = [(0, 1), (2, 4), (1, 6), (0, 7), (6, 7)]
    got = span_log_distribution(logp, spans, TAGSET)
    batched = span_log_distribution(logp[None], [(0, s, e) for s, e in spans], TAGSET)
    torch.testing.assert_close(got, batched)
    torch.testing.assert_close(got.exp().sum(1), torch.ones(5), atol=1e-5, rtol=0)
    want = numpy.stack([algorithm1(softmax_np(logits.double().numpy()), s, e) for s, e in spans])
    numpy.testing.assert_allclose(got.exp().numpy(), want, atol=1e-5)


def test_span_distribution_rejects_bad_spans():
    logp = torch.log_softmax(torch.zeros(2, 4, K), -1)
    for bad in ([(0, 2, 2)], [(0, 3, 5)], [(2, 0, 1)], [(0, -1, 1)]):
        with pytest.raises(ValueError):
            span_log_distribution(logp, bad, TAGSET)
    assert span_log_distribution(logp, [], TAGSET).shape == (0, 6)


def _token_row(assignments):
    row = numpy.zeros(K)
    for tag, p in assignments.items():
        row[TAGSET.index(tag)] = p
    assert abs(row.sum() - 1.0) < 1e-12
    return row


def test_figure2_example():
    """Fig. 2: 'Westdeutschland' (one token) vs 'West German' (two tokens)."""
    west = _token_row({"B-LOC": 0.6, "B-MISC": 0.2, "O": 0.1, "S-LOC": 0.1})
    german = _token_row({"E-LOC": 0.5, "E-MISC": 0.3, "O": 0.2})
    translated = torch.log(torch.tensor(numpy.stack([west, german])))
    source = torch.log(
        torch.tensor(_token_row({"S-LOC": 0.7, "S-MISC": 0.2, "O": 0.05, "B-ORG": 0.05}))
    )[None]

    # columns: LOC, MISC, ORG, PER, O, illegal
    d_trans = span_log_distribution(translated, [(0, 2)], TAGSET)[0].exp()
    # LOC = .6*.5, MISC = .2*.3, ORG = PER = 0, O = .1*.2, illegal = 1-.3-.06-.02
    torch.testing.assert_close(
        d_trans, torch.tensor([0.30, 0.06, 0.0, 0.0, 0.02, 0.62], dtype=torch.float64)
    )
    d_src = span_log_distribution(source, [(0, 1)], TAGSET)[0].exp()
    torch.testing.assert_close(
        d_src, torch.tensor([0.7, 0.2, 0.0, 0.0, 0.05, 0.05], dtype=torch.float64)
    )

    p = [0.7, 0.2, 0.05, 0.05]  # nonzero entries: LOC, MISC, O, illegal
    q = [0.30, 0.06, 0.02, 0.62]
    kl_pq = (
        0.7 * math.log(0.7 / 0.3)
        + 0.2 * math.log(0.2 / 0.06)
        + 0.05 * math.log(0.05 / 0.02)
        + 0.05 * math.log(0.05 / 0.62)
    )
    assert abs(plain_kl(p, q) - kl_pq) < 1e-12
    loss = translation_consistency(
        source[None], [(0, 0, 1)], translated[None], [(0, 0, 2)], TAGSET, divergence="bi"
    )
    assert abs(loss.item() - 0.5 * (kl_pq + plain_kl(q, p))) < 1e-9


# --------------------------------------------------------------------------
# Stability
# --------------------------------------------------------------------------


def _extreme_emissions(gen, shape):
    """±1e4 logits, mixed with ordinary rows and one-hot-confident rows."""
    huge = torch.tensor(gen.choice([-1e4, 1e4], size=shape), dtype=torch.float32)
    normal = torch.tensor(gen.normal(size=shape), dtype=torch.float32)
    confident = torch.zeros(shape)
    confident[..., TAGSET.index("S-LOC")] = 1e4
    pick = torch.tensor(gen.integers(0, 3, size=shape[:-1]))[..., None]
    return torch.where(pick == 0, huge, torch.where(pick == 1, normal, confident))


@pytest.mark.parametrize("source", ["softmax", "crf"])
@pytest.mark.parametrize("mode", MODES)
def test_extreme_logits_give_finite_losses_and_gradients(mode, source):
    gen = numpy.random.default_rng(2)
    crf = _constrained_crf(TAGSET, torch.float32) if source == "crf" else None
    cases = [
        _extreme_emissions(gen, (2, 8, K)),
        torch.tensor(gen.choice([-1e4, 1e4], size=(2, 8, K)), dtype=torch.float32),
    ]
    # every token certain of S-LOC / of O: legal mass is 1 in float32
    for tag in ("S-LOC", "O", "I-PER"):
        sure = torch.zeros(2, 8, K)
        sure[..., TAGSET.index(tag)] = 1e4
        cases.append(sure)
    spans = [(0, 0, 1), (0, 2, 5), (1, 3, 8), (1, 0, 2)]
    for em in cases:
        a = em.clone().requires_grad_(True)
        b = (em.flip(0) * 0.5).requires_grad_(True)
        mask = torch.ones(2, 8, dtype=torch.bool)
        mask[1, 6:] = False
        trans = translation_consistency(
            a,
            spans[:3],
            b,
            spans[1:],
            TAGSET,
            divergence=mode,
            token_distribution=source,
            crf_params=crf,
        )
        drop = dropout_consistency(
            a, b, mask, divergence=mode, token_distribution=source, crf_params=crf
        )
        (trans + drop).backward()
        assert torch.isfinite(trans) and torch.isfinite(drop)
        assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
        dist = span_log_distribution(token_log_probs(em), spans, TAGSET)
        assert torch.isfinite(dist).all()
        assert torch.allclose(dist.exp().sum(1), torch.ones(4), atol=1e-5)


def test_zero_probabilities_in_kl_are_finite():
    p = torch.log(torch.tensor([[0.5, 0.5, 0.0]])).requires_grad_(True)
    q = torch.log(torch.tensor([[0.25, 0.25, 0.5]])).requires_grad_(True)
    val = kl_divergence(p, q)
    val.sum().backward()
    assert abs(val.item() - math.log(2.0)) < 1e-6
    assert torch.isfinite(p.grad).all() and torch.isfinite(q.grad).all()


# --------------------------------------------------------------------------
# KL variants
# --------------------------------------------------------------------------


def _random_log_dists(gen, n, k, dtype=torch.float64):
    return torch.log_softmax(torch.tensor(gen.normal(scale=2.0, size=(n, k)), dtype=dtype), dim=-1)


def test_kl_variants_match_hand_computation():
    p, q = [0.5, 0.3, 0.2], [0.2, 0.5, 0.3]
    lp, lq = (
        torch.log(torch.tensor([p], dtype=torch.float64)),
        torch.log(torch.tensor([q], dtype=torch.float64)),
    )
    kl_pq = 0.5 * math.log(0.5 / 0.2) + 0.3 * math.log(0.3 / 0.5) + 0.2 * math.log(0.2 / 0.3)
    kl_qp = 0.2 * math.log(0.2 / 0.5) + 0.5 * math.log(0.5 / 0.3) + 0.3 * math.log(0.3 / 0.2)
    assert abs(kl_divergence(lp, lq).item() - kl_pq) < 1e-12
    assert abs(consistency_divergence(lp, lq, "kl_unlabeled").item() - kl_pq) < 1e-12
    assert abs(consistency_divergence(lp, lq, "kl_translation").item() - kl_qp) < 1e-12
    assert abs(consistency_divergence(lp, lq, "bi").item() - 0.5 * (kl_pq + kl_qp)) < 1e-12
    assert kl_pq != pytest.approx(kl_qp)  # the directions really differ
    with pytest.raises(ValueError):
        consistency_divergence(lp, lq, "js")


def test_bi_kl_is_symmetric_and_one_directional_are_not():
    gen = numpy.random.default_rng(3)
    p, q = _random_log_dists(gen, 6, 6), _random_log_dists(gen, 6, 6)
    torch.testing.assert_close(
        consistency_divergence(p, q, "bi"), consistency_divergence(q, p, "bi")
    )
    torch.testing.assert_close(
        consistency_divergence(p, q, "kl_unlabeled"), consistency_divergence(q, p, "kl_translation")
    )
    assert not torch.allclose(
        consistency_divergence(p, q, "kl_unlabeled"), consistency_divergence(q, p, "kl_unlabeled")
    )
    assert (consistency_divergence(p, q, "bi") > 0).all()
    assert torch.allclose(consistency_divergence(p, p, "bi"), torch.zeros(6, dtype=torch.float64))


def _grads(mode, detach):
    gen = numpy.random.default_rng(4)
    p = _random_log_dists(gen, 4, 5).requires_grad_(True)
    q = _random_log_dists(gen, 4, 5).requires_grad_(True)
    kwargs = {} if detach is None else {"detach_reference": detach}
    consistency_divergence(p, q, mode, **kwargs).sum().backward()
    norm = lambda g: 0.0 if g is None else g.abs().sum().item()  # noqa: E731
    return norm(p.grad), norm(q.grad)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_reaches_both_sides_by_default(mode):
    """The paper (and its code) uses no stop-gradient: both sides learn."""
    gp, gq = _grads(mode, detach=None)
    assert gp > 1e-6 and gq > 1e-6
    gen = numpy.random.default_rng(12)
    a = torch.tensor(gen.normal(size=(1, 4, K)), requires_grad=True)
    b = torch.tensor(gen.normal(size=(1, 5, K)), requires_grad=True)
    translation_consistency(a, [(0, 1, 3)], b, [(0, 0, 3)], TAGSET, divergence=mode).backward()
    assert a.grad.abs().sum() > 1e-6 and b.grad.abs().sum() > 1e-6


def test_detach_reference_stops_gradient_on_the_reference_side():
    gp, gq = _grads("kl_unlabeled", detach=True)  # reference: unlabeled side P
    assert gp == 0.0 and gq > 1e-6
    gp, gq = _grads("kl_translation", detach=True)  # reference: translated side Q
    assert gp > 1e-6 and gq == 0.0
    gp, gq = _grads("bi", detach=True)  # each side is the non-reference of one term
    assert gp > 1e-6 and gq > 1e-6


# --------------------------------------------------------------------------
# Dropout consistency
# --------------------------------------------------------------------------


def _plain_dropout(a, b, mask, mode):
    terms = []
    for bi, ti in zip(*numpy.nonzero(mask)):
        terms.append(plain_div(softmax_np(a[bi, ti]), softmax_np(b[bi, ti]), mode))
    return sum(terms) / len(terms)


@pytest.mark.parametrize("mode", MODES)
def test_dropout_consistency_values_and_masking(mode):
    gen = numpy.random.default_rng(5)
    a = torch.tensor(gen.normal(size=(3, 6, K)))
    b = a + torch.tensor(gen.normal(scale=0.5, size=(3, 6, K)))
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4], dtype=torch.bool)

    assert dropout_consistency(a, a.clone(), mask, mode).item() == 0.0
    value = dropout_consistency(a, b, mask, mode)
    assert value.item() > 0.0
    assert abs(value.item() - _plain_dropout(a.numpy(), b.numpy(), mask.numpy(), mode)) < 1e-10

    a2, b2 = a.clone(), b.clone()
    noise = torch.tensor(gen.normal(scale=1e4, size=(3, 6, K)))
    a2[~mask] = noise[~mask]
    b2[~mask] = float("nan")
    assert dropout_consistency(a2, b2, mask, mode).item() == value.item()


def test_dropout_consistency_gradient_ignores_padding_and_empty_mask():
    gen = numpy.random.default_rng(6)
    a = torch.tensor(gen.normal(size=(2, 4, K)), requires_grad=True)
    b = torch.tensor(gen.normal(size=(2, 4, K)), requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool)
    with torch.no_grad():  # garbage in the padding must not reach any gradient
        a[~mask] = float("nan")
        b[~mask] = float("inf")
    dropout_consistency(a, b, mask).backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    assert (a.grad[~mask] == 0).all() and (a.grad[mask].abs().sum(-1) > 0).all()
    empty = dropout_consistency(a, b, torch.zeros(2, 4, dtype=torch.bool))
    assert empty.item() == 0.0 and empty.requires_grad


# --------------------------------------------------------------------------
# Translation consistency
# --------------------------------------------------------------------------


def test_translation_consistency_with_zero_pairs():
    a = torch.randn(2, 5, K, requires_grad=True)
    b = torch.randn(3, 7, K, requires_grad=True)
    for spans in ([], torch.zeros(0, 3, dtype=torch.long)):
        loss = translation_consistency(a, spans, b, spans, TAGSET)
        assert loss.item() == 0.0 and loss.requires_grad
        loss.backward()
        assert (a.grad == 0).all()


@pytest.mark.parametrize("mode", MODES)
def test_translation_consistency_matches_loop_over_pairs(mode):
    gen = numpy.random.default_rng(7)
    unl = gen.normal(scale=1.5, size=(3, 8, K))
    trans = gen.normal(scale=1.5, size=(2, 10, K))
    spans_u = random_spans(gen, 3, 8, 7)
    spans_t = random_spans(gen, 2, 10, 7)
    got = translation_consistency(
        torch.tensor(unl),
        spans_u,
        torch.tensor(trans),
        torch.tensor(spans_t),
        TAGSET,
        divergence=mode,
    )
    pu, pt = softmax_np(unl), softmax_np(trans)
    want = numpy.mean(
        [
            plain_div(algorithm1(pu[bu], su, eu), algorithm1(pt[bt], st, et), mode)
            for (bu, su, eu), (bt, st, et) in zip(spans_u, spans_t)
        ]
    )
    assert abs(got.item() - want) < 1e-10
    with pytest.raises(ValueError):
        translation_consistency(
            torch.tensor(unl), spans_u, torch.tensor(trans), spans_t[:-1], TAGSET
        )


def test_translation_consistency_identical_sides_is_zero_for_crf_source():
    gen = numpy.random.default_rng(8)
    em = torch.tensor(gen.normal(size=(2, 6, K)))
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2], dtype=torch.bool)
    spans = [(0, 1, 4), (1, 0, 2), (1, 3, 4)]
    crf = _constrained_crf(TAGSET, torch.float64)
    kwargs = dict(
        unlabeled_mask=mask, translated_mask=mask, token_distribution="crf", crf_params=crf
    )
    assert translation_consistency(
        em, spans, em.clone(), spans, TAGSET, **kwargs
    ).item() == pytest.approx(0.0, abs=1e-12)
    assert translation_consistency(em, spans, em.flip(1), spans, TAGSET, **kwargs).item() > 0


# --------------------------------------------------------------------------
# CRF marginals
# --------------------------------------------------------------------------


def _constrained_crf(tagset, dtype, seed=9, penalty=-1e4):
    gen = torch.Generator().manual_seed(seed)
    n = tagset.n_tags
    start, trans, end = (torch.tensor(m) for m in tagset.allowed_transitions())
    scores = [
        torch.randn(n, generator=gen, dtype=dtype),
        torch.randn(n, n, generator=gen, dtype=dtype),
        torch.randn(n, generator=gen, dtype=dtype),
    ]
    return CRFParams(
        *(
            torch.where(ok, s, torch.full_like(s, penalty))
            for s, ok in zip(scores, (start, trans, end))
        )
    )


def _brute_force_marginals(em, start, trans, end):
    length, n = em.shape
    marg = numpy.zeros((length, n))
    for seq in itertools.product(range(n), repeat=length):
        score = start[seq[0]] + end[seq[-1]] + sum(em[t, y] for t, y in enumerate(seq))
        score += sum(trans[seq[t], seq[t + 1]] for t in range(length - 1))
        w = math.exp(score)
        for t, y in enumerate(seq):
            marg[t, y] += w
    return marg / marg.sum(1, keepdims=True)


def _check_marginals(em, mask, params):
    got = crf_log_marginals(em, mask, *params)
    np_params = [p.numpy() for p in params]
    for b in range(em.shape[0]):
        n_real = int(mask[b].sum())
        want = _brute_force_marginals(em[b, :n_real].numpy(), *np_params)
        numpy.testing.assert_allclose(got[b, :n_real].exp().numpy(), want, atol=1e-10)
    numpy.testing.assert_allclose(torch.logsumexp(got, -1).numpy(), 0.0, atol=1e-10)


def test_crf_marginals_match_brute_force_unconstrained():
    gen = torch.Generator().manual_seed(10)
    n = 3
    em = torch.randn(2, 3, n, generator=gen, dtype=torch.float64)
    params = CRFParams(
        *(torch.randn(*s, generator=gen, dtype=torch.float64) for s in ((n,), (n, n), (n,)))
    )
    _check_marginals(em, torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool), params)


def test_crf_marginals_match_brute_force_under_bioes_constraints():
    tagset = TagSet.from_labels(["LOC"])  # K = 5: O, B, I, E, S
    params = _constrained_crf(tagset, torch.float64)
    gen = torch.Generator().manual_seed(11)
    em = torch.randn(3, 4, 5, generator=gen, dtype=torch.float64) * 2
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool)
    _check_marginals(em, mask, params)
    probs = crf_log_marginals(em, mask, *params).exp()
    # impossible under BIOES: I or E at the first token, B or I at the last one
    assert probs[0, 0, [2, 3]].max() < 1e-100 and probs[0, 3, [1, 2]].max() < 1e-100
    assert probs[2, 0, [1, 2, 3]].max() < 1e-100  # one-token sentence: O or S only
    # padding does not change the real rows
    em2 = em.clone()
    em2[~mask] = 1e4
    torch.testing.assert_close(
        crf_log_marginals(em2, mask, *params)[mask], crf_log_marginals(em, mask, *params)[mask]
    )


def test_token_log_probs_sources():
    em = torch.randn(2, 3, K, dtype=torch.float64)
    torch.testing.assert_close(token_log_probs(em), torch.log_softmax(em, -1))
    crf = _constrained_crf(TAGSET, torch.float64)
    torch.testing.assert_close(
        token_log_probs(em, token_distribution="crf", crf_params=crf),
        crf_log_marginals(em, None, *crf),
    )
    with pytest.raises(ValueError, match="crf_params"):
        token_log_probs(em, token_distribution="crf")
    with pytest.raises(
        ValueError, match=r"token_distribution must be one of \('softmax', 'crf'\), got 'marginals'"
    ):
        token_log_probs(em, token_distribution="marginals")


def test_an_unknown_divergence_is_refused_not_read_as_bi():
    p = torch.log_softmax(torch.randn(2, K, dtype=torch.float64), -1)
    with pytest.raises(ValueError, match="divergence must be one of .*'kl_translation'.*got 'js'"):
        consistency_divergence(p, p, "js")


# --------------------------------------------------------------------------
# Span distributions over the legal outcomes only
# --------------------------------------------------------------------------


def plain_legal_scores(logits, start, end, tagset=TAGSET):
    """The summed emission scores of a span's whole-span labelings: one per
    label (S, or B I.. E), then all O; no softmax anywhere."""
    i, j = start, end - 1
    rows = []
    for label in tagset.labels:
        if i == j:
            rows.append(logits[i, tagset.index(f"S-{label}")])
        else:
            score = logits[i, tagset.index(f"B-{label}")] + logits[j, tagset.index(f"E-{label}")]
            score += sum(logits[u, tagset.index(f"I-{label}")] for u in range(i + 1, j))
            rows.append(score)
    rows.append(sum(logits[u, tagset.index("O")] for u in range(i, j + 1)))
    return numpy.asarray(rows)


def test_legal_span_distribution_is_a_softmax_over_the_spans_labelings():
    gen = numpy.random.default_rng(11)
    logits = gen.normal(scale=2.0, size=(2, 8, K))
    spans = random_spans(gen, 2, 8, 25)
    logp = torch.log_softmax(torch.tensor(logits), dim=-1)
    got = legal_span_log_distribution(span_log_distribution(logp, spans, TAGSET))
    assert got.shape == (25, len(TAGSET.labels) + 1)
    want = numpy.stack([softmax_np(plain_legal_scores(logits[b], s, e)) for b, s, e in spans])
    numpy.testing.assert_allclose(got.exp().numpy(), want, rtol=1e-9, atol=1e-12)


def test_legal_span_distribution_ignores_mass_on_tags_no_legal_labeling_uses():
    """B-LOC on a one-token span only feeds 'illegal': raising it changes the
    paper's distribution and leaves the legal one as it was."""
    gen = numpy.random.default_rng(12)
    logits = torch.tensor(gen.normal(size=(5, K)))
    raised = logits.clone()
    raised[2, TAGSET.index("B-LOC")] += 6.0
    spans = [(2, 3)]

    def both(x):
        full = span_log_distribution(torch.log_softmax(x, -1), spans, TAGSET)
        return full, legal_span_log_distribution(full)

    (full, legal), (full_raised, legal_raised) = both(logits), both(raised)
    assert full_raised[0, -1] > full[0, -1]  # more mass on "illegal" ...
    assert (full_raised[0, :-1] < full[0, :-1] - 1.0).all()  # ... taken from every legal outcome
    torch.testing.assert_close(legal_raised, legal)


@pytest.mark.parametrize("mode", MODES)
def test_translation_consistency_over_legal_outcomes(mode):
    """Two sides that rank a span's labelings alike but put different mass
    on illegal moves disagree under the paper's outcomes, not the legal ones."""
    gen = numpy.random.default_rng(13)
    unl = torch.tensor(gen.normal(size=(1, 4, K)))
    trans = unl.clone()
    trans[0, 1, TAGSET.index("B-PER")] += 5.0  # only 'illegal' reads it in span [1, 2)
    spans = [(0, 1, 2)]
    kwargs = dict(divergence=mode)
    assert translation_consistency(unl, spans, trans, spans, TAGSET, **kwargs).item() > 1e-3
    legal = translation_consistency(
        unl, spans, trans, spans, TAGSET, span_outcomes="legal", **kwargs
    )
    assert abs(legal.item()) < 1e-12
    # A real disagreement on the type is still a loss, with gradients on both sides.
    trans[0, 1, TAGSET.index("S-PER")] += 5.0
    unl.requires_grad_(True)
    trans.requires_grad_(True)
    loss = translation_consistency(
        unl, spans, trans, spans, TAGSET, span_outcomes="legal", **kwargs
    )
    assert loss.item() > 1e-3
    loss.backward()
    assert unl.grad.abs().sum() > 0 and trans.grad.abs().sum() > 0


def test_an_unknown_span_outcome_is_refused():
    em = torch.randn(1, 3, K)
    with pytest.raises(
        ValueError, match=r"span_outcomes must be one of \('all', 'legal'\), got 'both'"
    ):
        translation_consistency(em, [(0, 0, 1)], em, [(0, 0, 1)], TAGSET, span_outcomes="both")
