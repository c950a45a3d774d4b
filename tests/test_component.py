"""The conner component on a small CNN tok2vec: training, decoding, serialization."""

import subprocess
import sys

import numpy
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example

TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "width": 32,
    "depth": 1,
    "embed_size": 1000,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": True,
    "pretrained_vectors": None,
}
CONFIG = {"model": {"@architectures": "conner.ConnerTagger.v1", "tok2vec": TOK2VEC}}
# Labels that no NER default knows: nothing may be hard-coded.
DATA = [
    ("Rex the dog barked at Oslo station .", [(0, 1, "ANIMAL"), (5, 6, "CITY")]),
    ("The cat Tom Kitten moved to New York City .", [(2, 4, "ANIMAL"), (6, 9, "CITY")]),
    ("Nothing happened here .", []),
]


def make_examples(nlp, data=DATA):
    """Examples of ``(text, [(start, end, label), ...])`` pairs, gold in the reference."""
    examples = []
    for text, ents in data:
        ref = nlp.make_doc(text)
        ref.ents = [Span(ref, s, e, label=label) for s, e, label in ents]
        examples.append(Example(nlp.make_doc(text), ref))
    return examples


@pytest.fixture(scope="module")
def trained():
    nlp = spacy.blank("xx")
    nlp.add_pipe("conner", config=CONFIG)
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(80):
        losses = nlp.update(examples, sgd=optimizer, drop=0.1)
    return nlp, examples, losses


def predictions(nlp, texts):
    return [[(e.start, e.end, e.label_) for e in nlp(t).ents] for t in texts]


def test_labels_come_from_the_data(trained):
    nlp, _, _ = trained
    assert nlp.get_pipe("conner").labels == ("ANIMAL", "CITY")


def test_training_fits_the_examples(trained):
    nlp, examples, losses = trained
    assert losses["conner"] < 0.5
    assert predictions(nlp, [t for t, _ in DATA]) == [sorted(e) for _, e in DATA]
    scores = nlp.evaluate(examples)
    assert scores["ents_f"] == 1.0
    assert set(scores["ents_per_type"]) == {"ANIMAL", "CITY"}


def test_loss_is_averaged_over_sentences(trained):
    nlp, examples, _ = trained
    tagger = nlp.get_pipe("conner")
    docs = [eg.predicted for eg in examples]
    emissions = tagger.model.predict(docs)
    one, _ = tagger.get_loss(examples[:1], emissions[:1])
    doubled, _ = tagger.get_loss(examples[:1] * 2, emissions[:1] * 2)
    assert doubled == pytest.approx(one, rel=1e-5)


def test_unannotated_examples_add_no_loss(trained):
    nlp, examples, _ = trained
    tagger = nlp.get_pipe("conner")
    unlabeled = Example(nlp.make_doc("Rex went to Oslo ."), nlp.make_doc("Rex went to Oslo ."))
    emissions = tagger.model.predict([eg.predicted for eg in examples[:1]] + [unlabeled.predicted])
    loss_with, grads = tagger.get_loss(examples[:1] + [unlabeled], emissions)
    loss_without, _ = tagger.get_loss(examples[:1], emissions[:1])
    assert loss_with == pytest.approx(loss_without)
    assert not grads[1].any()


def test_empty_docs(trained):
    nlp, _, _ = trained
    docs = list(nlp.pipe(["", "Rex the dog barked at Oslo station .", ""]))
    assert [len(d.ents) for d in docs] == [0, 2, 0]


def test_bytes_and_disk_round_trip_reproduce_predictions(trained, tmp_path):
    nlp, _, _ = trained
    texts = [t for t, _ in DATA] + ["Tom Kitten visited New York ."]
    docs = [nlp.make_doc(t) for t in texts]
    emissions = nlp.get_pipe("conner").model.predict(docs)
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    reloaded = loaded.get_pipe("conner").model.predict([loaded.make_doc(t) for t in texts])
    for a, b in zip(emissions, reloaded):
        numpy.testing.assert_array_equal(a, b)
    assert predictions(loaded, texts) == predictions(nlp, texts)
    from_bytes = spacy.blank("xx")
    from_bytes.add_pipe("conner", config=CONFIG)
    from_bytes.from_bytes(nlp.to_bytes())
    assert predictions(from_bytes, texts) == predictions(nlp, texts)


def test_fresh_process_loads_and_renders(trained, tmp_path):
    nlp, _, _ = trained
    nlp.to_disk(tmp_path / "model")
    code = (
        "import spacy, sys; from spacy import displacy\n"
        f"nlp = spacy.load({str(tmp_path / 'model')!r})\n"
        "doc = nlp('The cat Tom Kitten moved to New York City .')\n"
        "print([(e.text, e.label_) for e in doc.ents])\n"
        "html = displacy.render(doc, style='ent')\n"
        "assert 'Tom Kitten' in html and 'CITY' in html, html\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "('Tom Kitten', 'ANIMAL')" in result.stdout


def test_labels_cannot_change_after_initialize(trained):
    nlp, _, _ = trained
    with pytest.raises(ValueError):
        nlp.get_pipe("conner").add_label("PLANET")


def test_initialize_without_entities_fails_clearly():
    nlp = spacy.blank("xx")
    nlp.add_pipe("conner", config=CONFIG)
    doc = nlp.make_doc("no entities here")
    with pytest.raises(ValueError, match="no entity labels"):
        nlp.initialize(lambda: [Example(doc, doc)])


def test_learned_transitions_train_decode_legally_and_round_trip(tmp_path):
    """transitions = "learned": free transitions in the likelihood, legal BIOES
    in decoding, and the setting and the scores survive to_disk/from_disk."""

    nlp = spacy.blank("xx")
    nlp.add_pipe("conner", config={**CONFIG, "transitions": "learned"})
    examples = make_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    conner = nlp.get_pipe("conner")
    crf = conner.model.get_ref("crf").shims[0]._model
    assert crf.transition_mode == "learned" and not crf.constrained
    for _ in range(60):
        nlp.update(examples, sgd=optimizer, drop=0.1)
    texts = [t for t, _ in DATA] + ["Tom Kitten visited New York ."]
    paths = conner.predict([nlp.make_doc(t) for t in texts])
    start, trans, end = conner.tagset.allowed_transitions()
    for path in paths:
        assert start[path[0]] and end[path[-1]] and all(trans[a, b] for a, b in zip(path, path[1:]))
    assert predictions(nlp, texts[:2]) == [
        [(s, e, label) for s, e, label in ents] for _, ents in DATA[:2]
    ]
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("conner").transitions == "learned"
    loaded_crf = loaded.get_pipe("conner").model.get_ref("crf").shims[0]._model
    assert loaded_crf.transition_mode == "learned"
    assert torch_equal(loaded_crf.transition_scores, crf.transition_scores)
    assert predictions(loaded, texts) == predictions(nlp, texts)


def torch_equal(a, b) -> bool:
    return bool((a.detach() == b.detach()).all())


@pytest.mark.parametrize(
    "setting,value",
    [
        ("transitions", "free"),
        ("token_distribution", "argmax"),
        ("divergence", "js"),
        ("dropout_on", "both"),
        ("span_outcomes", "both"),
    ],
)
def test_constructor_refuses_unknown_settings(setting, value):
    nlp = spacy.blank("xx")
    with pytest.raises(ValueError, match=setting):
        nlp.add_pipe("conner", config={**CONFIG, setting: value})
