"""Pooling conjugate-pair files into one directory for the reader."""

import pytest
from test_pairs_io import pair

from conner.cli.collect_pairs import collect_pairs
from conner.consistency.pairs import write_pairs


def pair_file(path, n_pairs: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_pairs([pair(f"p{i}") for i in range(n_pairs)], path)
    return path


def test_collect_recreates_the_folder_with_exactly_the_given_files(tmp_path):
    pair_file(tmp_path / "a.spacy", 1)
    pair_file(tmp_path / "sub" / "b.spacy", 2)
    out = tmp_path / "pool"
    out.mkdir()
    (out / "stale.spacy").write_bytes(b"old")  # would otherwise be pooled too
    copies = collect_pairs(out, [tmp_path / "a.spacy", tmp_path / "sub" / "b.spacy"])
    assert (
        sorted(p.name for p in out.iterdir())
        == ["a.spacy", "b.spacy"]
        == sorted(c.name for c in copies)
    )
    assert (out / "b.spacy").read_bytes() == (tmp_path / "sub" / "b.spacy").read_bytes()
    assert {c.name: n for c, n in copies.items()} == {"a.spacy": 1, "b.spacy": 2}


def test_collect_refuses_missing_files_and_name_clashes(tmp_path):
    pair_file(tmp_path / "a.spacy", 1)
    pair_file(tmp_path / "x" / "a.spacy", 1)
    with pytest.raises(ValueError, match="a.spacy"):
        collect_pairs(tmp_path / "pool", [tmp_path / "a.spacy", tmp_path / "x" / "a.spacy"])
    with pytest.raises(FileNotFoundError, match="nope.spacy"):
        collect_pairs(tmp_path / "pool", [tmp_path / "nope.spacy"])
