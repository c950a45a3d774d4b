"""The int8 encoder (conner.transformer.int8) on a tiny transformer pipeline."""

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc
from spacy.util import fix_random_seed
from test_transformer_pipeline import build_nlp, labeled_examples, random_words
from thinc.api import Adam

from conner.transformer.int8 import (
    INT8_LOAD_CONFIG,
    Int8Error,
    int8_linear_layers,
    quantize_encoder,
)

# Training sentences, and test sentences that reuse their names in new contexts.
TRAIN = [
    (["Angela", "Merkel", "visited", "Paris", "."], [(0, 2, "PER"), (3, 4, "LOC")]),
    (["Apple", "hired", "Tim", "in", "London", "."], [(0, 1, "ORG"), (2, 3, "PER"), (4, 5, "LOC")]),
    (["Siemens", "opened", "an", "office", "in", "Madrid", "."], [(0, 1, "ORG"), (5, 6, "LOC")]),
    (["Pedro", "Sánchez", "met", "Angela", "Merkel", "."], [(0, 2, "PER"), (3, 5, "PER")]),
    (["The", "weather", "was", "fine", "."], []),
]
TEST = [
    ["Tim", "visited", "Madrid", "."],
    ["Siemens", "hired", "Pedro", "Sánchez", "in", "Paris", "."],
    ["Angela", "Merkel", "opened", "an", "office", "in", "London", "."],
    ["Apple", "met", "Siemens", "."],
]


def plain_linear_layers(module):
    return [m for m in module.modules() if type(m) is torch.nn.Linear]


def encoder(nlp):
    return nlp.get_pipe("transformer").model.transformer


def entities(nlp, sentences):
    return [
        [(e.start, e.end, e.label_) for e in doc.ents]
        for doc in nlp.pipe(Doc(nlp.vocab, words=w) for w in sentences)
    ]


@pytest.fixture(scope="module")
def trained(tiny_encoder, tmp_path_factory):
    """A tiny fp32 pipeline trained on TRAIN, saved; its path and its entities on TRAIN and TEST."""
    fix_random_seed(0)
    nlp, _ = build_nlp(tiny_encoder)
    examples = labeled_examples(nlp, TRAIN)
    optimizer = Adam(0.01)
    for _ in range(100):
        nlp.update(examples, sgd=optimizer, drop=0.0)
        nlp.get_pipe("transformer").finish_update(optimizer)
    path = tmp_path_factory.mktemp("int8") / "fp32"
    nlp.to_disk(path)
    sentences = [words for words, _ in TRAIN] + TEST
    return path, entities(nlp, sentences)


def test_the_encoder_linear_layers_become_int8(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder)
    n_linear = len(plain_linear_layers(encoder(nlp)))
    assert n_linear > 0
    embeddings = encoder(nlp).get_input_embeddings().weight
    assert quantize_encoder(nlp) is nlp
    assert plain_linear_layers(encoder(nlp)) == []
    assert len(list(int8_linear_layers(encoder(nlp)))) == n_linear
    # The word-piece embeddings stay as they were (fp32, the same tensor).
    assert encoder(nlp).get_input_embeddings().weight is embeddings
    # Quantizing again changes nothing.
    quantize_encoder(nlp)
    assert len(list(int8_linear_layers(encoder(nlp)))) == n_linear


def test_an_int8_pipeline_tags_a_batch(tiny_encoder, tmp_path):
    nlp, _ = build_nlp(tiny_encoder)
    nlp.to_disk(tmp_path / "fp32")
    fp32 = spacy.load(tmp_path / "fp32")
    int8 = quantize_encoder(spacy.load(tmp_path / "fp32"))
    sentences = [words for words, _ in TRAIN] + TEST + [random_words(600)]
    docs = list(int8.pipe(Doc(int8.vocab, words=w) for w in sentences))
    assert [len(d) for d in docs] == [len(w) for w in sentences]
    assert all(t.ent_iob_ in ("B", "I", "O") for d in docs for t in d)
    # The int8 encoder's output is that of the fp32 one, up to quantization error.
    reference = list(fp32.pipe(Doc(fp32.vocab, words=w) for w in sentences))
    for got, expected in zip(docs, reference):
        got_out = got._.trf_data.tensors[0]
        expected_out = expected._.trf_data.tensors[0]
        error = numpy.abs(got_out - expected_out).max() / numpy.abs(expected_out).max()
        assert 0 < error < 0.1


def test_a_trained_pipeline_keeps_its_entities(trained):
    path, fp32_entities = trained
    gold = {(i, e) for i, (_, ents) in enumerate(TRAIN) for e in ents}
    learned = {(i, e) for i, ents in enumerate(fp32_entities[: len(TRAIN)]) for e in ents}
    # The fp32 pipeline learned its training entities (else there is little to keep).
    assert len(gold & learned) >= 0.8 * len(gold)
    nlp = quantize_encoder(spacy.load(path))
    int8_entities = entities(nlp, [words for words, _ in TRAIN] + TEST)
    expected = {(i, e) for i, ents in enumerate(fp32_entities) for e in ents}
    got = {(i, e) for i, ents in enumerate(int8_entities) for e in ents}
    assert len(expected) >= 10
    assert len(expected & got) >= 0.9 * len(expected)
    assert len(got - expected) <= 0.1 * len(expected)


def test_a_pipeline_on_a_gpu_is_refused(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder)
    encoder(nlp).to("meta")  # anything but the CPU, here without a GPU
    with pytest.raises(Int8Error, match="is on meta: int8 quantization is for the CPU"):
        quantize_encoder(nlp)
    assert list(int8_linear_layers(encoder(nlp))) == []
    assert plain_linear_layers(encoder(nlp))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_a_pipeline_loaded_on_a_gpu_is_refused(trained):
    path, _ = trained
    spacy.require_gpu(0)
    try:
        nlp = spacy.load(path)
        with pytest.raises(Int8Error, match="is on cuda:0"):
            quantize_encoder(nlp)
        with pytest.raises(Int8Error, match="is on cuda:0"):
            spacy.load(path, config=INT8_LOAD_CONFIG)
    finally:
        spacy.require_cpu()


def test_saving_is_refused_before_anything_is_written(trained, tmp_path):
    path, _ = trained
    before = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    nlp = quantize_encoder(spacy.load(path))
    pipe = nlp.get_pipe("transformer")
    for save in (nlp.to_disk, pipe.to_disk):
        with pytest.raises(Int8Error, match="int8.*not saved: keep the fp32 pipeline"):
            save(tmp_path / "new")
        assert not (tmp_path / "new").exists()
    # Over the fp32 pipeline it came from: that pipeline stays whole.
    with pytest.raises(Int8Error, match="not saved"):
        nlp.to_disk(path)
    with pytest.raises(Int8Error, match="not saved"):
        pipe.to_disk(path / "transformer")
    assert {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()} == before
    for to_bytes in (nlp.to_bytes, pipe.to_bytes, pipe.model.to_bytes):
        with pytest.raises(Int8Error, match="not saved"):
            to_bytes()


def test_training_is_refused(trained):
    path, _ = trained
    nlp = quantize_encoder(spacy.load(path))
    with pytest.raises(Int8Error, match="for inference only"):
        nlp.update(labeled_examples(nlp, TRAIN), sgd=Adam(0.01))


def test_the_config_loads_the_encoder_as_int8(trained):
    path, _ = trained
    nlp = spacy.load(path, config=INT8_LOAD_CONFIG)
    assert plain_linear_layers(encoder(nlp)) == []
    assert list(int8_linear_layers(encoder(nlp)))
    sentences = [words for words, _ in TRAIN] + TEST
    assert entities(nlp, sentences) == entities(quantize_encoder(spacy.load(path)), sentences)
    with pytest.raises(Int8Error, match="not saved"):
        nlp.to_bytes()
    # Without the setting, the same folder loads as fp32.
    assert plain_linear_layers(encoder(spacy.load(path)))


def test_a_pipeline_without_a_transformer_is_refused():
    nlp = spacy.blank("xx")
    with pytest.raises(Int8Error, match="no 'transformer' pipe"):
        quantize_encoder(nlp)
    nlp.add_pipe("sentencizer", name="transformer")
    with pytest.raises(Int8Error, match="not a spacy-transformers Transformer"):
        quantize_encoder(nlp)
