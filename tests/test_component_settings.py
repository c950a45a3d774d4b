"""The conner component's settings, exercised through configs/conner.cfg and nlp.update.

Each setting is checked by what it changes in training, not by calling the
loss functions: the loss terms nlp.update reports (against a small NumPy
oracle written here from the paper's definitions), the gradients every
parameter receives (recorded by an "optimizer" that changes nothing), the
batches conner.ConsistencyBatcher.v1 builds, and the weights after updates.
All on the tiny random encoder of conftest.py, without dropout where the
numbers must be exact.
"""

import itertools

import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc, DocBin
from spacy.util import load_config, load_model_from_config, registry
from test_transformer_pipeline import labeled_examples as transformer_pipeline_examples
from thinc.api import Adam, ConfigValidationError
from thinc.util import fix_random_seed

from conner.consistency.extensions import set_conjugate_spans
from conner.consistency.pairs import unannotated_example

CONFIG = "configs/conner.cfg"
TWIN = "dropout_twin"  # the Doc extension that keys a dropout twin to its original
NO_DROPOUT = {
    "components.transformer.model.transformer_config": {
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }
}
# Two labels (9 BIOES tags) and at most 5 words a sentence: 9**5 tag paths,
# few enough for the oracle to compute CRF marginals by enumeration.
LABELED = [
    (["Angela", "Merkel", "visited", "Paris", "."], [(0, 2, "PER"), (3, 4, "LOC")]),
    (["Tim", "flew", "to", "London", "."], [(0, 1, "PER"), (3, 4, "LOC")]),
]
# A second "pass" over LABELED[0] that differs in its input, so that L_drop is
# non-zero without dropout (and so exactly reproducible).
TWIN_WORDS = ["Angela", "Merkel", "saw", "Rome", "!"]
TARGET = ["Frau", "Merkel", "besuchte", "Paris", "."]
TRANSLATION = ["Mrs", "Merkel", "visited", "Paris", "."]
# Span key, start, end: a two-word span (B ... E) and a one-word span (S).
TARGET_SPANS = [[0, 0, 2], [1, 3, 4]]
TRANSLATION_SPANS = [[0, 0, 2], [1, 3, 4]]
SETTINGS = [(d, s) for d in ("bi", "kl_unlabeled", "kl_translation") for s in ("softmax", "crf")]


# -- building pipelines and batches ---------------------------------------


@pytest.fixture(scope="module", autouse=True)
def load_each_tokenizer_once():
    """Loading the XLM-R tokenizer (a 17 MB JSON file) is ~90% of building a
    pipeline; these tests build many, so each tokenizer is read once."""
    from transformers import AutoTokenizer

    load = AutoTokenizer.from_pretrained
    cache = {}

    def cached(name, *args, **kwargs):
        key = (str(name), repr(args), repr(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = load(name, *args, **kwargs)
        return cache[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AutoTokenizer, "from_pretrained", cached)
        yield


def load_nlp(encoder, overrides=None):
    config = load_config(
        CONFIG, overrides={"paths.encoder": str(encoder), **(overrides or {})}, interpolate=True
    )
    return load_model_from_config(config, auto_fill=True, validate=True)


def build(encoder, overrides=None):
    """configs/conner.cfg on the tiny encoder, initialized on LABELED (same seed each time)."""
    fix_random_seed(0)
    nlp = load_nlp(encoder, overrides)
    examples = labeled_examples(nlp)
    nlp.initialize(lambda: examples)
    return nlp, examples


def settings(nll=1.0, alpha=0.5, beta=0.5, **component):
    out = {
        "components.conner.nll_weight": nll,
        "consistency.alpha": alpha,
        "consistency.beta": beta,
    }
    out.update({f"components.conner.{k}": v for k, v in component.items()})
    return out


def labeled_examples(nlp):
    return transformer_pipeline_examples(nlp, LABELED)


def pair_docs(vocab, pair_id="p0"):
    target = Doc(vocab, words=TARGET)
    translation = Doc(vocab, words=TRANSLATION)
    set_conjugate_spans(target, pair_id, "target", TARGET_SPANS)
    set_conjugate_spans(translation, pair_id, "translation", TRANSLATION_SPANS)
    return target, translation


def deterministic_batch(nlp, examples):
    """labeled + a twin of the first labeled doc (different words) + one conjugate pair."""
    original = examples[0].predicted
    original._.set(TWIN, 0)
    twin = Doc(nlp.vocab, words=TWIN_WORDS)
    twin._.set(TWIN, 0)
    target, translation = pair_docs(nlp.vocab)
    return list(examples) + [
        unannotated_example(twin),
        unannotated_example(target),
        unannotated_example(translation),
    ]


class GradientRecorder:
    """An optimizer that records each parameter's gradient and changes nothing."""

    def __init__(self):
        self.grads = {}

    def __call__(self, key, weights, gradient, *, lr_scale=1.0):
        name = key[1]
        self.grads[name] = self.grads.get(name, 0.0) + numpy.array(
            gradient, dtype="float64", copy=True
        )
        gradient *= 0
        return weights, gradient


def update_and_record(nlp, batch, drop=0.0):
    """nlp.update with a recorder; also collect what the listeners sent the transformer."""
    recorder = GradientRecorder()
    losses = nlp.update(batch, sgd=recorder, drop=drop)
    nlp.get_pipe("transformer").finish_update(recorder)
    return losses, recorder.grads


def update_and_apply(nlp, batch, optimizer, drop=0.1):
    losses = nlp.update(batch, sgd=optimizer, drop=drop)
    nlp.get_pipe("transformer").finish_update(optimizer)
    return losses


def crf_of(nlp):
    return nlp.get_pipe("conner").model.get_ref("crf").shims[0]._model


CRF_PARAMS = ("start_scores", "end_scores", "transition_scores")
SCORER_PARAMS = ("W", "b")  # the emission scorer, conner's only Thinc parameters
ENCODER_PARAM = "encoder.layer.0.attention.self.query.weight"


def grad_of(grads, name):
    return grads.get(name, 0.0)


# -- a NumPy oracle of the consistency terms --------------------------------


def token_log_probs(emissions, source, crf_tables):
    """Per-token log tag distributions: log-softmax, or CRF marginals by enumeration."""
    e = numpy.asarray(emissions, dtype="float64")
    if source == "softmax":
        return e - numpy.logaddexp.reduce(e, axis=1, keepdims=True)
    start, trans, end = crf_tables
    n, k = e.shape
    paths = numpy.array(list(itertools.product(range(k), repeat=n)))
    score = start[paths[:, 0]] + end[paths[:, -1]] + e[numpy.arange(n), paths].sum(1)
    score = score + trans[paths[:, :-1], paths[:, 1:]].sum(1)
    log_z = numpy.logaddexp.reduce(score)
    out = numpy.empty((n, k))
    for t in range(n):
        for tag in range(k):
            out[t, tag] = numpy.logaddexp.reduce(score[paths[:, t] == tag]) - log_z
    return out


def span_probs(logp, start, end, tags, labels):
    """Algorithm 1 of the paper: P(label_1..label_N, O, illegal) of one span."""
    p = numpy.exp(logp)
    index = {tag: i for i, tag in enumerate(tags)}
    out = []
    for label in labels:
        if end - start == 1:
            out.append(p[start, index[f"S-{label}"]])
        else:
            inner = numpy.prod(p[start + 1 : end - 1, index[f"I-{label}"]])
            out.append(p[start, index[f"B-{label}"]] * inner * p[end - 1, index[f"E-{label}"]])
    out.append(numpy.prod(p[start:end, index["O"]]))
    out.append(1.0 - sum(out))
    return numpy.array(out)


def kl(p, q):
    """KL(P || Q) over the last axis, of probabilities (0 log 0 = 0)."""
    tiny = numpy.finfo("float64").tiny
    return numpy.where(
        p > 0, p * (numpy.log(numpy.maximum(p, tiny)) - numpy.log(numpy.maximum(q, tiny))), 0.0
    ).sum(-1)


def divergence(p, q, mode):
    """P is the original side (first pass, unlabeled target), Q the other (Table 5)."""
    if mode == "kl_unlabeled":
        return kl(p, q)
    if mode == "kl_translation":
        return kl(q, p)
    return 0.5 * (kl(p, q) + kl(q, p))


def over_outcomes(probs, outcomes):
    """A span distribution over every outcome, or renormalised over the legal ones."""
    return probs if outcomes == "all" else probs[:-1] / probs[:-1].sum()


def oracle_terms(nlp, batch, mode, source, outcomes="all"):
    """L_drop and L_trans of ``batch`` under (mode, source) and the span
    outcomes, from the pipeline's own emissions (exact without dropout) and CRF tables."""
    docs = [eg.predicted.copy() for eg in batch]
    transformer = nlp.get_pipe("transformer")
    transformer.set_annotations(docs, transformer.predict(docs))
    conner = nlp.get_pipe("conner")
    emissions = conner.model.predict(docs)
    crf = crf_of(nlp)
    tables = [
        t.detach().double().numpy()
        for t in (crf.start_transitions, crf.transitions, crf.end_transitions)
    ]
    logp = [token_log_probs(e, source, tables) for e in emissions]
    twins = {}
    for i, doc in enumerate(docs):
        if doc._.get(TWIN) is not None:
            twins.setdefault(doc._.get(TWIN), []).append(i)
    per_token = [
        divergence(numpy.exp(logp[a]), numpy.exp(logp[b]), mode) for a, b in twins.values()
    ]
    drop = numpy.concatenate(per_token).mean()
    tags, labels = conner.tagset.tags, conner.labels
    target = next(i for i, d in enumerate(docs) if [t.text for t in d] == TARGET)
    translation = next(i for i, d in enumerate(docs) if [t.text for t in d] == TRANSLATION)
    trans = numpy.mean(
        [
            divergence(
                over_outcomes(span_probs(logp[target], s_u, e_u, tags, labels), outcomes),
                over_outcomes(span_probs(logp[translation], s_t, e_t, tags, labels), outcomes),
                mode,
            )
            for (_, s_u, e_u), (_, s_t, e_t) in zip(TARGET_SPANS, TRANSLATION_SPANS)
        ]
    )
    return float(drop), float(trans)


# -- the loss terms: divergence x token_distribution -------------------------


@pytest.mark.parametrize("mode,source", SETTINGS)
def test_reported_terms_follow_divergence_and_token_distribution(tiny_encoder, mode, source):
    """L_drop and L_trans equal the oracle's for the configured divergence and
    token distribution, and not what any other setting would give; the total
    weighs them with the configured nll_weight, alpha and beta."""
    weights = dict(nll=0.7, alpha=0.3, beta=2.0)
    nlp, examples = build(
        tiny_encoder,
        {**NO_DROPOUT, **settings(**weights, divergence=mode, token_distribution=source)},
    )
    batch = deterministic_batch(nlp, examples)
    expected = {s: oracle_terms(nlp, batch, *s) for s in SETTINGS}
    losses, _ = update_and_record(nlp, batch)
    drop, trans = losses["conner_drop"], losses["conner_trans"]
    assert (drop, trans) == pytest.approx(expected[(mode, source)], rel=2e-3, abs=1e-6)
    for other, (other_drop, other_trans) in expected.items():
        if other != (mode, source):
            # The oracle tells the settings apart on this batch, so the match is no accident.
            assert abs(other_drop - drop) + abs(other_trans - trans) > 0.05 * (drop + trans), other
    nll = losses["conner_nll"]
    assert nll > 0 and drop > 1e-4 and trans > 1e-4
    assert losses["conner"] == pytest.approx(0.7 * nll + 0.3 * drop + 2.0 * trans, rel=1e-5)


@pytest.mark.parametrize("source", ["softmax", "crf"])
def test_reported_translation_term_follows_span_outcomes(tiny_encoder, source):
    """span_outcomes = "legal": L_trans compares the span distributions
    renormalised over the entity types and O, as the oracle does, and not the
    paper's distributions with "illegal"; L_drop (token level) is unchanged."""
    nlp, examples = build(
        tiny_encoder,
        {**NO_DROPOUT, **settings(token_distribution=source, span_outcomes="legal")},
    )
    batch = deterministic_batch(nlp, examples)
    legal = oracle_terms(nlp, batch, "bi", source, outcomes="legal")
    paper = oracle_terms(nlp, batch, "bi", source)
    losses, _ = update_and_record(nlp, batch)
    assert (losses["conner_drop"], losses["conner_trans"]) == pytest.approx(
        legal, rel=2e-3, abs=1e-6
    )
    assert legal[0] == pytest.approx(paper[0])
    assert abs(legal[1] - paper[1]) > 0.05 * paper[1]


def test_without_consistency_weights_no_term_is_reported_or_trained(tiny_encoder):
    """alpha = beta = 0: twins and pairs in the batch add no loss term and no
    gradient (the same gradients as the labeled sentences alone)."""
    nlp, examples = build(tiny_encoder, {**NO_DROPOUT, **settings(alpha=0.0, beta=0.0)})
    losses, grads = update_and_record(nlp, deterministic_batch(nlp, examples))
    assert losses.get("conner_drop", 0.0) == 0.0 and losses.get("conner_trans", 0.0) == 0.0
    assert losses["conner"] == pytest.approx(losses["conner_nll"])
    _, labeled_only = update_and_record(nlp, labeled_examples(nlp))
    for name in SCORER_PARAMS + CRF_PARAMS:
        numpy.testing.assert_allclose(
            grads[name], labeled_only[name], rtol=1e-4, atol=1e-6, err_msg=name
        )


@pytest.mark.parametrize("source", ["softmax", "crf"])
def test_consistency_gradients_scale_with_alpha_and_beta_and_reach_the_crf_only_with_crf_marginals(
    tiny_encoder, source
):
    """The gradient of every parameter is linear in alpha and beta; with
    token_distribution = "crf" the consistency terms also train the CRF's
    transition scores (its marginals depend on them), with "softmax" they
    leave them alone."""
    grads = {}
    for alpha, beta in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.25, 3.0)]:
        nlp, examples = build(
            tiny_encoder,
            {**NO_DROPOUT, **settings(nll=0.0, alpha=alpha, beta=beta, token_distribution=source)},
        )
        _, grads[alpha, beta] = update_and_record(nlp, deterministic_batch(nlp, examples))
    base = grads[0.0, 0.0]

    def part(weights, name):  # the gradient of the consistency terms alone
        return grad_of(grads[weights], name) - grad_of(base, name)

    for name in SCORER_PARAMS + CRF_PARAMS + (ENCODER_PARAM,):
        expected = 0.25 * part((1.0, 0.0), name) + 3.0 * part((0.0, 1.0), name)
        numpy.testing.assert_allclose(
            part((0.25, 3.0), name), expected, rtol=1e-3, atol=1e-6, err_msg=name
        )
    for name in SCORER_PARAMS + (ENCODER_PARAM,):
        assert (
            numpy.abs(part((1.0, 0.0), name)).sum() > 0
            and numpy.abs(part((0.0, 1.0), name)).sum() > 0
        ), name
    crf_part = sum(
        numpy.abs(part(w, n)).sum() for w in [(1.0, 0.0), (0.0, 1.0)] for n in CRF_PARAMS
    )
    if source == "crf":
        assert crf_part > 1e-4
    else:
        assert crf_part == 0.0


def test_nll_weight_scales_every_gradient(tiny_encoder):
    """nll_weight scales the NLL's gradient of every parameter, the CRF's too;
    0 (with alpha = beta = 0) leaves nothing to train."""
    grads = {}
    for nll in (1.0, 0.5, 0.0):
        nlp, examples = build(
            tiny_encoder, {**NO_DROPOUT, **settings(nll=nll, alpha=0.0, beta=0.0)}
        )
        _, grads[nll] = update_and_record(nlp, examples)
    for name in SCORER_PARAMS + (ENCODER_PARAM,):  # these hold already
        numpy.testing.assert_allclose(
            grads[0.5][name], 0.5 * grads[1.0][name], rtol=1e-4, atol=1e-7, err_msg=name
        )
    for name in CRF_PARAMS:
        assert numpy.abs(grad_of(grads[0.0], name)).sum() == 0.0, name
        numpy.testing.assert_allclose(
            grads[0.5][name], 0.5 * grads[1.0][name], rtol=1e-4, atol=1e-7, err_msg=name
        )


# -- dropout_on: which sentences get dropout twins ---------------------------


def write_pairs(vocab, path, n=2):
    db = DocBin(store_user_data=True)
    for i in range(n):
        for doc in pair_docs(vocab, f"p{i}"):
            db.add(doc)
    db.to_disk(path)
    return path


def first_batch(config_overrides, encoder, nlp, examples):
    config = load_config(
        CONFIG, overrides={"paths.encoder": str(encoder), **config_overrides}, interpolate=True
    )
    batcher = registry.resolve({"batcher": config["training"]["batcher"]})["batcher"]
    return next(iter(batcher(examples)))


@pytest.mark.parametrize("dropout_on", ["labeled", "unlabeled"])
@pytest.mark.parametrize("beta", [0.5, 0.0])
def test_dropout_on_picks_the_sentences_that_get_twins(tiny_encoder, tmp_path, dropout_on, beta):
    """consistency.dropout_on = "unlabeled" twins the target side of the pairs
    (even when beta = 0 drops their translations), "labeled" the labeled
    sentences; the component pairs the twins up and reports L_drop > 0."""
    overrides = {
        **settings(alpha=0.5, beta=beta),
        "consistency.dropout_on": dropout_on,
        "paths.pairs": str(write_pairs(spacy.blank("xx").vocab, tmp_path / "pairs.spacy")),
        "training.batcher.pairs_per_batch": 2,
    }
    nlp, examples = build(tiny_encoder, overrides)
    assert nlp.get_pipe("conner").dropout_on == dropout_on
    batch = first_batch(overrides, tiny_encoder, nlp, examples)
    roles = [eg.predicted._.get("conjugate_role") for eg in batch]
    # Pairs are drawn only for a term that needs them.
    assert roles.count("target") == (2 if beta > 0 or dropout_on == "unlabeled" else 0)
    assert roles.count("translation") == (2 if beta > 0 else 0)
    keyed = {}
    for eg in batch:
        if eg.predicted._.get(TWIN) is not None:
            keyed.setdefault(eg.predicted._.get(TWIN), []).append(eg)
    originals = [group[0] for group in keyed.values()]
    assert all(len(group) == 2 for group in keyed.values())
    assert all(a.predicted.text == b.predicted.text for a, b in keyed.values())
    if dropout_on == "unlabeled":
        assert [eg.predicted._.get("conjugate_role") for eg in originals] == ["target", "target"]
    else:
        assert sorted(eg.predicted.text for eg in originals) == sorted(
            eg.predicted.text for eg in examples
        )
    # The twins carry no annotation: they add no NLL.
    assert not any(group[1].reference.has_annotation("ENT_IOB") for group in keyed.values())
    torch.manual_seed(0)
    losses = nlp.update(batch, sgd=GradientRecorder(), drop=0.1)
    assert losses["conner_drop"] > 1e-6


def test_dropout_on_unlabeled_survives_a_pair_drawn_twice_in_a_batch(tiny_encoder, tmp_path):
    overrides = {
        **settings(alpha=0.5, beta=0.0),
        "consistency.dropout_on": "unlabeled",
        "paths.pairs": str(write_pairs(spacy.blank("xx").vocab, tmp_path / "pairs.spacy", n=2)),
        "training.batcher.pairs_per_batch": 4,  # each of the 2 pairs twice
    }
    nlp, examples = build(tiny_encoder, overrides)
    batch = first_batch(overrides, tiny_encoder, nlp, examples)
    assert [eg.predicted._.get("conjugate_role") for eg in batch].count("target") == 4
    torch.manual_seed(0)
    losses = nlp.update(batch, sgd=GradientRecorder(), drop=0.1)
    assert losses["conner_drop"] > 1e-6


# -- freeze_embeddings --------------------------------------------------------


@pytest.mark.parametrize("freeze", [True, False])
def test_freeze_embeddings_keeps_the_word_embeddings_and_trains_the_rest(tiny_encoder, freeze):
    """[initialize.after_init] conner.freeze_embeddings.v1: with freeze = true
    the word embeddings are bit-identical after updates while the encoder and
    the position embeddings move; with freeze = false the embeddings of the
    batch's sub-words move too."""
    nlp, examples = build(tiny_encoder, {"initialize.after_init.freeze": freeze})
    hf = nlp.get_pipe("transformer").model.transformer
    words = hf.get_input_embeddings().weight
    before = {
        "words": words.detach().clone(),
        "positions": hf.embeddings.position_embeddings.weight.detach().clone(),
        "query": hf.encoder.layer[0].attention.self.query.weight.detach().clone(),
    }
    target, translation = pair_docs(nlp.vocab)
    optimizer = Adam(0.01)
    for _ in range(2):
        batch = labeled_examples(nlp) + [
            unannotated_example(target.copy()),
            unannotated_example(translation.copy()),
        ]
        update_and_apply(nlp, batch, optimizer)
    words = hf.get_input_embeddings().weight
    assert not torch.equal(before["query"], hf.encoder.layer[0].attention.self.query.weight)
    assert not torch.equal(before["positions"], hf.embeddings.position_embeddings.weight)
    changed_rows = (words.detach() != before["words"]).any(dim=1)
    if freeze:
        assert not words.requires_grad
        assert not changed_rows.any()
    else:
        assert words.requires_grad
        # "Merkel", "Paris", ... : at least one row per distinct sub-word of the batch
        assert int(changed_rows.sum()) >= 10


def test_freeze_embeddings_of_a_missing_component_names_it(tiny_encoder):
    nlp = load_nlp(tiny_encoder, {"initialize.after_init.component": "encoder"})
    examples = labeled_examples(nlp)
    with pytest.raises(KeyError, match="encoder"):
        nlp.initialize(lambda: examples)


# -- validation -------------------------------------------------------------


@pytest.mark.parametrize(
    "setting,value,allowed",
    [
        ("divergence", "js", ["bi", "kl_unlabeled", "kl_translation"]),
        ("token_distribution", "argmax", ["softmax", "crf"]),
        ("transitions", "free", ["constrained", "learned"]),
        ("dropout_on", "both", ["labeled", "unlabeled"]),
        ("span_outcomes", "both", ["all", "legal"]),
    ],
)
def test_bad_settings_fail_at_load_naming_the_choices(tiny_encoder, setting, value, allowed):
    """configs/conner.cfg with an unknown value fails when the pipeline is
    built, naming the setting, the value and every allowed value."""
    with pytest.raises(ConfigValidationError, match=setting) as info:
        load_nlp(tiny_encoder, {f"components.conner.{setting}": value})
    message = str(info.value)
    assert repr(value) in message and all(repr(choice) in message for choice in allowed)


def test_weights_must_be_numbers(tiny_encoder):
    with pytest.raises(ConfigValidationError, match="alpha"):
        load_nlp(tiny_encoder, {"consistency.alpha": "lots"})


@pytest.mark.parametrize(
    "weight", ["components.conner.nll_weight", "consistency.alpha", "consistency.beta"]
)
def test_negative_weights_are_refused(tiny_encoder, weight):
    """A negative weight would maximise its term (or, for alpha and beta both
    negative, silently skip consistency): it should fail at load."""
    with pytest.raises(ValueError, match=weight.split(".")[-1]):
        load_nlp(tiny_encoder, {weight: -0.5})


def test_the_consistency_layer_follows_a_changed_setting(tiny_encoder):
    nlp, _ = build(tiny_encoder, settings(divergence="bi", token_distribution="softmax"))
    tagger = nlp.get_pipe("conner")
    first = tagger.consistency_loss
    assert tagger.consistency_loss is first  # built once while nothing changes
    tagger.divergence, tagger.token_distribution = "kl_translation", "crf"
    layer = tagger.consistency_loss
    assert layer is not first
    assert (layer.attrs["divergence"], layer.attrs["token_distribution"]) == (
        "kl_translation",
        "crf",
    )
