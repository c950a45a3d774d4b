"""conner.prepare.release: the one reader of the ConNER release, used by the importer and the stored engine."""

from pathlib import Path

import pytest
import spacy

from conner.cli import import_release as importer
from conner.prepare.conll import ConllFormatError
from conner.prepare.release import (
    TARGET_FILE,
    TRANSLATION_FILE,
    read_release_pairs,
    release_files,
    without_repeated_keys,
)
from conner.prepare.translation import get_engine
from conner.prepare.translation.stored import read_release

# "EFE meldet Kiew": the translation repeats span 2 ("EFE ... EFE").
TARGET = "-DOCSTART-\t0\tO\n\nEFE\t2\tS-ORG\nmeldet\t0\tO\nKiew\t1\tS-LOC\n\nAna\t1\tS-PER\nlacht\t0\tO\n\n"
TRANSLATION = (
    "-DOCSTART-\t0\tO\n\nKyiv\t1\tS-LOC\nEFE\t2\tS-ORG\nreports\t0\tO\nEFE\t2\tS-ORG\n\n"
    "Ana\t1\tS-PER\nlaughs\t0\tO\n\n"
)


def write_release(folder: Path, target: str = TARGET, translation: str = TRANSLATION) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TARGET_FILE).write_text(target, encoding="utf-8")
    (folder / TRANSLATION_FILE).write_text(translation, encoding="utf-8")
    return folder


def read_pairs(folder: Path):
    return list(read_release_pairs(*release_files(folder)))


def test_reader_yields_every_block_with_words_and_runs(tmp_path):
    marker, efe, ana = read_pairs(write_release(tmp_path / "En2De"))
    assert marker.is_empty and not efe.is_empty
    assert [p.index for p in (marker, efe, ana)] == [0, 1, 2]
    assert efe.target.words == ["EFE", "meldet", "Kiew"]
    assert efe.target.runs == [(2, 0, 1), (1, 2, 3)]
    assert efe.translation.runs == [(1, 0, 1), (2, 1, 2), (2, 3, 4)]
    assert efe.translation.span_text((1, 0, 1)) == "Kyiv"


def test_a_repeated_id_is_dropped_from_both_sides_and_counted(tmp_path):
    _, efe, ana = read_pairs(write_release(tmp_path / "En2De"))
    assert efe.repeated_keys == {2}
    # One run in the target and two in the translation go.
    assert efe.repeated_runs == 3
    assert efe.kept_runs() == ([(1, 2, 3)], [(1, 0, 1)])
    assert (ana.repeated_keys, ana.repeated_runs) == (set(), 0)
    assert ana.kept_runs() == ([(1, 0, 1)], [(1, 0, 1)])


def test_a_repeat_on_the_target_side_counts_too():
    target, translation = [(3, 0, 1), (3, 2, 4), (1, 5, 6)], [(3, 0, 2), (1, 3, 4)]
    assert without_repeated_keys(target, translation) == ([(1, 5, 6)], [(1, 3, 4)])


def run_import(folder: Path):
    return importer.import_release(
        folder / TARGET_FILE,
        folder / TRANSLATION_FILE,
        spacy.blank("de").vocab,
        spacy.blank("en").vocab,
    )


def test_importer_and_stored_engine_apply_and_report_the_same_policy(tmp_path):
    folder = write_release(tmp_path / "En2De")
    _, counts = run_import(folder)
    mapping, stats = read_release(folder)
    assert (counts["keys_repeated"], counts["spans_dropped_repeated"]) == (1, 3)
    assert (stats.keys_repeated, stats.spans_dropped_repeated) == (1, 3)
    # The repeated span is no placeholder on either side; the other one is.
    assert mapping["EFE meldet SPAN0"] == "SPAN0 EFE reports EFE"
    assert "SPAN0 meldet SPAN1" not in mapping and "EFE" not in mapping
    assert mapping["Kiew"] == "Kyiv"
    # Marker-only blocks are no sentences; the markers are never text.
    assert stats.sentences == 2 and stats.spans == 2
    assert not any("DOCSTART" in key for key in mapping)


def test_stored_engine_keeps_each_release_folders_stats(tmp_path):
    folder = write_release(tmp_path / "En2De")
    engine = get_engine("stored", "de", "en", paths=str(folder))
    assert engine.release_stats[str(folder)].keys_repeated == 1
    assert engine.translate_batch(["EFE meldet SPAN0"]) == ["SPAN0 EFE reports EFE"]


@pytest.mark.parametrize("reader", ["importer", "stored"])
def test_a_bad_span_id_names_file_and_line(tmp_path, reader):
    folder = write_release(
        tmp_path / "En2De", translation=TRANSLATION.replace("laughs\t0", "laughs\tx")
    )
    with pytest.raises(ConllFormatError, match=r"trans\.txt, line 9: expected token<TAB>span-id"):
        read_release(folder) if reader == "stored" else run_import(folder)


def test_a_ragged_line_names_file_and_line(tmp_path):
    folder = write_release(tmp_path / "En2De", target=TARGET.replace("meldet\t0\tO", "meldet\t0"))
    with pytest.raises(
        ConllFormatError, match=r"unlabel\.txt, line 4: expected 3 non-empty columns"
    ):
        read_release(folder)


def test_a_single_column_file_names_its_first_line(tmp_path):
    folder = write_release(
        tmp_path / "En2De", target="EFE\nmeldet\n\n", translation="EFE\nreports\n\n"
    )
    with pytest.raises(ConllFormatError, match=r"unlabel\.txt, line 1: expected token<TAB>span-id"):
        read_release(folder)


def test_an_extra_sentence_names_file_and_line(tmp_path):
    folder = write_release(tmp_path / "En2De", translation=TRANSLATION + "Bonn\t1\tS-LOC\n\n")
    message = r"trans\.txt, line 11: the files differ in their number of sentences"
    with pytest.raises(ConllFormatError, match=message):
        read_release(folder)
    folder = write_release(tmp_path / "En2Es", target=TARGET + "-DOCSTART-\t0\tO\n\n")
    with pytest.raises(
        ValueError, match=r"unlabel\.txt: the files differ in their number of sentences"
    ):
        read_release(folder)


def test_a_missing_file_is_named(tmp_path):
    folder = write_release(tmp_path / "En2De")
    (folder / TRANSLATION_FILE).unlink()
    with pytest.raises(ValueError, match=r"trans\.txt not found"):
        read_release(folder)
    with pytest.raises(ValueError, match=r"trans\.txt not found"):
        get_engine("stored", "de", "en", paths=str(folder))
