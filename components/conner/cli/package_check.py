"""Check a wheel built by ``spacy package``: it requires the component package,
installs, and its pipeline loads and tags in a fresh process.

    conner package-check packages/xx_conner_xx-0.1.0
"""

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import typer

from .app import app

REQUIRED = "conner-spacy"
PROBE = """
import spacy, sys
from spacy import displacy
nlp = spacy.load(sys.argv[1])
doc = nlp("Angela Merkel besuchte am Montag die Firma Siemens in München .")
print("entities:", [(e.text, e.label_) for e in doc.ents])
assert nlp.pipe_names == ["transformer", "conner"], nlp.pipe_names
assert "<div" in displacy.render(doc, style="ent")
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
) -> None:
    """Check a spacy package wheel: it requires conner-spacy, installs, loads and tags."""
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
        subprocess.run([sys.executable, "-c", PROBE, package_name], check=True, env=env)
    print(f"OK: {package_name} installs, loads with spacy.load and renders with displaCy")
