"""Check a wheel built by ``spacy package``: it requires the component package,
installs, and its pipeline loads by name in a fresh process and tags a German,
a Spanish and a Dutch sentence.

    conner package-check packages/xx_conner_xx-0.1.0
"""

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import typer

from .app import app

REQUIRED = "conner-spacy"
# One sentence in each target language of the CoNLL data, each with entities
# of several types that any pipeline this project ships finds.
PROBE_SENTENCES = {
    "de": "Angela Merkel besuchte am Montag die Firma Siemens in München .",
    "es": "El presidente del Real Madrid , Florentino Pérez , viajó a Barcelona .",
    "nl": "Mark Rutte sprak dinsdag in Amsterdam met de directie van Philips .",
}
# Runs in a fresh interpreter that sees only the installed wheel: argv is the
# package name, the sentences as JSON and the entities each must get.
PROBE = """
import json, sys
import spacy
from spacy import displacy
nlp = spacy.load(sys.argv[1])
if nlp.pipe_names != ["transformer", "conner"]:
    sys.exit(f"pipeline {nlp.pipe_names}, expected ['transformer', 'conner']")
sentences, min_entities = json.loads(sys.argv[2]), int(sys.argv[3])
for lang, doc in zip(sentences, nlp.pipe(sentences.values())):
    entities = [(e.text, e.label_) for e in doc.ents]
    print(f"{lang}: {entities}")
    if len(entities) < min_entities:
        sys.exit(f"{lang}: {len(entities)} entities in {doc.text!r}, expected {min_entities} or more")
    if "<div" not in displacy.render(doc, style="ent"):
        sys.exit(f"{lang}: displaCy rendered no HTML")
"""


def find_wheel(package_dir: Path) -> Path:
    wheels = sorted(package_dir.glob("dist/*.whl"))
    if not wheels:
        raise typer.BadParameter(
            f"No wheel under {package_dir / 'dist'}: run spacy package --build wheel"
        )
    return wheels[-1]


def requirements(wheel: Path) -> list:
    """The wheel's Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode("utf8").splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]


@app.command("package-check")
def package_check_cli(
    package_dir: Path = typer.Argument(..., exists=True, file_okay=False),
    min_entities: int = typer.Option(
        1, "--min-entities", min=0, help="Entities each probe sentence must get (0: only tag)"
    ),
) -> None:
    """Check a spacy package wheel: it requires conner-spacy, installs, loads by
    name and tags a German, a Spanish and a Dutch sentence."""
    wheel = find_wheel(package_dir)
    required = requirements(wheel)
    print(f"{wheel.name} requires: {', '.join(required)}")
    if not any(r.startswith(REQUIRED) for r in required):
        raise SystemExit(
            f"{wheel.name} does not require {REQUIRED}: spacy.load would fail without it"
        )
    package_name = wheel.name.split("-")[0]
    with tempfile.TemporaryDirectory() as target:
        # --no-deps: the requirements are already installed here; what is
        # checked is that the wheel itself installs and loads by name.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                target,
                str(wheel),
            ],
            check=True,
        )
        env = {**os.environ, "PYTHONPATH": target}
        probe = [sys.executable, "-c", PROBE, package_name, json.dumps(PROBE_SENTENCES)]
        if subprocess.run([*probe, str(min_entities)], env=env).returncode != 0:
            raise SystemExit(f"{package_name} from {wheel.name} failed the check above")
    languages = ", ".join(PROBE_SENTENCES)
    print(
        f"OK: {package_name} installs, loads with spacy.load, tags {languages} and renders with displaCy"
    )
