"""Length-sorted encoder sub-batches give the unsorted path's values and gradients."""

import numpy
import torch
from spacy.tokens import Doc
from test_transformer_pipeline import build_nlp

from conner.transformer.length_batching import length_groups, sort_encoder_batches

WORDS = [
    "Angela Merkel visited Paris .".split(),
    (
        "The European Commission said on Thursday it disagreed with German advice to consumers to shun "
        "British lamb until scientists determine whether mad cow disease can be transmitted to sheep ."
    ).split(),
    "Peter Blackburn".split(),
    (
        "Rare Hendrix song draft sells for almost $ 17,000 at an auction in London organised by "
        "Christie 's on Wednesday ."
    ).split(),
    "BRUSSELS 1996-08-22".split(),
    ["Zürich"],
]


def test_length_groups_sort_and_cap_padded_size():
    lengths = [5, 40, 3, 40, 12, 3, 600]
    groups = length_groups(lengths, max_padded=48)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert longest * len(group) <= 48 or len(group) == 1
    # Ascending by length, ties in input order; an oversize span is alone.
    assert [i for g in groups for i in g] == [2, 5, 0, 4, 1, 3, 6]
    assert groups[-1] == [6]
    assert length_groups([], 100) == []


def _no_dropout(hf_model):
    for module in hf_model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
        if hasattr(module, "dropout_prob"):  # sdpa attention reads a float
            module.dropout_prob = 0.0


def _run(trf, docs, seed=0):
    """Outputs per doc and the encoder's parameter gradients for fixed
    output gradients (zero on padding, as the listeners send)."""
    output, backprop = trf.model.begin_update(docs)
    rng = numpy.random.default_rng(seed)
    d_docs = []
    for data in output.doc_data:
        mask = data.wordpieces.attention_mask.astype("float32")
        grads = []
        for tensor in data.tensors:
            g = rng.normal(size=tensor.shape).astype("float32")
            if g.ndim == 3:
                g *= mask[..., None]
            grads.append(g)
        d_docs.append(grads)
    hf = trf.model.transformer
    hf.zero_grad(set_to_none=True)
    backprop(output.unsplit_by_doc(d_docs))
    grads = {name: p.grad.clone() for name, p in hf.named_parameters() if p.grad is not None}
    return output.doc_data, grads


def test_sorted_sub_batches_match_the_single_call(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder, {"components.transformer.model.max_padded_subwords": 0})
    trf = nlp.get_pipe("transformer")
    _no_dropout(trf.model.transformer)
    docs = [Doc(nlp.vocab, words=w) for w in WORDS]
    whole, whole_grads = _run(trf, docs)
    encode_shapes = trf.model.layers[0]._func

    sort_encoder_batches(trf.model.layers[0], max_padded=64)
    inner = trf.model.layers[0]._func
    sorted_, sorted_grads = _run(trf, docs)
    for a, b in zip(whole, sorted_):
        real = a.wordpieces.attention_mask.astype(bool)
        for ta, tb in zip(a.tensors, b.tensors):
            assert ta.shape == tb.shape
            if ta.ndim == 3:  # padding is not read by anything (zeros in the sorted path)
                ta, tb = ta[real], tb[real]
            numpy.testing.assert_allclose(ta, tb, atol=2e-5, rtol=1e-4)
        numpy.testing.assert_array_equal(a.align.data, b.align.data)
    assert whole_grads.keys() == sorted_grads.keys() and whole_grads
    for name, grad in whole_grads.items():
        torch.testing.assert_close(sorted_grads[name], grad, atol=1e-5, rtol=1e-4, msg=name)
    assert inner is not encode_shapes


def test_sorted_path_runs_several_smaller_encoder_calls(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder, {"components.transformer.model.max_padded_subwords": 0})
    wrapper = nlp.get_pipe("transformer").model.layers[0]
    seen = []
    original = wrapper._func

    def spy(model, wordpieces, is_train):
        seen.append(wordpieces.input_ids.shape)
        return original(model, wordpieces, is_train)

    wrapper._func = spy
    sort_encoder_batches(wrapper, max_padded=64)
    docs = [Doc(nlp.vocab, words=w) for w in WORDS]
    nlp.get_pipe("transformer").model.predict(docs)
    assert len(seen) > 1 and sum(n for n, _ in seen) == len(docs)
    longest = max(width for _, width in seen)
    padded = sum(n * width for n, width in seen)
    assert padded < len(docs) * longest  # less padding than one call
    assert all(n * width <= 64 for n, width in seen if n > 1)


def test_config_setting_turns_sorted_batches_on(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder, {"components.transformer.model.max_padded_subwords": 64})
    wrapper = nlp.get_pipe("transformer").model.layers[0]
    assert wrapper.attrs["max_padded_subwords"] == 64
    plain, _ = build_nlp(tiny_encoder, {"components.transformer.model.max_padded_subwords": 0})
    assert "max_padded_subwords" not in plain.get_pipe("transformer").model.layers[0].attrs
    # Same weights (same seed): same entities through nlp.pipe, sorted or not.
    texts = [" ".join(w) for w in WORDS]
    ents = lambda n: [[(e.start, e.end, e.label_) for e in d.ents] for d in n.pipe(texts)]  # noqa: E731
    plain.get_pipe("conner").model.from_bytes(nlp.get_pipe("conner").model.to_bytes())
    plain.get_pipe("transformer").model.from_bytes(nlp.get_pipe("transformer").model.to_bytes())
    assert ents(plain) == ents(nlp)


def test_a_pipeline_with_sorted_batches_pickles(tiny_encoder, tmp_path):
    import pickle

    import spacy

    trained, _ = build_nlp(tiny_encoder, {"components.transformer.model.max_padded_subwords": 64})
    trained.to_disk(tmp_path / "nlp")
    nlp = spacy.load(tmp_path / "nlp")  # as shipped: no optimizer (its schedules don't pickle)
    copy = pickle.loads(pickle.dumps(nlp))
    wrapper = copy.get_pipe("transformer").model.layers[0]
    assert wrapper.attrs["max_padded_subwords"] == 64 and wrapper._func.max_padded == 64
    texts = [" ".join(w) for w in WORDS]
    ents = lambda n: [[(e.start, e.end, e.label_) for e in d.ents] for d in n.pipe(texts)]  # noqa: E731
    assert ents(copy) == ents(nlp)
