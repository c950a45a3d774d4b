"""``conner weak-tag``: a weak tagger's boundaries become conjugate spans; types never leak."""

import spacy
from spacy.tokens import Doc, DocBin, Span
from typer.testing import CliRunner

from conner.cli import app
from conner.consistency.extensions import get_conjugate_spans, set_conjugate_spans
from conner.inference import weak_tagging
from conner.prepare.translation import SPAN_LABELS_KEY


def ruler_pipeline(path):
    nlp = spacy.blank("es")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PER", "pattern": "Ana"},
            {"label": "LOC", "pattern": [{"LOWER": "buenos"}, {"LOWER": "aires"}]},
        ]
    )
    nlp.to_disk(path)
    return path


def unlabeled_docs():
    nlp = spacy.blank("es")
    gold = Doc(nlp.vocab, words="Ana vive en Buenos Aires .".split())
    # Gold labels on the input must not survive or steer the weak tagger.
    gold.ents = [Span(gold, 2, 3, label="ORG")]
    other = Doc(nlp.vocab, words="Nada que ver .".split())
    set_conjugate_spans(other, "kept-id", "target", [])
    # Tokenization the pipeline's tokenizer would not produce ("Ana," glued).
    glued = Doc(
        nlp.vocab, words=["Vi", "a", "Ana,", "y", "Ana"], spaces=[True, True, True, True, False]
    )
    return [gold, other, glued]


def test_weak_tag_stores_boundaries_not_types(tmp_path):
    model = ruler_pipeline(tmp_path / "model")
    DocBin(docs=unlabeled_docs(), store_user_data=True).to_disk(tmp_path / "in.spacy")
    result = CliRunner().invoke(
        app,
        [
            "weak-tag",
            str(model),
            str(tmp_path / "in.spacy"),
            "-o",
            str(tmp_path / "out.spacy"),
            "--id-prefix",
            "es-",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 docs, 2 with spans, 3 spans (4 tokens)" in result.output
    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(spacy.blank("es").vocab))
    first, second, third = docs
    assert [list(s) for s in first._.conjugate_spans] == [[0, 0, 1], [1, 3, 5]]
    assert {k: s.text for k, s in get_conjugate_spans(first).items()} == {
        0: "Ana",
        1: "Buenos Aires",
    }
    assert first._.conjugate_role == "target"
    assert [d._.conjugate_id for d in docs] == ["es-0", "kept-id", "es-2"]
    assert list(second._.conjugate_spans) == []
    # The input's tokens are kept, so offsets index them ("Ana," is no "Ana").
    assert [t.text for t in third] == ["Vi", "a", "Ana,", "y", "Ana"]
    assert [list(s) for s in third._.conjugate_spans] == [[0, 4, 5]]
    for doc in docs:
        assert doc.ents == ()
        assert all(t.ent_type_ == "" for t in doc)
        assert SPAN_LABELS_KEY not in doc.user_data


def test_keep_labels_stores_types_apart_for_typed_placeholders(tmp_path):
    nlp = spacy.load(ruler_pipeline(tmp_path / "model"))
    (doc,) = weak_tagging.weak_tag_docs(nlp, unlabeled_docs()[:1], keep_labels=True)
    assert doc.user_data[SPAN_LABELS_KEY] == [[0, "PER"], [1, "LOC"]]
    assert doc.ents == ()


def test_gold_spans_keep_boundaries_and_drop_labels(tmp_path):
    nlp = spacy.blank("eu")
    first = Doc(nlp.vocab, words="Mikel Laboa Donostian jaio zen .".split())
    first.ents = [Span(first, 0, 2, label="PER"), Span(first, 2, 3, label="LOC")]
    second = Doc(nlp.vocab, words="Gaur ez da ezer gertatu .".split())
    source, out = tmp_path / "eu_train.spacy", tmp_path / "eu_gold.spacy"
    DocBin(docs=[first, second]).to_disk(source)
    result = CliRunner().invoke(
        app, ["gold-spans", str(source), "-o", str(out), "--id-prefix", "eu-"]
    )
    assert result.exit_code == 0, result.output
    assert "2 docs, 1 with spans, 2 spans (3 tokens)" in result.output
    docs = list(DocBin().from_disk(out).get_docs(nlp.vocab))
    assert [d._.conjugate_id for d in docs] == ["eu-0", "eu-1"]
    assert {k: s.text for k, s in get_conjugate_spans(docs[0]).items()} == {
        0: "Mikel Laboa",
        1: "Donostian",
    }
    assert get_conjugate_spans(docs[1]) == {}
    # Boundaries only: no entity, label or other annotation survives.
    assert all(not d.ents and SPAN_LABELS_KEY not in d.user_data for d in docs)
    assert all(not t.ent_type_ and not t.ent_iob_ for d in docs for t in d)


def test_gold_spans_warn_on_unlabeled_input_and_refuse_an_empty_file(tmp_path):
    nlp = spacy.blank("eu")
    source = tmp_path / "unlabeled.spacy"
    DocBin(docs=[Doc(nlp.vocab, words=["Kaixo", "."])]).to_disk(source)
    result = CliRunner().invoke(app, ["gold-spans", str(source), "-o", str(tmp_path / "o.spacy")])
    assert result.exit_code == 0 and "has no entities: is it labeled?" in result.output
    empty = tmp_path / "empty.spacy"
    DocBin().to_disk(empty)
    result = CliRunner().invoke(app, ["gold-spans", str(empty), "-o", str(tmp_path / "e.spacy")])
    assert result.exit_code == 1 and "holds no Doc" in result.output
