"""``I-PER I-LOC`` is two entities in every code path that turns tags or ids into spans.

conlleval reads a label change inside a chunk as the start of a new one;
``conner bench translation`` once merged the two into one candidate span.
"""

import zipfile

import pytest
import spacy

from conner.cli import bench_translation
from conner.cli import import_release as importer
from conner.prepare.conll import chunks_from_tags, read_conll
from conner.prepare.release import TARGET_FILE, TRANSLATION_FILE

CONLL = "-DOCSTART- O\nAna I-PER\nBerlin I-LOC\nvisitó O\n\nB-y B-PER\nRoma I-LOC\n\n"


@pytest.mark.parametrize(
    "tags,expected",
    [
        ("I-PER I-LOC", [(0, 1, "PER"), (1, 2, "LOC")]),
        ("B-PER I-LOC", [(0, 1, "PER"), (1, 2, "LOC")]),
        ("O I-PER I-LOC O", [(1, 2, "PER"), (2, 3, "LOC")]),
    ],
)
def test_chunks_from_tags_splits_at_a_label_change(tags, expected):
    assert chunks_from_tags(tags.split()) == expected


def test_read_conll_splits_at_a_label_change(tmp_path):
    path = tmp_path / "esp.train"
    path.write_text(CONLL, encoding="utf-8")
    sentences, _ = read_conll(path)
    assert [s.spans for s in sentences] == [
        [(0, 1, "PER"), (1, 2, "LOC")],
        [(0, 1, "PER"), (1, 2, "LOC")],
    ]


def test_bench_candidate_spans_split_at_a_label_change(tmp_path):
    archive = tmp_path / "conll2002.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("conll2002/esp.train", CONLL)
    docs = bench_translation.gold_candidate_docs(archive, "conll2002/esp.train")
    assert [[list(s) for s in d._.conjugate_spans] for d in docs] == [[[0, 0, 1], [1, 1, 2]]] * 2
    assert [d._.conjugate_id for d in docs] == ["0", "1"]
    assert docs[0].text == "Ana Berlin visitó" and docs[0].ents == ()
    assert len(bench_translation.gold_candidate_docs(archive, "esp.train", limit=1)) == 1


def test_importer_splits_adjacent_span_ids_whatever_the_tags(tmp_path):
    # The importer reads span ids, never tags: ids 1 and 2 are two spans.
    rows = "Ana\t1\tI-PER\nBerlin\t2\tI-LOC\nvisitó\t0\tO\n\n"
    (tmp_path / TARGET_FILE).write_text(rows, encoding="utf-8")
    (tmp_path / TRANSLATION_FILE).write_text(rows.replace("visitó", "visited"), encoding="utf-8")
    pairs, _ = importer.import_release(
        tmp_path / TARGET_FILE,
        tmp_path / TRANSLATION_FILE,
        spacy.blank("es").vocab,
        spacy.blank("en").vocab,
    )
    ((target, translation),) = pairs
    assert [list(s) for s in target._.conjugate_spans] == [[1, 0, 1], [2, 1, 2]]
    assert [list(s) for s in translation._.conjugate_spans] == [[1, 0, 1], [2, 1, 2]]
