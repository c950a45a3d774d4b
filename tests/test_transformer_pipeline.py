"""The conner component on a (tiny, random) transformer through its listener."""

import random

import numpy
import pytest
import spacy
import srsly
import torch
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import load_config, load_model_from_config
from thinc.api import Adam

from conner.consistency.batching import add_twins
from conner.consistency.extensions import set_conjugate_spans
from conner.consistency.pairs import unannotated_example

CONFIG = "configs/conner.cfg"
SENTENCES = [
    (["Angela", "Merkel", "visited", "Paris", "."], [(0, 2, "PER"), (3, 4, "LOC")]),
    (["Apple", "hired", "Tim", "in", "London", "."], [(0, 1, "ORG"), (2, 3, "PER"), (4, 5, "LOC")]),
]


def build_nlp(encoder, overrides=None):
    config = load_config(
        CONFIG, overrides={"paths.encoder": str(encoder), **(overrides or {})}, interpolate=True
    )
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = labeled_examples(nlp)
    nlp.initialize(lambda: examples)
    return nlp, examples


def labeled_examples(nlp, sentences=SENTENCES):
    """Examples of ``sentences``: (words, [(start, end, label), ...])."""
    out = []
    for words, ents in sentences:
        ref = Doc(nlp.vocab, words=words)
        ref.ents = [Span(ref, s, e, label=label) for s, e, label in ents]
        out.append(Example(Doc(nlp.vocab, words=words), ref))
    return out


def conjugate_pair(nlp, pair_id="p0"):
    target = Doc(nlp.vocab, words=["Frau", "Merkel", "besuchte", "Paris", "."])
    translation = Doc(nlp.vocab, words=["Mrs", "Merkel", "visited", "Paris", "."])
    set_conjugate_spans(target, pair_id, "target", [[0, 1, 2], [1, 3, 4]])
    set_conjugate_spans(translation, pair_id, "translation", [[0, 1, 2], [1, 3, 4]])
    return [unannotated_example(target), unannotated_example(translation)]


def consistency_batch(nlp, examples):
    """What conner.ConsistencyBatcher.v1 builds: labeled + twins + a pair."""
    return list(examples) + add_twins(list(examples)) + conjugate_pair(nlp)


def encoder_weight(nlp):
    hf = nlp.get_pipe("transformer").model.transformer
    return hf.encoder.layer[0].attention.self.query.weight.detach().clone()


def update_and_apply(nlp, batch, **kwargs):
    """nlp.update, then apply what reached the transformer.

    spaCy 3.8's Language.update calls each component's finish_update right
    after its own update, so the transformer applies the gradients that its
    listeners send back at the start of the *next* step; here we apply them
    at once.
    """
    optimizer = Adam(0.01)
    losses = nlp.update(batch, sgd=optimizer, **kwargs)
    nlp.get_pipe("transformer").finish_update(optimizer)
    return losses


LONG_DOC_WORDS = [
    "Berlin",
    "und",
    "die",
    "Stadt",
    "Amsterdam",
    "is",
    "the",
    "capital",
    "of",
    "España",
    ",",
    ".",
]


def random_words(n: int, seed: int = 0) -> list:
    """``n`` words drawn from a mixed-language vocabulary: a long document."""
    rng = random.Random(seed)
    return [rng.choice(LONG_DOC_WORDS) for _ in range(n)]


def test_long_document_is_tagged_in_full(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder)
    doc = Doc(nlp.vocab, words=random_words(2000))
    doc = nlp.get_pipe("transformer")(doc)
    conner = nlp.get_pipe("conner")
    vectors = conner.model.get_ref("tok2vec").predict([doc])[0]
    assert vectors.shape[0] == 2000
    # spacy-transformers leaves tokens outside every window at zero.
    assert (numpy.abs(vectors).sum(axis=1) > 0).all()
    paths = conner.predict([doc])
    assert len(paths[0]) == 2000
    tagged = nlp(Doc(nlp.vocab, words=[t.text for t in doc]))
    assert len(tagged) == 2000 and all(t.ent_iob_ in ("B", "I", "O") for t in tagged)


def test_words_without_sub_words_are_tagged_and_trained_on(tiny_encoder):
    # The XLM-R tokenizer maps a zero-width space, a byte-order mark or a
    # whitespace token to no piece at all; apertium's output tokenized by
    # spaCy held 2,175 whitespace tokens (double spaces).
    nlp, examples = build_nlp(tiny_encoder)
    words = ["Frau", "\u200b", "Merkel", "\ufeff", "besuchte", "Paris", "."]
    tagged = nlp(Doc(nlp.vocab, words=words))
    assert len(tagged) == len(words)
    # spaCy keeps extra spaces as whitespace tokens, which also have no piece.
    spaced = nlp("Frau  Merkel besuchte   Paris.")
    assert any(t.is_space for t in spaced) and all(t.ent_iob_ in ("B", "I", "O") for t in spaced)
    target = Doc(nlp.vocab, words=words)
    translation = Doc(nlp.vocab, words=["Mrs", "Merkel", "\u200b", "visited", "Paris"])
    set_conjugate_spans(target, "z", "target", [[0, 2, 3], [1, 5, 6]])
    set_conjugate_spans(translation, "z", "translation", [[0, 1, 2], [1, 4, 5]])
    batch = (
        list(examples)
        + add_twins(list(examples))
        + [unannotated_example(target), unannotated_example(translation)]
    )
    losses = update_and_apply(nlp, batch, drop=0.1)
    assert numpy.isfinite(losses["conner"]) and losses["conner_trans"] > 0


def test_consistency_gradients_reach_the_transformer(tiny_encoder):
    nlp, examples = build_nlp(tiny_encoder, {"components.conner.nll_weight": 0.0})
    before = encoder_weight(nlp)
    losses = update_and_apply(nlp, consistency_batch(nlp, examples), drop=0.1)
    assert losses["conner_drop"] > 0 and losses["conner_trans"] > 0
    assert losses["conner_nll"] > 0  # computed, but weighted by 0
    assert not torch.equal(before, encoder_weight(nlp))


def test_without_any_loss_term_the_transformer_stays(tiny_encoder):
    overrides = {
        "components.conner.nll_weight": 0.0,
        "consistency.alpha": 0.0,
        "consistency.beta": 0.0,
    }
    nlp, examples = build_nlp(tiny_encoder, overrides)
    before = encoder_weight(nlp)
    update_and_apply(nlp, consistency_batch(nlp, examples), drop=0.1)
    assert torch.equal(before, encoder_weight(nlp))


def test_dropout_consistency_is_zero_without_dropout(tiny_encoder):
    no_dropout = {
        "components.transformer.model.transformer_config": {
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
        }
    }
    nlp, examples = build_nlp(tiny_encoder, no_dropout)
    losses = nlp.update(consistency_batch(nlp, examples), sgd=None, drop=0.0)
    assert losses["conner_drop"] == pytest.approx(0.0, abs=1e-7)
    nlp, examples = build_nlp(tiny_encoder)
    losses = nlp.update(consistency_batch(nlp, examples), sgd=None, drop=0.1)
    assert losses["conner_drop"] > 1e-6


def test_end_to_end_consistency_training(tiny_encoder, tmp_path):
    """spacy train on configs/conner.cfg: the batcher feeds the consistency
    terms, the NLL falls, the pipeline learns its training entities, and the
    frozen word embeddings stay as they were while the encoder moves."""
    from spacy.cli.train import train
    from transformers import AutoModel

    nlp = spacy.blank("xx")
    train_db, pairs_db = DocBin(), DocBin(store_user_data=True)
    for eg in labeled_examples(nlp) * 4:
        train_db.add(eg.reference)
    for i in range(3):
        for eg in conjugate_pair(nlp, f"p{i}"):
            pairs_db.add(eg.predicted)
    train_db.to_disk(tmp_path / "train.spacy")
    pairs_db.to_disk(tmp_path / "pairs.spacy")
    steps = 30
    overrides = {
        "paths.encoder": str(tiny_encoder),
        "paths.train": str(tmp_path / "train.spacy"),
        "paths.dev": str(tmp_path / "train.spacy"),
        "paths.pairs": str(tmp_path / "pairs.spacy"),
        "paths.loss_log": str(tmp_path / "losses.jsonl"),
        "training.max_steps": steps,
        "training.eval_frequency": steps // 2,
        "training.batcher.labeled.size": 4,
        "training.batcher.pairs_per_batch": 2,
        "training.optimizer.learn_rate.warmup_steps": 1,
        "training.optimizer.learn_rate.initial_rate": 0.01,
        "training.logger.progress_bar": False,
    }
    train(CONFIG, tmp_path / "out", overrides=overrides)
    # One record per evaluation (steps 0, 15, 30), each with the loss terms
    # summed since the previous one.
    records = list(srsly.read_jsonl(tmp_path / "losses.jsonl"))
    assert [r["step"] for r in records] == [0, steps // 2, steps]
    for record in records:
        assert record["losses"]["conner_drop"] > 0 and record["losses"]["conner_trans"] > 0
    first_nll = records[0]["losses"]["conner_nll"]  # one step
    last_nll = records[-1]["losses"]["conner_nll"] / (steps // 2)  # per step
    assert last_nll < 0.5 * first_nll
    assert records[0]["score"] < 0.5 and records[-1]["score"] == 1.0
    trained = spacy.load(tmp_path / "out" / "model-last")
    assert trained.pipe_names == ["transformer", "conner"]
    for words, ents in SENTENCES:
        doc = trained(Doc(trained.vocab, words=words))
        assert [(e.start, e.end, e.label_) for e in doc.ents] == ents
    initial = AutoModel.from_pretrained(str(tiny_encoder))
    hf = trained.get_pipe("transformer").model.transformer
    assert torch.equal(hf.get_input_embeddings().weight, initial.get_input_embeddings().weight)
    query = hf.encoder.layer[0].attention.self.query.weight
    assert not torch.equal(query, initial.encoder.layer[0].attention.self.query.weight)
