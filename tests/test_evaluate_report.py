"""seqeval scoring of tagged Docs and the markdown report."""
import spacy
from spacy.tokens import Doc, Span

import report
from evaluate import iob2_tags, score


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
    vanilla = {"system": "vanilla", "results": {s: {"f": f} for s, f in [("de", 0.5), ("es", 0.6), ("nl", 0.7), ("en", 0.9)]}}
    conner = {"system": "conner", "results": {s: {"f": f} for s, f in [("de", 0.56), ("es", 0.6), ("nl", 0.7), ("en", 0.88)]}}
    table = report.results_table([vanilla, conner], baseline="vanilla").splitlines()
    assert table[0] == "| system | de | es | nl | en | avg de/es/nl |"
    assert table[2] == "| vanilla | 50.00 | 60.00 | 70.00 | 90.00 | 60.00 |"
    assert table[4] == "| Δ vs vanilla | +6.00 | +0.00 | +0.00 | -2.00 | +2.00 |"
    partial = {"system": "only-de", "results": {"de": {"f": 0.4}}}
    # A system missing a target language gets no average.
    assert report.results_table([vanilla, partial]).splitlines()[3] == "| only-de | 40.00 |  |  |  |  |"
