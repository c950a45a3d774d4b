"""Micro F1 over some entity types, recomputed from a report's per-type scores."""

import random

import pytest
import spacy
from seed_reports import write_seed_reports
from seqeval.metrics import f1_score, precision_score, recall_score
from spacy.tokens import Doc, Span
from typer.testing import CliRunner

from conner.cli import app
from conner.cli.evaluate import iob2_tags, score
from conner.runs.entity_types import micro_scores, restrict_types, type_counts

LABELS = ["PER", "LOC", "ORG", "MISC"]


def random_docs(seed: int, n: int = 60):
    """Gold and predicted Docs with random single- and two-token entities."""
    rng = random.Random(seed)
    nlp = spacy.blank("xx")
    gold, pred = [], []
    for _ in range(n):
        words = [f"w{i}" for i in range(12)]
        pair = []
        for _ in range(2):
            doc = Doc(nlp.vocab, words=words)
            spans, start = [], rng.randrange(3)
            while start < len(words) - 2:
                end = start + rng.choice([1, 2])
                if rng.random() < 0.6:
                    spans.append(Span(doc, start, end, label=rng.choice(LABELS)))
                start = end + rng.randrange(1, 3)
            doc.ents = spans
            pair.append(doc)
        gold.append(pair[0])
        pred.append(pair[1])
    return gold, pred


def without(tags, dropped):
    return [["O" if tag[2:] in dropped else tag for tag in sentence] for sentence in tags]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_restricted_scores_equal_seqeval_on_the_other_types_removed(seed):
    gold, pred = random_docs(seed)
    per_type = score(gold, pred)["per_type"]
    y_true = without([iob2_tags(d) for d in gold], {"MISC"})
    y_pred = without([iob2_tags(d) for d in pred], {"MISC"})
    scores = micro_scores(per_type, ["PER", "LOC", "ORG"])
    assert scores["p"] == pytest.approx(precision_score(y_true, y_pred))
    assert scores["r"] == pytest.approx(recall_score(y_true, y_pred))
    assert scores["f"] == pytest.approx(f1_score(y_true, y_pred))
    # Reports written before the predicted count existed give the same numbers
    # (where precision is above 0, the count follows from it).
    older = {
        label: {k: v for k, v in row.items() if k != "predicted" or row["p"] == 0}
        for label, row in per_type.items()
    }
    assert any("predicted" not in row for row in older.values())
    assert micro_scores(older, ["PER", "LOC", "ORG"]) == pytest.approx(scores)


def test_counts_come_from_precision_when_the_report_lacks_predictions():
    assert type_counts({"p": 0.25, "r": 0.5, "support": 8}) == (4, 16, 8)
    assert type_counts({"p": 0.0, "r": 0.0, "support": 8, "predicted": 3}) == (0, 3, 8)
    with pytest.raises(ValueError, match="evaluate the pipeline again"):
        type_counts({"p": 0.0, "r": 0.0, "support": 8})


def test_a_type_nobody_has_counts_nothing():
    per_type = {"PER": {"p": 0.5, "r": 1.0, "support": 2, "predicted": 4}}
    assert micro_scores(per_type, ["PER", "LOC"]) == pytest.approx({"p": 0.5, "r": 1.0, "f": 2 / 3})
    assert micro_scores(per_type, ["LOC"]) == {"p": 0.0, "r": 0.0, "f": 0.0}


def report(system, seed, per_set):
    return {"system": system, "protocol": {"seed": seed}, "results": per_set}


def test_restrict_types_rewrites_every_result_and_names_a_report_it_cannot_count():
    gold, pred = random_docs(3)
    reports = [report("conner", 0, {"eu": score(gold, pred)})]
    restricted = restrict_types(reports, ["PER", "LOC"])
    assert set(restricted[0]["results"]["eu"]["per_type"]) <= {"PER", "LOC"}
    assert restricted[0]["results"]["eu"]["f"] == pytest.approx(
        micro_scores(reports[0]["results"]["eu"]["per_type"], ["PER", "LOC"])["f"]
    )
    assert "MISC" in reports[0]["results"]["eu"]["per_type"]  # the input is left as it was
    with pytest.raises(ValueError, match="conner, test set eu: the report has no per-type"):
        restrict_types([report("conner", 0, {"eu": {"f": 0.5}})], ["PER"])


def test_report_cli_adds_the_restricted_table_and_goals(tmp_path):
    reports = []
    for seed in (0, 1):
        gold, pred = random_docs(10 + seed)
        _, other = random_docs(20 + seed)
        reports.append(report("vanilla", seed, {"eu": score(gold, pred)}))
        reports.append(report("conner", seed, {"eu": score(gold, other)}))
    folder = write_seed_reports(tmp_path / "reports", reports)
    out = tmp_path / "table.md"
    args = ["report", str(folder), "-o", str(out), "--baseline", "vanilla"]
    more = ["--goal", "conner:eu>=-100", "--types", "PER,LOC,ORG"]
    result = CliRunner().invoke(app, args + more)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf8")
    section = text.split("## PER, LOC, ORG only\n\n")[1]
    restricted = restrict_types(reports, ["PER", "LOC", "ORG"])
    mean = sum(100 * r["results"]["eu"]["f"] for r in restricted if r["system"] == "conner") / 2
    assert f"{mean:.2f}" in section
    assert "| conner | eu | Δ ≥ -100.00 |" in section
