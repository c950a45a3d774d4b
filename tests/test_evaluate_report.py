"""seqeval scoring of tagged Docs and the markdown report."""

import spacy
from spacy.tokens import Doc, Span

from conner.cli.evaluate import iob2_tags, score
from conner.runs import reports as report


def doc_with(nlp, words, ents):
    doc = Doc(nlp.vocab, words=words)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


def test_scores_are_entity_level_micro_averages():
    nlp = spacy.blank("xx")
    words = ["Anna", "Maria", "Schmidt", "flew", "to", "New", "York", "with", "Lufthansa"]
    gold = [doc_with(nlp, words, [(0, 3, "PER"), (5, 7, "LOC"), (8, 9, "ORG")])]
    # One exact match, one boundary error (counts as wrong), one type error.
    pred = [doc_with(nlp, words, [(0, 3, "PER"), (5, 6, "LOC"), (8, 9, "LOC")])]
    assert iob2_tags(pred[0])[5:7] == ["B-LOC", "O"]
    result = score(gold, pred)
    assert result["p"] == 1 / 3 and result["r"] == 1 / 3 and abs(result["f"] - 1 / 3) < 1e-9
    assert result["per_type"]["PER"]["f"] == 1.0
    assert result["per_type"]["LOC"]["support"] == 1 and result["per_type"]["LOC"]["f"] == 0.0
    assert "ORG" in result["per_type"] and result["per_type"]["ORG"]["r"] == 0.0


def test_adjacent_entities_of_one_type_stay_separate():
    nlp = spacy.blank("xx")
    gold = [doc_with(nlp, ["Paris", "London"], [(0, 1, "LOC"), (1, 2, "LOC")])]
    merged = [doc_with(nlp, ["Paris", "London"], [(0, 2, "LOC")])]
    assert score(gold, gold)["f"] == 1.0
    assert score(gold, merged)["f"] == 0.0


def test_report_table_averages_targets_and_shows_differences():
    vanilla = {
        "system": "vanilla",
        "results": {s: {"f": f} for s, f in [("de", 0.5), ("es", 0.6), ("nl", 0.7), ("en", 0.9)]},
    }
    conner = {
        "system": "conner",
        "results": {s: {"f": f} for s, f in [("de", 0.56), ("es", 0.6), ("nl", 0.7), ("en", 0.88)]},
    }
    table = report.results_table([vanilla, conner], baseline="vanilla").splitlines()
    assert table[0] == "| system | de | es | nl | en | avg de/es/nl |"
    assert table[2] == "| vanilla | 50.00 | 60.00 | 70.00 | 90.00 | 60.00 |"
    assert table[4] == "| Δ vs vanilla | +6.00 | +0.00 | +0.00 | -2.00 | +2.00 |"
    partial = {"system": "only-de", "results": {"de": {"f": 0.4}}}
    # A system missing a target language gets no average.
    assert (
        report.results_table([vanilla, partial]).splitlines()[3]
        == "| only-de | 40.00 |  |  |  |  |"
    )


def seed_report(system, seed, de, es, nl):
    return {
        "system": system,
        "protocol": {"seed": seed},
        "results": {"de": {"f": de}, "es": {"f": es}, "nl": {"f": nl}},
    }


def test_seeds_table_gives_mean_and_sample_std_and_difference_of_means():
    reports = [
        seed_report("vanilla", 0, 0.50, 0.60, 0.70),
        seed_report("vanilla", 1, 0.52, 0.62, 0.72),
        seed_report("conner", 0, 0.55, 0.60, 0.70),
        seed_report("conner", 1, 0.59, 0.66, 0.74),
    ]
    table = report.seeds_table(reports, baseline="vanilla").splitlines()
    assert table[0] == "| system | seeds | de | es | nl | avg de/es/nl |"
    # mean of 50 and 52 = 51, sample std = sqrt(2) = 1.41; average column: 60 and 62.
    assert (
        table[2] == "| vanilla | 0,1 | 51.00 ± 1.41 | 61.00 ± 1.41 | 71.00 ± 1.41 | 61.00 ± 1.41 |"
    )
    assert (
        table[3] == "| conner | 0,1 | 57.00 ± 2.83 | 63.00 ± 4.24 | 72.00 ± 2.83 | 64.00 ± 3.30 |"
    )
    # Paired by seed: de differences +5 and +7, es 0 and +4, nl 0 and +2,
    # average +1.67 and +4.33.
    assert (
        table[4]
        == "| conner − vanilla (paired by seed) |  | +6.00 ± 1.41 | +2.00 ± 2.83 | +1.00 ± 1.41 | +3.00 ± 1.89 |"
    )
    unpaired = report.seeds_table(
        reports[2:] + reports[:1] + [seed_report("vanilla", 5, 0.52, 0.62, 0.72)],
        baseline="vanilla",
    )
    lines = unpaired.splitlines()
    assert lines[2].startswith("| vanilla | 0,5 |")  # the baseline comes first
    # Seed 0 only in common: paired on it (de +5, es 0, nl 0, average +1.67).
    assert lines[4] == "| conner − vanilla (paired, seed 0) |  | +5.00 | +0.00 | +0.00 | +1.67 |"
    disjoint = report.seeds_table(
        reports[3:] + [seed_report("vanilla", 5, 0.52, 0.62, 0.72)], baseline="vanilla"
    )
    assert (
        disjoint.splitlines()[4]
        == "| conner − vanilla (means) |  | +7.00 | +4.00 | +2.00 | +4.33 |"
    )
    # English scored for one seed only: no column of blanks.
    reports[0]["results"]["en"] = {"f": 0.9}
    assert "| en |" not in report.seeds_table(reports, baseline="vanilla").splitlines()[0]


def test_seed_reports_of_one_system_must_have_distinct_seeds():
    import pytest

    with pytest.raises(ValueError, match="same seed"):
        report.group_by_system(
            [seed_report("a", 0, 0.1, 0.1, 0.1), seed_report("a", 0, 0.2, 0.2, 0.2)]
        )


def test_load_reports_reads_a_directory_of_seed_reports(tmp_path):
    import srsly

    for seed in (1, 0):
        srsly.write_json(
            tmp_path / f"vanilla-seed{seed}.json", seed_report("vanilla", seed, 0.5, 0.6, 0.7)
        )
    (tmp_path / "notes.md").write_text("not a report")
    found = report.load_reports([tmp_path, tmp_path / "missing.json"])
    assert [r["protocol"]["seed"] for r in found] == [0, 1]


def test_dev_grid_table_averages_the_target_dev_sets_and_lists_span_diagnostics():
    spans = {
        "softmax": {
            "spans": 9,
            "illegal_target": 0.8,
            "illegal_translation": 0.75,
            "argmax_agree": 0.3,
        },
        "crf": {
            "spans": 9,
            "illegal_target": 0.1,
            "illegal_translation": 0.12,
            "argmax_agree": 0.7,
            "argmax_both_label": 0.55,
        },
    }
    vanilla = {
        "system": "vanilla",
        "protocol": {"seed": 0},
        "results": {"es_dev": {"f": 0.6}, "nl_dev": {"f": 0.7}},
    }
    learned = {
        "system": "conner-learned",
        "protocol": {"seed": 0},
        "spans": spans,
        "results": {"es_dev": {"f": 0.64}, "nl_dev": {"f": 0.71}},
    }
    table = report.results_table([vanilla, learned], baseline="vanilla").splitlines()
    assert table[0] == "| system | es_dev | nl_dev | avg es_dev/nl_dev |"
    assert table[4] == "| Δ vs vanilla | +4.00 | +1.00 | +2.50 |"
    rows = report.spans_table([vanilla, learned]).splitlines()
    assert len(rows) == 3  # header, rule, and only the report that has diagnostics
    assert rows[2] == "| conner-learned | 0 | 0.80 / 0.75 | 0.30 | 0.10 / 0.12 | 0.70 | 0.55 |"
    assert report.spans_table([vanilla]) == ""
