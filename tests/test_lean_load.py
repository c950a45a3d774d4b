"""conner.transformer.lean_load: the transformer loads with one copy of its weights and
gives what spacy-transformers' own loading gives."""

import io
import math
import warnings

import numpy
import pytest
import spacy
import srsly
import torch
from spacy.tokens import Doc
from spacy_transformers.data_classes import HFObjects
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.span_getters import configure_strided_spans
from test_transformer_pipeline import build_nlp

from conner.transformer.adapter import hf_objects, hf_shim, shim_training_state
from conner.transformer.lean_load import (
    DeferredTokenizerHFObjects,
    LeanHFShim,
    LeanTransformerModel,
    ViewReader,
    make_lean,
    unpack_views,
)
from conner.transformer.windows import create_transformer_model

STOCK = {"components.transformer.model.lean_load": False}
WORDS = [
    ["Angela", "Merkel", "visited", "Paris", "."],
    ["Apple", "hired", "Tim", "in", "London", "on", "Monday", "."],
    ["Frau", "Merkel", "besuchte", "Paris", "."],
]


def as_bytes(obj):
    if isinstance(obj, memoryview):
        return obj.tobytes()
    if isinstance(obj, dict):
        return {k: as_bytes(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [as_bytes(v) for v in obj]
    return obj


def test_unpack_views_decodes_as_srsly_does():
    big = bytes(range(256)) * 1000
    msg = {
        "ints": [
            0,
            1,
            127,
            128,
            255,
            256,
            65535,
            65536,
            2**32 - 1,
            2**32,
            2**64 - 1,
            -1,
            -32,
            -33,
            -128,
            -129,
            -32768,
            -32769,
            -(2**31),
            -(2**31) - 1,
            -(2**63),
        ],
        "floats": [0.0, 1e-12, -2.5, math.pi, float("inf")],
        "strings": ["", "a" * 31, "b" * 32, "é" * 200, "c" * 70000],
        "others": [None, True, False, b"", b"small", [], {}],
        "long": list(range(20)),
        "wide": {f"k{i}": i for i in range(20)},
        1: {2: "int keys"},
        "big": big,
        "nested": {"shims": [[], [big + b"x"]]},
        "array": numpy.arange(12, dtype="float32").reshape(3, 4),
        "big_array": numpy.ones((200, 100), dtype="float64"),
    }
    data = srsly.msgpack_dumps(msg)
    expected = srsly.msgpack_loads(data)
    got = unpack_views(data)
    assert isinstance(got["big"], memoryview) and isinstance(
        got["nested"]["shims"][1][0], memoryview
    )
    assert got["big"].obj is data  # a view into the input, not a copy
    assert isinstance(got["others"][4], bytes)
    for key in ("array", "big_array"):
        numpy.testing.assert_array_equal(got.pop(key), expected.pop(key))
    assert as_bytes(got) == expected
    with pytest.raises(ValueError):
        unpack_views(data[:-1])


def test_view_reader_loads_a_state_dict_like_bytes_io():
    state = {"a": torch.randn(3, 5), "b": torch.arange(7), "c": torch.randn(64, 64).t()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    with ViewReader(memoryview(data)[0:]) as reader:
        loaded = torch.load(reader, weights_only=True)
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)


@pytest.fixture(scope="module")
def saved(tiny_encoder, tmp_path_factory):
    nlp, _ = build_nlp(tiny_encoder)
    path = tmp_path_factory.mktemp("lean") / "model"
    nlp.to_disk(path)
    return path


def signature(nlp):
    trf = nlp.get_pipe("transformer").model
    hf = trf.transformer
    state = {k: v.detach().clone() for k, v in hf.state_dict(keep_vars=True).items()}
    buffers = {k: v.clone() for k, v in hf.named_buffers()}
    flags = ({k: p.requires_grad for k, p in hf.named_parameters()}, hf.training, trf.get_dim("nO"))
    docs = list(nlp.pipe(Doc(nlp.vocab, words=w) for w in WORDS))
    vectors = [numpy.asarray(d._.trf_data.tensors[0]).copy() for d in docs]
    ents = [[(e.start, e.end, e.label_) for e in d.ents] for d in docs]
    return state, buffers, flags, vectors, ents


def assert_same(a, b):
    (sa, ba, fa, va, ea), (sb, bb, fb, vb, eb) = a, b
    assert sa.keys() == sb.keys()
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]), k
    assert ba.keys() == bb.keys() and all(torch.equal(ba[k], bb[k]) for k in ba)
    assert fa == fb
    assert len(va) == len(vb) and all(numpy.array_equal(x, y) for x, y in zip(va, vb))
    assert ea == eb


def test_lean_load_gives_the_stock_parameters_and_outputs(saved):
    stock = spacy.load(saved, config=STOCK)
    assert type(hf_shim(stock.get_pipe("transformer").model)) is HFShim
    lean = spacy.load(saved)
    model = lean.get_pipe("transformer").model
    assert isinstance(model, LeanTransformerModel)
    assert isinstance(hf_shim(model), LeanHFShim)
    assert model.attrs["has_transformer"] and model.layers[0].attrs["max_padded_subwords"] > 0
    # The weights are owned tensors, not views of the file's bytes.
    assert all(p.data_ptr() and p.is_contiguous() for p in model.transformer.parameters())
    assert_same(signature(stock), signature(lean))


def test_tokenizer_is_built_when_first_used(saved):
    lean = spacy.load(saved)
    objects = hf_objects(hf_shim(lean.get_pipe("transformer").model))
    assert isinstance(objects, DeferredTokenizerHFObjects)
    assert not objects.tokenizer_built
    doc = lean(" ".join(WORDS[0]))
    assert objects.tokenizer_built and doc._.trf_data.tensors[0].shape[-1] == 16
    stock_tokenizer = spacy.load(saved, config=STOCK).get_pipe("transformer").model.tokenizer
    assert type(objects.tokenizer) is type(stock_tokenizer)
    assert objects.tokenizer.get_vocab() == stock_tokenizer.get_vocab()
    assert objects.tokenizer.model_max_length == stock_tokenizer.model_max_length


def test_eager_tokenizer_option(saved):
    stock = spacy.load(saved, config=STOCK).get_pipe("transformer").model
    shim_bytes = srsly.msgpack_loads(stock.to_bytes())["shims"][1][0]
    shim = LeanHFShim(HFObjects(None, None, None, {}, {}), defer_tokenizer=False)
    shim.from_bytes(shim_bytes)
    assert type(hf_objects(shim)) is HFObjects
    assert hf_objects(shim).tokenizer.get_vocab() == stock.tokenizer.get_vocab()
    weights = hf_objects(shim).transformer.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in stock.transformer.state_dict().items())


def test_to_disk_from_disk_round_trip(saved, tmp_path):
    stock = signature(spacy.load(saved, config=STOCK))
    lean = spacy.load(saved)
    lean.to_disk(tmp_path / "again")  # builds the deferred tokenizer to save it
    assert_same(stock, signature(spacy.load(tmp_path / "again")))
    assert_same(stock, signature(spacy.load(tmp_path / "again", config=STOCK)))
    # And in memory: Language.to_bytes / from_bytes.
    blank = spacy.load(saved)
    blank.from_bytes(lean.to_bytes())
    assert_same(stock, signature(blank))


def test_state_that_does_not_match_falls_back_as_stock_does(saved):
    stock = spacy.load(saved, config=STOCK)
    model = stock.get_pipe("transformer").model
    msg = srsly.msgpack_loads(srsly.msgpack_loads(model.to_bytes())["shims"][1][0])
    state = torch.load(io.BytesIO(msg["state"]), weights_only=True)
    dropped = "pooler.dense.bias"
    del state[dropped]
    buffer = io.BytesIO()
    torch.save(state, buffer)
    msg["state"] = buffer.getvalue()
    lean = spacy.load(saved).get_pipe("transformer").model
    with pytest.warns(UserWarning, match="strict=False"):
        hf_shim(lean).from_bytes(srsly.msgpack_dumps(msg))
    loaded = lean.transformer.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    assert loaded[dropped].shape == model.transformer.state_dict()[dropped].shape


def test_matching_state_loads_without_warnings(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=".*(TypedStorage|weights_only).*")
        spacy.load(saved)


def test_deferred_tokenizer_pickles_and_copies(saved):
    import copy
    import pickle

    # (max_padded_subwords > 0 wraps the encoder's forward in a closure that
    # does not pickle, with or without lean_load.)
    nlp = spacy.load(saved, config={"components.transformer.model.max_padded_subwords": 0})
    model = nlp.get_pipe("transformer").model
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        objects = hf_objects(hf_shim(other))
        assert isinstance(objects, DeferredTokenizerHFObjects) and not objects.tokenizer_built
        assert other.tokenizer.get_vocab() == model.tokenizer.get_vocab()
        weights = other.transformer.state_dict()
        assert all(torch.equal(weights[k], v) for k, v in model.transformer.state_dict().items())


def test_lean_load_keeps_the_layer_norm_epsilon(saved):
    """spacy-transformers round-trips the HF config through srsly's JSON (9
    digits), so BERT's 1e-12 comes back as 0.0; the lean load keeps it."""
    trained_eps = spacy.load(saved).get_pipe("transformer").model.transformer.config.layer_norm_eps
    assert trained_eps == 1e-12
    stock = spacy.load(saved, config=STOCK).get_pipe("transformer").model.transformer
    assert stock.config.layer_norm_eps == 0.0  # the upstream behaviour this works around


def test_the_lean_shim_keeps_the_training_state_of_the_stock_one(tiny_encoder):
    # Mixed precision on, scaling off: the constructor alone would build an
    # enabled scaler; the lean shim must keep the configured one.
    model = create_transformer_model(
        str(tiny_encoder),
        configure_strided_spans(window=128, stride=96),
        mixed_precision=True,
        grad_scaler_config={"enabled": False},
        lean_load=False,
    )
    stock = hf_shim(model)
    state = shim_training_state(stock)
    assert state.mixed_precision and not state.grad_scaler._enabled
    make_lean(model, defer_tokenizer=False)
    lean = hf_shim(model)
    assert isinstance(lean, LeanHFShim) and not lean.defer_tokenizer
    assert shim_training_state(lean) == state
    assert hf_objects(lean) is hf_objects(stock) and lean.cfg == stock.cfg
    assert (lean.config_cls, lean.model_cls, lean.tokenizer_cls) == (
        stock.config_cls,
        stock.model_cls,
        stock.tokenizer_cls,
    )
