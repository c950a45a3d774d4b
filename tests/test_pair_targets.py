"""``conner pair-targets``: the target side of pairs, to translate again with another engine."""

import spacy
from spacy.tokens import Doc, DocBin
from translation_fakes import FunctionEngine
from typer.testing import CliRunner

from conner.cli import app
from conner.consistency.extensions import get_conjugate_spans, set_conjugate_spans
from conner.consistency.pairs import load_pairs, write_pairs
from conner.prepare.translation import register_engine

ES, EN = spacy.blank("es"), spacy.blank("en")


def released_pairs(path):
    """Two pairs; in the first, translation lost span 1 of the target's three."""
    first = Doc(ES.vocab, words="Ana vive en la ciudad de Buenos Aires .".split())
    first_en = Doc(EN.vocab, words="Ana lives in the city of Buenos Aires .".split())
    set_conjugate_spans(first, "g-7", "target", [[0, 0, 1], [1, 4, 5], [2, 6, 8]])
    set_conjugate_spans(first_en, "g-7", "translation", [[0, 0, 1], [2, 6, 8]])
    second = Doc(ES.vocab, words="Pedro nació en Lima .".split())
    second_en = Doc(EN.vocab, words="Pedro was born in Lima .".split())
    set_conjugate_spans(second, "g-9", "target", [[0, 0, 1], [1, 3, 4]])
    set_conjugate_spans(second_en, "g-9", "translation", [[0, 0, 1], [1, 4, 5]])
    write_pairs([(first, first_en), (second, second_en)], path)
    return path


def test_pair_targets_keep_ids_and_the_shared_spans_only(tmp_path):
    pairs, out = released_pairs(tmp_path / "pairs.spacy"), tmp_path / "targets.spacy"
    result = CliRunner().invoke(app, ["pair-targets", str(pairs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 docs, 2 with spans, 4 spans (5 tokens)" in result.output
    docs = list(DocBin().from_disk(out).get_docs(ES.vocab))
    assert [d._.conjugate_id for d in docs] == ["g-7", "g-9"]
    assert [d._.conjugate_role for d in docs] == ["target", "target"]
    spans = [[s.text for s in get_conjugate_spans(d).values()] for d in docs]
    assert spans == [["Ana", "Buenos Aires"], ["Pedro", "Lima"]]
    assert all(not d.ents for d in docs)


def test_pair_targets_translate_again_into_pairs_of_the_same_sentences(tmp_path):
    register_engine("fake", FunctionEngine)
    pairs, targets = released_pairs(tmp_path / "pairs.spacy"), tmp_path / "targets.spacy"
    again = tmp_path / "again.spacy"
    runner = CliRunner()
    assert runner.invoke(app, ["pair-targets", str(pairs), "-o", str(targets)]).exit_code == 0
    result = runner.invoke(
        app,
        ["translate", str(targets), "-o", str(again), "--translator", "fake", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    before = load_pairs(pairs, ES.vocab)
    after = load_pairs(again, ES.vocab)
    assert [t.text for t, _ in after] == [t.text for t, _ in before]
    assert [t._.conjugate_id for t, _ in after] == ["g-7", "g-9"]
    # The new engine's sentence; each shared span found again in it.
    assert after[1][1].text == "Pedro was born in Lima ."
    translated = [[s.text for s in get_conjugate_spans(tr).values()] for _, tr in after]
    assert translated == [["Ana", "Buenos Aires"], ["Pedro", "Lima"]]


def test_pair_targets_refuse_a_file_that_holds_no_pair_and_their_own_input(tmp_path):
    plain = tmp_path / "plain.spacy"
    DocBin(docs=[Doc(ES.vocab, words=["Ana"])]).to_disk(plain)
    result = CliRunner().invoke(app, ["pair-targets", str(plain), "-o", str(tmp_path / "o.spacy")])
    assert result.exit_code == 1
    assert f"Error: {plain}: doc 0 has no conjugate_id" in result.output
    pairs = released_pairs(tmp_path / "pairs.spacy")
    result = CliRunner().invoke(app, ["pair-targets", str(pairs), "-o", str(pairs)])
    assert result.exit_code == 1 and "Error:" in result.output
    assert len(load_pairs(pairs, ES.vocab)) == 2
