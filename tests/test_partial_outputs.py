"""No hidden ``.NAME.part`` file outlives its run.

A writer stopped by SIGTERM removes its temporary file before it dies; one
killed by SIGKILL cannot, so the next write of the same output removes the
temporary files that no running process owns.
"""

import os
import signal
import subprocess
import sys

import spacy
from spacy.tokens import DocBin
from test_bad_input import CONLL, invoke, stop_while_writing
from test_pairs_io import pair

from conner.consistency.pairs import write_pairs
from conner.files.outputs import atomic_output, atomic_output_dir


def hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path):
    source, out = tmp_path / "s.txt", tmp_path / "out.spacy"
    source.write_text(CONLL * 50, encoding="utf-8")
    out.write_bytes(b"OLD")
    assert (
        stop_while_writing("convert", [source, "-o", out, "--lang", "en"], signal.SIGTERM)
        == -signal.SIGTERM
    )
    assert out.read_bytes() == b"OLD"
    assert hidden(tmp_path) == []


def test_the_next_run_removes_what_sigkill_left(tmp_path):
    source, out = tmp_path / "s.txt", tmp_path / "out.spacy"
    source.write_text(CONLL * 50, encoding="utf-8")
    assert (
        stop_while_writing("convert", [source, "-o", out, "--lang", "en"], signal.SIGKILL)
        == -signal.SIGKILL
    )
    left = hidden(tmp_path)
    assert len(left) == 1 and left[0].startswith(".out.spacy.") and left[0].endswith(".part")
    assert invoke("convert", [source, "-o", out, "--lang", "en"]).exit_code == 0
    assert hidden(tmp_path) == []
    assert len(list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))) == 50


def test_stale_temporary_files_go_and_those_of_running_writers_stay(tmp_path):
    out = tmp_path / "out.spacy"
    stale = [
        ".out.spacy.part",
        ".out.spacy.k2j4_x9q.part",
        f".out.spacy.{dead_pid()}.ab12cd34.part",
    ]
    running = f".out.spacy.{os.getpid()}.zz99yy88.part"  # this process is alive
    other_output = f".out.spacy.json.{dead_pid()}.ab12cd34.part"  # another output's
    for name in stale + [running, other_output]:
        (tmp_path / name).write_bytes(b"half")
    with atomic_output(out) as temporary:
        temporary.write_bytes(b"NEW")
    assert out.read_bytes() == b"NEW"
    assert hidden(tmp_path) == sorted([running, other_output])


def test_a_stale_temporary_folder_is_removed_by_the_next_run(tmp_path):
    source = tmp_path / "pairs.spacy"
    write_pairs([pair("p0")], source)
    stale = tmp_path / f".pool.{dead_pid()}.q1w2e3r4.part"
    stale.mkdir()
    (stale / "pairs.spacy").write_bytes(b"half")
    result = invoke("collect-pairs", [source, "-o", tmp_path / "pool"])
    assert result.exit_code == 0, result.output
    assert hidden(tmp_path) == []
    with atomic_output_dir(tmp_path / "pool") as temporary:
        (temporary / "x").write_bytes(b"x")
    assert hidden(tmp_path) == [] and os.listdir(tmp_path / "pool") == ["x"]
