"""One chain for any target language: project.yml's vars, the apertium pairs
``conner check`` names, and (integration) Basque text to conjugate pairs with the
real apertium."""

import json
import shlex
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Sequence

import pytest
import spacy
import typer
from typer.testing import CliRunner
from weasel.util.config import load_project_config

from conner.cli import app, check
from conner.consistency.extensions import get_conjugate_spans
from conner.consistency.pairs import load_pairs
from conner.prepare.translation.apertium import INTO_ENGLISH, apertium_pair, list_modes
from conner.prepare.translation.engines import TranslationError

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ("unlabeled", "weak-tag", "translate", "collect-pairs-translated")
# The Spanish chain's commands before the target language became a variable:
# with the default vars, each command must get the same arguments.
SPANISH = {
    "unlabeled": "python -m conner convert assets/conll2002.zip -o corpus/es_unlabeled.spacy --member conll2002/esp.train --lang es --unlabeled --report corpus/reports/es_unlabeled.json",
    "weak-tag": "python -m conner weak-tag training/conner-vanilla/model-best corpus/es_unlabeled.spacy -o corpus/es_weak.spacy --id-prefix es-",
    "translate": "python -m conner translate corpus/es_weak.spacy -o corpus/pairs_es_apertium.spacy --translator apertium --lang es --translation-lang en --cache cache/translate.sqlite --sentences-per-call 512 --summary reports/translate_es_apertium.json",
    "collect-pairs-translated": "python -m conner collect-pairs corpus/pairs_de_google.spacy corpus/pairs_es_apertium.spacy corpus/pairs_nl_google.spacy -o corpus/pairs/es-apertium",
}


def project(tmp_path, **variables):
    """project.yml with its vars substituted (and overridden), as weasel reads it."""
    shutil.copy(ROOT / "project.yml", tmp_path / "project.yml")
    overrides = {f"vars.{name}": value for name, value in variables.items()}
    config = load_project_config(tmp_path, overrides=overrides)
    return {command["name"]: command for command in config["commands"]}


def parameters(line: str):
    """The ``conner`` command a project.yml line runs and the parameters it gets.

    Run in an empty folder (``monkeypatch.chdir``): the files the line names
    are created there, empty, for the commands that check that inputs exist.
    """
    args = shlex.split(line)
    assert args[:3] == ["python", "-m", "conner"], line
    for arg in args[4:]:
        if Path(arg).suffix in (".spacy", ".zip", ".jsonl", ".txt") and not Path(arg).exists():
            Path(arg).parent.mkdir(parents=True, exist_ok=True)
            Path(arg).touch()
    command = typer.main.get_command(app).commands[args[3]]
    return args[3], command.make_context(args[3], args[4:]).params


def test_default_vars_give_the_spanish_chain_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = project(tmp_path)
    for name in CHAIN:
        (line,) = commands[name]["script"]
        script, params = parameters(line)
        old_script, old_params = parameters(SPANISH[name])
        assert script == old_script
        assert params == old_params, name
    assert commands["unlabeled"]["outputs"] == [
        "corpus/es_unlabeled.spacy",
        "corpus/reports/es_unlabeled.json",
    ]
    assert commands["weak-tag"]["outputs"] == ["corpus/es_weak.spacy"]
    assert commands["translate"]["outputs"] == [
        "corpus/pairs_es_apertium.spacy",
        "reports/translate_es_apertium.json",
    ]
    assert commands["collect-pairs-translated"]["outputs"] == ["corpus/pairs/es-apertium"]


def test_vars_choose_the_language_input_and_engine_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = project(
        tmp_path,
        target_lang="eu",
        target_unlabeled="assets/eu/train.jsonl",
        target_member="",
        target_format="jsonl",
    )
    _, unlabeled = parameters(commands["unlabeled"]["script"][0])
    assert (unlabeled["input_path"], unlabeled["output_path"]) == (
        Path("assets/eu/train.jsonl"),
        Path("corpus/eu_unlabeled.spacy"),
    )
    assert (unlabeled["input_format"], unlabeled["lang"], unlabeled["unlabeled"]) == (
        "jsonl",
        "eu",
        True,
    )
    assert not unlabeled["member"]
    assert "assets/eu/train.jsonl" in commands["unlabeled"]["deps"]
    _, tagged = parameters(commands["weak-tag"]["script"][0])
    assert (tagged["inputs"], tagged["output_path"]) == (
        "corpus/eu_unlabeled.spacy",
        Path("corpus/eu_weak.spacy"),
    )
    assert tagged["id_prefix"] == "eu-"
    _, translated = parameters(commands["translate"]["script"][0])
    assert (translated["inputs"], translated["src"]) == ("corpus/eu_weak.spacy", "eu")
    assert translated["output_path"] == Path("corpus/pairs_eu_apertium.spacy")
    _, pooled = parameters(commands["collect-pairs-translated"]["script"][0])
    assert pooled["output_dir"] == Path("corpus/pairs/eu-apertium")
    assert Path("corpus/pairs_eu_apertium.spacy") in pooled["files"]
    _, checked = parameters(commands["check"]["script"][0])
    assert (checked["engine"], checked["engine_lang"], checked["lang"]) == ("apertium", "eu", "eu")
    # The engine's own code, where it differs from spaCy's.
    commands = project(tmp_path, target_lang="hr", translate_src="sr", translate_engine="google")
    _, translated = parameters(commands["translate"]["script"][0])
    assert (translated["src"], translated["engine"]) == ("sr", "google")
    assert parameters(commands["check"]["script"][0])[1]["engine_lang"] == "sr"
    assert commands["translate"]["outputs"][0] == "corpus/pairs_hr_google.spacy"


def test_check_refuses_a_language_spacy_does_not_know():
    problems = check.find_problems(lang="qq")
    assert len(problems) == 1 and "unknown language code 'qq'" in problems[0]
    assert check.find_problems(lang="eu") == []


# ------------------------------------------------ apertium pairs into English


def fake_apertium(folder: Path, modes, echo: bool = False) -> Path:
    """An ``apertium`` that lists ``modes`` and translates nothing, or with
    ``echo`` "translates" by echoing its input."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "apertium"
    listing = "".join(f"echo '  {m}'\n" for m in modes)
    if echo:
        listing = f'if [ "$1" = -l ]; then\n{listing}exit 0\nfi\ncat\n'
    path.write_text("#!/bin/sh\n" + listing, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_language_spacy_has_no_class_for_translates_by_its_engine_code(tmp_path):
    # Galician: apertium's gl-en, but spaCy has no "gl"; the text is read as xx.
    assert apertium_pair("gl") == ("gl-en", "apertium-en-gl")
    with pytest.raises(ImportError):
        spacy.util.get_lang_class("gl")
    raw = tmp_path / "gl.txt"
    raw.write_text("Rosalía de Castro naceu en Santiago .\nNon pasou nada .\n", encoding="utf-8")
    unlabeled, weak, pairs = (tmp_path / f"{n}.spacy" for n in ("unlabeled", "weak", "pairs"))
    invoke("convert", raw, "-o", unlabeled, "--format", "text", "--lang", "xx", "--unlabeled")
    invoke(
        "weak-tag",
        ruler_model(tmp_path / "model", "xx", ["Rosalía de Castro", "Santiago"]),
        unlabeled,
        "-o",
        weak,
        "--id-prefix",
        "xx-",
        "--no-progress",
    )
    binary = fake_apertium(tmp_path / "bin", ["gl-en"], echo=True)
    invoke(
        "translate",
        weak,
        "-o",
        pairs,
        "--lang",
        "gl",
        "--option",
        f"binary={binary}",
        "--no-progress",
    )
    ((target, translation),) = load_pairs(pairs, spacy.blank("en").vocab)
    assert target._.conjugate_id == "xx-0"
    assert [s.text for s in get_conjugate_spans(translation).values()] == [
        "Rosalía de Castro",
        "Santiago",
    ]
    summary = json.loads((tmp_path / "pairs.summary.json").read_text())
    assert (summary["src"], summary["model"], summary["pairs_kept"]) == ("gl", "apertium/gl-en", 1)


@pytest.mark.parametrize("lang", sorted(INTO_ENGLISH))
def test_check_names_the_debian_package_of_each_pair(tmp_path, lang):
    mode, package = apertium_pair(lang)
    binary = fake_apertium(tmp_path, ["eng-spa", "Cyrl-Latn"])
    (problem,) = check.find_problems(
        engine="apertium", engine_lang=lang, options=[f"binary={binary}"]
    )
    assert f"no direction '{mode}'" in problem and f"apt-get install {package}`" in problem
    assert "\n" not in problem
    missing = check.find_problems(
        engine="apertium", engine_lang=lang, options=["binary=no-such-apertium"]
    )
    assert len(missing) == 1 and f"apt-get install apertium {package}`" in missing[0]
    # Where the pair is installed, its mode is the one asked for.
    binary = fake_apertium(tmp_path, [mode])
    assert (
        check.find_problems(engine="apertium", engine_lang=lang, options=[f"binary={binary}"]) == []
    )


def test_basque_is_its_own_debian_name_not_a_sorted_guess(tmp_path):
    # Debian packages the pair as apertium-eu-en (mode eu-en): sorting the
    # codes would say apertium-en-eu, and the ISO 639-3 code eus-eng.
    assert apertium_pair("eu") == ("eu-en", "apertium-eu-en")
    binary = fake_apertium(tmp_path, [])
    (problem,) = check.find_problems(
        engine="apertium", engine_lang="eu", options=[f"binary={binary}"]
    )
    assert "apertium-eu-en`" in problem


def test_a_language_without_a_pair_into_english_says_which_have_one(tmp_path):
    binary = fake_apertium(tmp_path, ["spa-eng"])
    (problem,) = check.find_problems(
        engine="apertium", engine_lang="de", options=[f"binary={binary}"]
    )
    assert "no apertium pair translates 'de' into English" in problem
    assert all(lang in problem for lang in ("es", "eu", "hr"))


def installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


@pytest.mark.integration
def test_the_table_agrees_with_the_installed_apertium():
    if shutil.which("apertium") is None or shutil.which("dpkg-query") is None:
        pytest.skip("apertium or dpkg-query missing (apt-get install apertium apertium-eng-spa)")
    modes = list_modes()
    checked = [lang for lang in INTO_ENGLISH if installed(apertium_pair(lang)[1])]
    if not checked:
        pytest.skip("no apertium pair into English is installed")
    for lang in checked:
        assert apertium_pair(lang)[0] in modes, (lang, modes)


# ---------------------------------------------- Basque text to pairs, for real

BASQUE_TEXT = """\
Mikel Laboa Donostian jaio zen 1934an .

Iñaki Urdangarin Bilbora joan da gaur .
Eusko Jaurlaritzak Gasteizen bilera egin du .
Gaur ez da ezer gertatu .
"""
BASQUE_NAMES = [
    "Mikel Laboa",
    "Donostian",
    "Iñaki Urdangarin",
    "Bilbora",
    "Eusko Jaurlaritzak",
    "Gasteizen",
]


def ruler_model(path: Path, lang: str = "eu", names: Sequence[str] = BASQUE_NAMES) -> Path:
    """A weak tagger of ``lang`` that knows a handful of names (Basque ones by default)."""
    nlp = spacy.blank(lang)
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "X", "pattern": [{"ORTH": w} for w in name.split()]} for name in names]
    )
    nlp.to_disk(path)
    return path


def invoke(command: str, *args):
    result = CliRunner().invoke(app, [command, *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.integration
def test_basque_text_becomes_english_conjugate_pairs_with_apertium(tmp_path):
    try:
        from conner.prepare.translation import get_engine

        get_engine("apertium", "eu", "en")
    except TranslationError as err:
        pytest.skip(f"apertium's eu-en pair is missing: {err}")
    raw = tmp_path / "eu.txt"
    raw.write_text(BASQUE_TEXT, encoding="utf-8")
    unlabeled, weak, pairs = (
        tmp_path / "eu_unlabeled.spacy",
        tmp_path / "eu_weak.spacy",
        tmp_path / "pairs_eu.spacy",
    )
    invoke("convert", raw, "-o", unlabeled, "--format", "text", "--lang", "eu", "--unlabeled")
    invoke(
        "weak-tag",
        ruler_model(tmp_path / "model"),
        unlabeled,
        "-o",
        weak,
        "--id-prefix",
        "eu-",
        "--no-progress",
    )
    result = invoke(
        "translate",
        weak,
        "-o",
        pairs,
        "--translator",
        "apertium",
        "--lang",
        "eu",
        "--translation-lang",
        "en",
        "--cache",
        tmp_path / "cache.sqlite",
        "--no-progress",
    )
    assert "1 of 4 sentences had no conjugate spans" in result.output
    found = load_pairs(pairs, spacy.blank("en").vocab)
    assert [target._.conjugate_id for target, _ in found] == ["eu-0", "eu-1", "eu-2"]
    for target, translation in found:
        target_spans, translated_spans = (
            get_conjugate_spans(target),
            get_conjugate_spans(translation),
        )
        assert set(translated_spans) == set(target_spans) and translated_spans
        assert {s.text for s in target_spans.values()} <= set(BASQUE_NAMES)
        # The placeholders were put back, and the sentence came out in English.
        assert "SPAN" not in translation.text
        assert not {"da", "du", "zen", "egin"} & {t.lower_ for t in translation}
    english = {t.lower_ for _, translation in found for t in translation}
    assert (
        len(english & {"the", "he", "has", "in", "to", "was", "were", "born", "today", "meeting"})
        >= 4
    )
    first = {k: s.text for k, s in get_conjugate_spans(found[0][1]).items()}
    assert "Mikel Laboa" in first.values() and any("Donostia" in text for text in first.values())
    # Case suffixes come back as English words around the name ("Gasteizen" ->
    # "in Vitoria"): they stay in the sentence, outside the conjugate span.
    conjugates = {
        target_span.text: get_conjugate_spans(translation)[key].text
        for target, translation in found
        for key, target_span in get_conjugate_spans(target).items()
    }
    for suffixed in ("Donostian", "Bilbora", "Gasteizen"):
        assert conjugates[suffixed].split()[0].lower() not in {"in", "to", "of", "the"}
    assert conjugates["Gasteizen"] == "Vitoria"
    assert "in Vitoria" in found[2][1].text
    summary = json.loads((tmp_path / "pairs_eu.summary.json").read_text())
    assert summary["model"] == "apertium/eu-en" and summary["pairs_kept"] == 3
    assert summary["span_edges_trimmed"] >= 3
