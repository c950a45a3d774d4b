"""Span-distribution diagnostics on conjugate pairs and loss-term shares."""

import io
import math

import pytest
import srsly
import torch
from spacy.tokens import DocBin
from test_component import trained  # noqa: F401 (the trained tagger fixture)

from conner.consistency.diagnostics import (
    loss_shares,
    pair_span_diagnostics,
    sample_pairs,
    span_agreement,
)
from conner.consistency.extensions import set_conjugate_spans
from conner.training.loggers import console_logger_with_losses


def log(rows):
    return torch.tensor(rows).log()


def test_span_agreement_summarises_both_sides():
    # columns: A, B, O, illegal
    target = log([[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.2, 0.6]])
    translation = log([[0.6, 0.2, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1]])
    stats = span_agreement(target, translation)
    assert stats["spans"] == 2
    assert stats["illegal_target"] == pytest.approx(0.35)
    assert stats["illegal_translation"] == pytest.approx(0.1)
    assert stats["outside_target"] == pytest.approx(0.15)
    assert stats["argmax_agree"] == pytest.approx(0.5)  # A/A agree, illegal/B do not
    assert stats["argmax_both_label"] == pytest.approx(0.5)
    assert span_agreement(log([[0.5, 0.5]])[:0], log([[0.5, 0.5]])[:0]) == {"spans": 0}
    with pytest.raises(ValueError):
        span_agreement(target, translation[:1])


def test_loss_shares_weigh_the_terms():
    shares = loss_shares(
        {"conner_nll": 3.0, "conner_drop": 2.0, "conner_trans": 4.0}, alpha=0.5, beta=0.25
    )
    assert shares == pytest.approx({"nll": 0.6, "drop": 0.2, "trans": 0.2})
    assert loss_shares({"conner_nll": 1.0}, 0.5, 0.5) == {"nll": 1.0, "drop": 0.0, "trans": 0.0}
    assert loss_shares({}, 0.5, 0.5) == {"nll": 0.0, "drop": 0.0, "trans": 0.0}


@pytest.fixture(scope="module")
def trained_nlp(trained):  # noqa: F811
    return trained[0]


def write_pairs(nlp, path):
    """Two pairs: "Rex" (an ANIMAL the model knows) and "Oslo station" on both sides."""
    db = DocBin(store_user_data=True)
    for pid, (target, translation, spans_u, spans_t) in enumerate(
        [
            (
                "Rex the dog barked at Oslo station .",
                "Rex , the dog , barked at Oslo station .",
                [[1, 0, 1], [2, 5, 6]],
                [[1, 0, 1], [2, 7, 8]],
            ),
            ("Tom Kitten moved .", "Tom Kitten moved away .", [[1, 0, 2]], [[1, 0, 2]]),
        ]
    ):
        for role, text, spans in (
            ("target", target, spans_u),
            ("translation", translation, spans_t),
        ):
            doc = nlp.make_doc(text)
            set_conjugate_spans(doc, f"p{pid}", role, spans)
            db.add(doc)
    db.to_disk(path)
    return path


def test_pair_diagnostics_on_a_trained_tagger(trained_nlp, tmp_path):
    pairs = sample_pairs(write_pairs(trained_nlp, tmp_path / "pairs.spacy"), trained_nlp.vocab, 10)
    assert len(pairs) == 2
    stats = pair_span_diagnostics(trained_nlp, pairs)
    assert set(stats) == {"softmax", "crf"}
    for source in ("softmax", "crf"):
        s = stats[source]
        assert s["spans"] == 3
        for key in (
            "illegal_target",
            "illegal_translation",
            "outside_target",
            "outside_translation",
        ):
            assert 0.0 <= s[key] <= 1.0
        assert s["illegal_target"] + s["outside_target"] <= 1.0 + 1e-6
    # The exact CRF marginals know that a span must start with B or S: far
    # less mass on "illegal" than the emission softmax of a constrained CRF.
    assert stats["crf"]["illegal_target"] < stats["softmax"]["illegal_target"]
    # Identical spans in both sentences are tagged alike.
    assert stats["crf"]["argmax_agree"] == pytest.approx(1.0)


def test_logger_writes_shares_and_span_diagnostics(trained_nlp, tmp_path):
    pairs = write_pairs(trained_nlp, tmp_path / "pairs.spacy")
    path = tmp_path / "losses.jsonl"
    out = io.StringIO()
    log_step, finalize = console_logger_with_losses(
        loss_log=path, diagnostic_pairs=pairs, diagnostic_size=5
    )(trained_nlp, out, io.StringIO())
    info = {
        "epoch": 0,
        "step": 100,
        "score": 0.5,
        "other_scores": {},
        "words": 1000,
        "seconds": 1,
        "losses": {"conner": 2.3, "conner_nll": 2.0, "conner_drop": 0.2, "conner_trans": 0.4},
        "checkpoints": [],
    }
    log_step(info)
    finalize()
    (record,) = srsly.read_jsonl(path)
    weights = trained_nlp.get_pipe("conner").weights
    total = 2.0 + weights.alpha * 0.2 + weights.beta * 0.4
    assert record["shares"]["nll"] == pytest.approx(2.0 / total)
    assert math.isclose(sum(record["shares"].values()), 1.0)
    assert record["spans"]["crf"]["spans"] == 3
    assert "P(illegal)" in out.getvalue()
