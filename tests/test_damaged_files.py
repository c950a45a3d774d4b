"""A damaged or missing file of a saved pipeline fails with one line naming it.

Each file that ``conner`` and the transformer write is emptied, cut in half,
replaced by garbage or removed in a copy of a tiny saved pipeline; loading
the copy must raise an error that names that file and says what is wrong,
and the scripts that load pipelines must print it as one line.
"""

import random
import shutil

import pytest
import spacy
from spacy.tokens import DocBin
from test_transformer_pipeline import build_nlp
from test_weak_tag import unlabeled_docs
from typer.testing import CliRunner

from conner.cli import app as conner_app
from conner.files.saved_files import DamagedFileError

FILES = ["conner/cfg", "conner/model", "transformer/cfg", "transformer/model"]
PROBLEMS = {
    "empty": "empty (0 bytes)",
    "truncated": "truncated or corrupt",
    "garbage": "corrupt",
    "missing": "missing",
}


@pytest.fixture(scope="module")
def saved_pipeline(tiny_encoder, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model-best"
    build_nlp(tiny_encoder)[0].to_disk(path)
    return path


def damage(path, kind: str) -> None:
    data = path.read_bytes()
    if kind == "missing":
        path.unlink()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # the same length of random bytes
        path.write_bytes(random.Random(len(data)).randbytes(len(data)))


def damaged_copy(saved_pipeline, tmp_path, name: str, kind: str):
    copy = tmp_path / "model-best"
    shutil.copytree(saved_pipeline, copy)
    damage(copy / name, kind)
    return copy


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
@pytest.mark.parametrize("name", FILES)
def test_loading_a_damaged_file_names_it(saved_pipeline, tmp_path, name, kind):
    copy = damaged_copy(saved_pipeline, tmp_path, name, kind)
    with pytest.raises(DamagedFileError) as info:
        spacy.load(copy)
    message = str(info.value)
    assert message.startswith(f"{copy / name}: "), message
    assert PROBLEMS[kind] in message and "re-save or re-train the pipeline" in message
    assert "\n" not in message


def test_the_undamaged_copy_loads_and_tags(saved_pipeline, tmp_path):
    copy = tmp_path / "model-best"
    shutil.copytree(saved_pipeline, copy)
    doc = spacy.load(copy)("Angela Merkel besuchte Paris .")
    assert len(doc) == 5


def test_commands_print_a_damaged_pipeline_as_one_line(saved_pipeline, tmp_path):
    copy = damaged_copy(saved_pipeline, tmp_path, "conner/model", "truncated")
    data = tmp_path / "in.spacy"
    DocBin(docs=unlabeled_docs(), store_user_data=True).to_disk(data)
    for args in [
        ["weak-tag", copy, data, "-o", tmp_path / "out.spacy"],
        ["evaluate", copy, "--test", f"es={data}", "-o", tmp_path / "report.json"],
    ]:
        result = CliRunner().invoke(conner_app, [str(a) for a in args])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith(f"Error: {copy / 'conner/model'}: truncated or corrupt (")
        assert lines[0].endswith("; re-save or re-train the pipeline")
