"""Tests of ``conner import-release`` and of conjugate spans in DocBins."""

import zlib
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from conner.cli import app
from conner.cli import import_release as importer
from conner.consistency.extensions import conjugate_id, get_conjugate_spans, set_conjugate_spans
from conner.consistency.pairs import load_pairs
from conner.prepare.conll import ConllFormatError
from conner.prepare.release import TARGET_FILE, TRANSLATION_FILE, span_runs

# Pairs of (token, span id, gold tag) rows. The gold labels are nonsense
# strings (SECRET...) so that a leak into the output is easy to find.
TARGET = [
    # 0: both sides agree.
    [
        ("Angela", "1", "B-SECRETP"),
        ("Merkel", "1", "E-SECRETP"),
        ("besucht", "0", "O"),
        ("Paris", "2", "S-SECRETL"),
    ],
    # 1: the translation lost span 2.
    [
        ("Hans", "1", "S-SECRETP"),
        ("Peter", "2", "S-SECRETP"),
        ("und", "0", "O"),
        ("Bonn", "3", "S-SECRETL"),
    ],
    # 2: no spans at all.
    [("Guten", "0", "O"), ("Tag", "0", "O")],
    # 3: no span id in common.
    [("Rom", "1", "S-SECRETL"), ("ist", "0", "O"), ("alt", "0", "O")],
    # 4: the translation repeats span 2 ("EFE ... EFE"), so key 2 is ambiguous.
    [("EFE", "2", "S-SECRETO"), ("meldet", "0", "O"), ("Kiew", "1", "S-SECRETL")],
]
TRANSLATION = [
    [
        ("Angela", "1", "B-SECRETP"),
        ("Merkel", "1", "E-SECRETP"),
        ("visits", "0", "O"),
        ("Paris", "2", "S-SECRETL"),
    ],
    [
        ("Hans", "1", "S-SECRETP"),
        ("Peter", "1", "S-SECRETP"),
        ("and", "0", "O"),
        ("Bonn", "3", "S-SECRETL"),
    ],
    [("Good", "0", "O"), ("day", "0", "O")],
    [("Rome", "2", "S-SECRETL"), ("is", "0", "O"), ("old", "0", "O")],
    [
        ("Kyiv", "1", "S-SECRETL"),
        ("EFE", "2", "S-SECRETO"),
        ("reports", "0", "O"),
        ("EFE", "2", "S-SECRETO"),
    ],
]


def write_release(folder: Path, target=TARGET, translation=TRANSLATION) -> Path:
    """An En2XX folder with a document marker block first, as in En2De."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, sentences in ((TARGET_FILE, target), (TRANSLATION_FILE, translation)):
        text = "-DOCSTART-\t0\tO\n\n"
        text += "".join("".join("\t".join(row) + "\n" for row in rows) + "\n" for rows in sentences)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_import(folder: Path):
    return importer.import_release(
        folder / TARGET_FILE,
        folder / TRANSLATION_FILE,
        spacy.blank("de").vocab,
        spacy.blank("en").vocab,
        pair_prefix="En2De-",
    )


def spans_by_key(doc: Doc):
    return {key: span.text for key, span in get_conjugate_spans(doc).items()}


@pytest.mark.parametrize(
    "ids,runs",
    [
        ([0, 1, 1, 0, 2], [(1, 1, 3), (2, 4, 5)]),
        # Adjacent spans have different ids and stay apart.
        ([1, 2, 2, 3], [(1, 0, 1), (2, 1, 3), (3, 3, 4)]),
        # An id may come back later: two runs with the same key.
        ([3, 0, 3, 3], [(3, 0, 1), (3, 2, 4)]),
        ([0, 0], []),
        ([], []),
    ],
)
def test_span_runs(ids, runs):
    assert span_runs(ids) == runs


def test_common_keys_skip_unmatched_and_repeated_keys():
    target = [(1, 0, 1), (2, 1, 2), (3, 2, 3)]
    translation = [(1, 0, 1), (3, 1, 2), (3, 4, 5), (4, 6, 7)]
    assert importer.common_keys(target, translation) == {1}


def test_importer_keeps_only_common_spans_and_reports_counts(tmp_path):
    pairs, counts = run_import(write_release(tmp_path / "En2De"))
    target_docs = [target for target, _ in pairs]
    translation_docs = [translation for _, translation in pairs]
    assert counts == {
        "docstart_only_blocks": 1,
        "keys_repeated": 1,
        "pairs_dropped": 2,
        "pairs_dropped_without_common_span": 1,
        "pairs_dropped_without_spans": 1,
        "pairs_kept": 3,
        "pairs_read": 5,
        "pairs_with_differing_span_sets": 2,
        "spans_dropped": 6,
        "spans_dropped_repeated": 3,
        "spans_dropped_unmatched": 3,
        "spans_kept": 5,
    }
    # Pair ids count the file's blocks, the marker block included.
    assert [conjugate_id(d) for d in target_docs] == ["En2De-1", "En2De-2", "En2De-5"]
    assert [conjugate_id(d) for d in translation_docs] == ["En2De-1", "En2De-2", "En2De-5"]
    assert [spans_by_key(d) for d in target_docs] == [
        {1: "Angela Merkel", 2: "Paris"},
        {1: "Hans", 3: "Bonn"},
        {1: "Kiew"},
    ]
    assert [spans_by_key(d) for d in translation_docs] == [
        {1: "Angela Merkel", 2: "Paris"},
        {1: "Hans Peter", 3: "Bonn"},
        {1: "Kyiv"},
    ]
    assert {d._.conjugate_role for d in target_docs} == {"target"}
    assert {d._.conjugate_role for d in translation_docs} == {"translation"}
    assert target_docs[0].lang_ == "de" and translation_docs[0].lang_ == "en"


def test_gold_tags_never_reach_the_output(tmp_path):
    path = tmp_path / "out" / "pairs.spacy"
    pairs, _ = run_import(write_release(tmp_path / "En2De"))
    importer.write_pairs(pairs, path)
    raw = zlib.decompress(path.read_bytes())
    assert b"SECRET" not in raw
    assert b"Merkel" in raw and b"Kyiv" in raw
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    assert len(docs) == 6
    assert not any(doc.has_annotation("ENT_IOB") for doc in docs)


def test_output_is_read_by_the_pairs_reader(tmp_path):
    path = tmp_path / "pairs.spacy"
    pairs, _ = run_import(write_release(tmp_path / "En2De"))
    importer.write_pairs(pairs, path)
    docs = list(DocBin().from_disk(path).get_docs(spacy.blank("xx").vocab))
    # Each target Doc is followed by its translation.
    assert [(conjugate_id(d), d._.conjugate_role) for d in docs[:2]] == [
        ("En2De-1", "target"),
        ("En2De-1", "translation"),
    ]
    loaded = load_pairs(path, spacy.blank("xx").vocab)
    assert [(t.text, r.text) for t, r in loaded] == [(t.text, r.text) for t, r in pairs]
    assert [spans_by_key(r) for _, r in loaded] == [spans_by_key(r) for _, r in pairs]


def test_conjugate_spans_survive_a_docbin_round_trip():
    vocab = spacy.blank("de").vocab
    doc = Doc(vocab, words=["Angela", "Merkel", "besucht", "Paris"])
    set_conjugate_spans(doc, "En2De-7", "target", [[1, 0, 2], [2, 3, 4]])
    data = DocBin(store_user_data=True, docs=[doc]).to_bytes()
    loaded = next(DocBin().from_bytes(data).get_docs(vocab))
    assert conjugate_id(loaded) == "En2De-7"
    assert loaded._.conjugate_role == "target"
    assert spans_by_key(loaded) == {1: "Angela Merkel", 2: "Paris"}
    # Without store_user_data the extension values are lost.
    data = DocBin(docs=[doc]).to_bytes()
    plain = next(DocBin().from_bytes(data).get_docs(vocab))
    assert conjugate_id(plain) is None


def test_sentence_counts_must_match(tmp_path):
    folder = write_release(tmp_path / "En2Nl", TARGET, TRANSLATION[:-1])
    with pytest.raises(ValueError, match="differ in their number of sentences"):
        run_import(folder)


def test_non_integer_span_id_names_file_and_line(tmp_path):
    broken = [list(rows) for rows in TRANSLATION]
    broken[1][2] = ("and", "x", "O")
    folder = write_release(tmp_path / "En2Es", TARGET, broken)
    with pytest.raises(ConllFormatError, match=r"trans\.txt, line 10"):
        run_import(folder)


def test_import_cli_writes_both_docbins_and_report(tmp_path):
    folder = write_release(tmp_path / "En2De")
    output, report = tmp_path / "pairs.spacy", tmp_path / "import.json"
    args = [
        "import-release",
        str(folder),
        "-o",
        str(output),
        "--lang",
        "de",
        "--report",
        str(report),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = srsly.read_json(report)
    assert written["pairs_kept"] == 3 and written["pairs_read"] == 5
    assert written["lang"] == "de" and written["translation_lang"] == "en"
    docs = list(DocBin().from_disk(output).get_docs(spacy.blank("de").vocab))
    assert [conjugate_id(d) for d in docs] == ["En2De-1"] * 2 + ["En2De-2"] * 2 + ["En2De-5"] * 2
    assert [d._.conjugate_role for d in docs] == ["target", "translation"] * 3
