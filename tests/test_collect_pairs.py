"""Pooling conjugate-pair files into one directory for the reader."""
import pytest

from collect_pairs import collect_pairs


def test_collect_recreates_the_folder_with_exactly_the_given_files(tmp_path):
    (tmp_path / "a.spacy").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.spacy").write_bytes(b"b")
    out = tmp_path / "pool"
    out.mkdir()
    (out / "stale.spacy").write_bytes(b"old")  # would otherwise be pooled too
    copies = collect_pairs(out, [tmp_path / "a.spacy", tmp_path / "sub" / "b.spacy"])
    assert sorted(p.name for p in out.iterdir()) == ["a.spacy", "b.spacy"] == sorted(c.name for c in copies)
    assert (out / "b.spacy").read_bytes() == b"b"


def test_collect_refuses_missing_files_and_name_clashes(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "a.spacy").write_bytes(b"a")
    (tmp_path / "x" / "a.spacy").write_bytes(b"a2")
    with pytest.raises(ValueError, match="a.spacy"):
        collect_pairs(tmp_path / "pool", [tmp_path / "a.spacy", tmp_path / "x" / "a.spacy"])
    with pytest.raises(FileNotFoundError, match="nope.spacy"):
        collect_pairs(tmp_path / "pool", [tmp_path / "nope.spacy"])
