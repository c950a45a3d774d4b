"""The ``conner`` command line: one app, and flags that mean the same in every command."""

import importlib.metadata
import subprocess
import sys
from typing import Dict, Iterator, Tuple

import pytest
import typer

from conner.cli import app
from conner.cli.options import BATCH_SIZE_DEFAULT, BATCH_SIZE_HELP, GPU_ID_HELP, TEST_HELP

# The parameter (python name) through which a command gets a model to run: a
# trained pipeline, or a config it trains. Read from the commands themselves.
MODEL_PARAMETERS = {"model", "model_a", "config", "config_path", "system"}
# model-card reads a pipeline's meta.json and runs nothing.
READS_MODEL_ONLY = {"model-card"}


def runs_a_model(name: str, command) -> bool:
    return name not in READS_MODEL_ONLY and bool(
        MODEL_PARAMETERS & {p.name for p in command.params}
    )


def commands() -> Iterator[Tuple[str, object]]:
    """``("bench inference", command)`` for every (click) command of the app, groups walked."""

    def walk(prefix: str, command):
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                yield from walk(f"{prefix} {name}".strip(), sub)
        else:
            yield prefix, command

    yield from walk("", typer.main.get_command(app))


def is_option(parameter) -> bool:
    return parameter.param_type_name == "option"


def options(command) -> Dict[str, object]:
    """The command's options by each of their flags."""
    return {flag: p for p in command.params if is_option(p) for flag in p.opts + p.secondary_opts}


COMMANDS = dict(commands())


def test_python_m_conner_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "conner", "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    top_level = {name.split()[0] for name in COMMANDS}
    assert {"convert", "train", "evaluate", "tag", "bench"} <= top_level
    for name in top_level:
        assert f" {name} " in result.stdout, name


def test_the_console_script_is_installed_and_runs_the_app():
    (point,) = [
        p for p in importlib.metadata.entry_points(group="console_scripts") if p.name == "conner"
    ]
    assert point.load() is app


@pytest.mark.parametrize("name", sorted(n for n, c in COMMANDS.items() if runs_a_model(n, c)))
def test_every_command_that_runs_a_model_takes_gpu_id(name):
    gpu_id = options(COMMANDS[name]).get("--gpu-id")
    assert gpu_id is not None, f"conner {name} runs a model but has no --gpu-id"
    assert gpu_id.help == GPU_ID_HELP and gpu_id.min == -1


def test_the_commands_that_run_a_model_are_found():
    running = {n for n, c in COMMANDS.items() if runs_a_model(n, c)}
    assert {
        "weak-tag",
        "tag",
        "evaluate",
        "train",
        "bench inference",
        "case-study",
        "seed-grid",
    } <= running


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_main_output_is_output_or_o(name):
    command = COMMANDS[name]
    flags = options(command)
    outputs = [p for p in command.params if p.name in ("output", "output_path", "output_dir")]
    for parameter in outputs:
        assert is_option(parameter), f"conner {name}: the output is an option, not positional"
        assert set(parameter.opts) == {"--output", "-o"}, (name, parameter.opts)
    assert not any(flag in flags for flag in ("--output-dir", "--out")), name
    # Inputs come first: no positional argument is an output.
    assert not [p.name for p in command.params if not is_option(p) and "output" in p.name], name


def test_batch_size_means_documents_per_pipe_batch_everywhere():
    found = [
        (n, options(c)["--batch-size"]) for n, c in COMMANDS.items() if "--batch-size" in options(c)
    ]
    assert len(found) >= 5
    for name, option in found:
        assert option.help == BATCH_SIZE_HELP and option.default == BATCH_SIZE_DEFAULT, name
        assert option.min == 1, name
    # A translation engine's per-call count has its own name.
    assert "--batch-size" not in options(COMMANDS["translate"])
    assert "--sentences-per-call" in options(COMMANDS["translate"])


def test_test_sets_are_repeatable_test_options_everywhere():
    found = [(n, options(c)["--test"]) for n, c in COMMANDS.items() if "--test" in options(c)]
    assert {"evaluate", "seed-grid", "bench inference"} <= {n for n, _ in found}
    for name, option in found:
        assert option.multiple and option.help == TEST_HELP, name
    for name, command in COMMANDS.items():
        assert not [p for p in command.params if not is_option(p) and p.name == "test_sets"], name


def test_the_language_of_the_documents_is_lang_everywhere():
    for name, command in COMMANDS.items():
        flags = options(command)
        assert not {"--src", "--tgt", "--target-lang"} & set(flags), name
    assert {n for n, c in COMMANDS.items() if "--lang" in options(c)} >= {
        "convert",
        "import-release",
        "translate",
        "check",
    }


def test_pipe_by_words_batches_by_words_and_keeps_the_order():
    import spacy

    from conner.inference.pipelines import pipe_by_words

    nlp = spacy.blank("en")
    sizes = []

    original_pipe = nlp.pipe

    def counting_pipe(docs, batch_size=None, **kwargs):
        docs = list(docs)
        sizes.append(sum(len(d) for d in docs))
        assert batch_size == len(docs)  # one nlp.pipe batch per word batch
        return original_pipe(docs, batch_size=batch_size, **kwargs)

    nlp.pipe = counting_pipe
    texts = ["a b c", "d e", "f g h i j k l m", "n", "o p q r"]
    out = list(pipe_by_words(nlp, texts, 5))
    assert [d.text for d in out] == texts
    # 3 + 2 words fill a batch; 8 words are a batch of their own; 1 + 4 the last.
    assert sizes == [5, 8, 5]
    docs = [nlp.make_doc(t) for t in texts]
    assert [d.text for d in pipe_by_words(nlp, docs, 100)] == texts and sizes[-1] == 18


def test_batch_size_counts_words():
    from conner.cli.options import BATCH_SIZE_HELP

    assert BATCH_SIZE_HELP.startswith("Words per nlp.pipe batch")
