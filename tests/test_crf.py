import itertools

import numpy
import pytest
import torch
from thinc.api import NumpyOps

from conner.tagger.bioes_crf import ConstrainedCRF
from conner.tagger.crf import build_crf, pad_emissions
from conner.tagger.tags import TagSet, spans_from_tags


def is_legal(path, tagset):
    start, trans, end = tagset.allowed_transitions()
    return bool(
        start[path[0]] and end[path[-1]] and all(trans[a, b] for a, b in zip(path, path[1:]))
    )


def sequence_score(crf, emissions, path):
    score = crf.start_scores[path[0]] + emissions[0, path[0]]
    for i in range(1, len(path)):
        score = score + crf.transition_scores[path[i - 1], path[i]] + emissions[i, path[i]]
    return score + crf.end_scores[path[-1]]


def test_tagset_layout_has_no_hardcoded_labels():
    tagset = TagSet.from_labels(["CITY", "ANIMAL", "CITY"])
    assert tagset.tags == [
        "O",
        "B-ANIMAL",
        "I-ANIMAL",
        "E-ANIMAL",
        "S-ANIMAL",
        "B-CITY",
        "I-CITY",
        "E-CITY",
        "S-CITY",
    ]
    assert tagset.index("U-CITY") == tagset.index("S-CITY") == 8
    assert tagset.index("L-ANIMAL") == 3
    assert list(tagset.prefix_indices("I")) == [2, 6]


def test_nll_equals_brute_force_over_legal_sequences():
    torch.manual_seed(0)
    tagset = TagSet.from_labels(["A", "B"])
    crf = ConstrainedCRF(tagset)
    lengths = [4, 2]
    emissions = torch.randn(2, 4, tagset.n_tags)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
    gold = [[1, 2, 3, 0], [8, 0]]  # B-A I-A E-A O ; S-B O
    tags = torch.tensor([gold[0], gold[1] + [0, 0]])
    nll = crf(emissions, mask, tags)
    expected = []
    for b, n in enumerate(lengths):
        legal = [
            p for p in itertools.product(range(tagset.n_tags), repeat=n) if is_legal(p, tagset)
        ]
        log_z = torch.logsumexp(
            torch.stack([sequence_score(crf, emissions[b], p) for p in legal]), 0
        )
        expected.append(log_z - sequence_score(crf, emissions[b], gold[b]))
    # Averaged over sentences, not summed: independent of the batch size.
    assert nll.item() == pytest.approx(torch.stack(expected).mean().item(), abs=1e-4)


def test_learned_nll_equals_brute_force_over_all_sequences():
    """With learned transitions the partition function ranges over every tag
    sequence, illegal BIOES ones included, with the raw trainable scores."""
    torch.manual_seed(3)
    tagset = TagSet.from_labels(["A", "B"])
    crf = ConstrainedCRF(tagset, transitions="learned")
    emissions = torch.randn(2, 3, tagset.n_tags)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    gold = [[2, 2, 0], [8, 3]]  # I-A I-A O (illegal) ; S-B E-A (illegal)
    tags = torch.tensor([gold[0], gold[1] + [0]])
    nll = crf(emissions, mask, tags)
    expected = []
    for b, n in enumerate([3, 2]):
        every = list(itertools.product(range(tagset.n_tags), repeat=n))
        log_z = torch.logsumexp(
            torch.stack([sequence_score(crf, emissions[b], p) for p in every]), 0
        )
        expected.append(log_z - sequence_score(crf, emissions[b], gold[b]))
    assert nll.item() == pytest.approx(torch.stack(expected).mean().item(), abs=1e-4)
    # The constrained likelihood of the same illegal gold is (near) infinite.
    assert ConstrainedCRF(tagset)(emissions, mask, tags).item() > 1e3


def test_learned_transitions_get_gradients_on_illegal_moves_too():
    tagset = TagSet.from_labels(["A"])
    emissions = torch.randn(1, 4, tagset.n_tags)
    tags = torch.tensor([[1, 2, 3, 0]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    grads = {}
    for mode in ("constrained", "learned"):
        torch.manual_seed(4)
        crf = ConstrainedCRF(tagset, transitions=mode)
        crf(emissions, mask, tags).backward()
        grads[mode] = crf.transition_scores.grad
    illegal = ~torch.from_numpy(tagset.allowed_transitions()[1])
    assert grads["constrained"][illegal].abs().max() < 1e-6
    assert grads["learned"][illegal].abs().max() > 1e-4


def test_unknown_transition_mode_is_refused():
    with pytest.raises(
        ValueError, match=r"transitions must be one of \('constrained', 'learned'\), got 'free'"
    ):
        ConstrainedCRF(TagSet.from_labels(["A"]), transitions="free")


@pytest.mark.parametrize("mode", ["constrained", "learned"])
def test_viterbi_is_always_legal_even_when_emissions_favour_illegal_tags(mode):
    torch.manual_seed(1)
    tagset = TagSet.from_labels(["X", "Y", "Z"])
    crf = ConstrainedCRF(tagset, transitions=mode)
    if mode == "learned":  # transitions that learned to like illegal moves
        with torch.no_grad():
            crf.transition_scores += 30 * ~torch.from_numpy(tagset.allowed_transitions()[1])
    emissions = torch.randn(32, 9, tagset.n_tags) * 20
    emissions[:, :, tagset.prefix_indices("I")] += (
        50  # unconstrained Viterbi would pick I- everywhere
    )
    mask = torch.ones(32, 9, dtype=torch.bool)
    mask[5:, 6:] = False
    paths = crf(emissions, mask)
    for b in range(32):
        path = [t for t in paths[b].tolist() if t >= 0]
        assert len(path) == int(mask[b].sum())
        assert is_legal(path, tagset)
        tags = [tagset.tags[t] for t in path]
        # Every legal path's entities cover exactly its non-O tokens.
        covered = sum(e - s for s, e, _ in spans_from_tags(tags))
        assert covered == sum(t != "O" for t in tags)


@pytest.mark.parametrize("mode", ["constrained", "learned"])
def test_viterbi_matches_brute_force_best_legal_path(mode):
    torch.manual_seed(2)
    tagset = TagSet.from_labels(["A"])
    crf = ConstrainedCRF(tagset, transitions=mode)
    emissions = torch.randn(1, 4, tagset.n_tags) * 3
    best = max(
        (p for p in itertools.product(range(tagset.n_tags), repeat=4) if is_legal(p, tagset)),
        key=lambda p: sequence_score(crf, emissions[0], p).item(),
    )
    assert crf(emissions, torch.ones(1, 4, dtype=torch.bool))[0].tolist() == list(best)


def test_thinc_wrapper_gradients_match_torch_autograd():
    tagset = TagSet.from_labels(["A", "B"])
    layer = build_crf(tagset)
    layer.initialize()
    rng = numpy.random.default_rng(0)
    emissions = [rng.normal(size=(n, tagset.n_tags)).astype("float32") for n in (3, 5)]
    padded, mask = pad_emissions(emissions)
    tags = numpy.zeros(mask.shape, dtype="int64")
    tags[0, :3] = [1, 3, 0]
    tags[1, :5] = [0, 8, 0, 5, 7]
    loss, backprop = layer.begin_update((padded, mask, tags))
    d_padded = backprop(1.0)

    crf = layer.shims[0]._model
    emissions_t = torch.tensor(padded, requires_grad=True)
    expected = crf(emissions_t, torch.tensor(mask).bool(), torch.tensor(tags))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    numpy.testing.assert_allclose(d_padded, emissions_t.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert not d_padded[0, 3:].any()  # padding gets no gradient
    # The transition scores learn through Thinc's optimizer.
    before = crf.transition_scores.detach().clone()
    from thinc.api import Adam

    layer.finish_update(Adam(0.1))
    assert not torch.equal(before, crf.transition_scores.detach())


def test_pad_emissions_masks_padding():
    ops = NumpyOps()
    padded, mask = pad_emissions([ops.alloc2f(2, 3) + 1, ops.alloc2f(4, 3) + 2])
    assert padded.shape == (2, 4, 3)
    assert mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert padded[0, 2:].sum() == 0
