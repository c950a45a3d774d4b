"""Commands check their options and inputs before loading anything.

A bad option or input ends the run with a message naming the option (or
the file) and never a traceback; each case runs the command as a user would,
in a subprocess. Evaluation refuses an empty test set and warns where the
scores are 0 by construction.
"""

import os
import subprocess
import sys

import pytest
import spacy
from spacy.tokens import Doc, DocBin, Span
from test_bad_input import CONLL, ROOT
from test_weak_tag import ruler_pipeline, unlabeled_docs
from typer.testing import CliRunner

from conner.cli import app

BOX = str.maketrans("", "", "│╭╮╰╯─")


def flat(text: str) -> str:
    """Output without rich's panel borders, whitespace normalised."""
    return " ".join(text.translate(BOX).split())


def run_command(command: str, args, cwd=ROOT, **env) -> subprocess.CompletedProcess:
    """``python -m conner COMMAND ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "conner", command, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def assert_clear_error(result: subprocess.CompletedProcess, *phrases: str) -> str:
    assert result.returncode in (1, 2), (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    message = flat(result.stderr)
    for phrase in phrases:
        assert phrase in message, message
    return message


@pytest.fixture
def inputs(tmp_path):
    data = tmp_path / "in.spacy"
    DocBin(docs=unlabeled_docs(), store_user_data=True).to_disk(data)
    conll = tmp_path / "s.txt"
    conll.write_text(CONLL, encoding="utf-8")
    return data, conll


def test_translate_names_an_engine_option_the_engine_does_not_take(tmp_path, inputs):
    data, _ = inputs
    result = run_command(
        "translate", [data, "-o", tmp_path / "out.spacy", "--option", "colour=blue"]
    )
    message = assert_clear_error(
        result, "Invalid value for '--option'", "unexpected keyword argument 'colour'"
    )
    assert "apertium engine" in message
    assert not (tmp_path / "out.spacy").exists()


def test_translate_sentences_per_call_must_be_positive(tmp_path, inputs):
    data, _ = inputs
    result = run_command(
        "translate",
        [data, "-o", tmp_path / "out.spacy", "--sentences-per-call", "0", "--no-progress"],
    )
    assert_clear_error(
        result, "Invalid value for '--sentences-per-call'", "greater than or equal to 1"
    )


def test_convert_limit_must_not_be_negative(tmp_path, inputs):
    _, conll = inputs
    result = run_command("convert", [conll, "-o", tmp_path / "out.spacy", "--limit", "-5"])
    assert_clear_error(result, "Invalid value for '--limit'", "greater than or equal to 0")
    assert not (tmp_path / "out.spacy").exists()


def test_train_refuses_negative_weights_and_weights_a_vanilla_run_would_ignore():
    negative = run_command("train", ["conner-vanilla", "--alpha", "-1", "--dry-run"])
    assert_clear_error(negative, "Invalid value for '--alpha'", "greater than or equal to 0")
    ignored = run_command("train", ["conner-vanilla", "--beta", "0.5", "--dry-run"])
    assert_clear_error(
        ignored, "Invalid value for '--beta'", "'conner-vanilla' trains vanilla", "give --pairs"
    )
    with_pairs = run_command(
        "train", ["conner-x", "--pairs", "corpus/pairs/google", "--alpha", "1", "--dry-run"]
    )
    assert with_pairs.returncode == 0, with_pairs.stderr
    assert '"--consistency.alpha", "1.0"' in with_pairs.stdout


def test_weak_tag_refuses_a_missing_input_before_loading_the_model(tmp_path):
    # The model does not exist either: the input is checked first.
    result = run_command(
        "weak-tag", [tmp_path / "no-model", tmp_path / "nope.spacy", "-o", tmp_path / "out.spacy"]
    )
    assert_clear_error(result, "Invalid value for 'INPUTS'", "nope.spacy: no such file")


def test_weak_tag_names_a_model_it_cannot_find(tmp_path, inputs):
    data, _ = inputs
    result = run_command("weak-tag", [tmp_path / "no-model", data, "-o", tmp_path / "out.spacy"])
    message = assert_clear_error(result, "Error: [E050] Can't find model")
    assert len(result.stderr.strip().splitlines()) == 1, message


def test_opus_mt_hub_name_offline_is_one_line_saying_how_to_give_a_folder(tmp_path, inputs):
    data, _ = inputs
    result = run_command(
        "translate",
        [
            data,
            "-o",
            tmp_path / "out.spacy",
            "--translator",
            "opus-mt",
            "--option",
            "model=Helsinki-NLP/opus-mt-es-en",
        ],
        cwd=tmp_path,
        HF_HUB_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf"),
    )
    assert_clear_error(result)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: could not load the Opus-MT model 'Helsinki-NLP/opus-mt-es-en' offline: HF_HUB_OFFLINE is set and "
        "it is not in the Hugging Face cache; give a local folder of a MarianMT model with --option model=PATH"
    ]


# ------------------------------------------------------------------ evaluation


def invoke(command: str, args):
    return CliRunner().invoke(app, [command, *map(str, args)])


def gold_set(path, labels):
    doc = Doc(spacy.blank("es").vocab, words="Ana vive en Buenos Aires .".split())
    doc.ents = [
        Span(doc, start, end, label=label) for (start, end), label in zip([(0, 1), (3, 5)], labels)
    ]
    DocBin(docs=[doc]).to_disk(path)
    return path


def test_evaluate_refuses_an_empty_test_set_before_loading_the_model(tmp_path):
    empty = tmp_path / "empty.spacy"
    DocBin(docs=[]).to_disk(empty)
    result = invoke(
        "evaluate",
        [tmp_path / "no-model", "--test", f"es={empty}", "--output", tmp_path / "r.json"],
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.strip().splitlines() == [
        f"Error: {empty}: holds no sentence; nothing to evaluate"
    ]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    "labels, warning",
    [
        ([], "es ({path}) has no gold entity: its scores are 0 by construction"),
        (
            ["PERSON", "GPE"],
            "the gold labels of es ({path}: GPE, PERSON) and the model's (LOC, PER) do not overlap: "
            "its scores are 0 by construction",
        ),
    ],
)
def test_evaluate_warns_where_the_scores_are_zero_by_construction(tmp_path, labels, warning):
    model = ruler_pipeline(tmp_path / "model")
    gold = gold_set(tmp_path / "gold.spacy", labels)
    result = invoke("evaluate", [model, "--test", f"es={gold}", "--output", tmp_path / "r.json"])
    assert result.exit_code == 0, result.stderr
    assert "F1 0.00" in result.stdout
    messages = [
        line for line in result.stderr.splitlines() if line.startswith(("Warning", "Error"))
    ]
    assert messages == ["Warning: " + warning.format(path=gold)]


def test_evaluate_does_not_warn_when_labels_overlap(tmp_path):
    model = ruler_pipeline(tmp_path / "model")
    gold = gold_set(tmp_path / "gold.spacy", ["PER", "LOC"])
    result = invoke("evaluate", [model, "--test", f"es={gold}", "--output", tmp_path / "r.json"])
    assert result.exit_code == 0, result.stderr
    assert "F1 100.00" in result.stdout and "Warning" not in result.stderr


def test_evaluate_names_a_test_set_that_is_not_a_docbin(tmp_path):
    text = tmp_path / "test.txt"
    text.write_text(CONLL, encoding="utf-8")
    result = invoke(
        "evaluate", [tmp_path / "no-model", "--test", f"es={text}", "--output", tmp_path / "r.json"]
    )
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {text}: not a spaCy DocBin (")
