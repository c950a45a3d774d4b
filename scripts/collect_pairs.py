"""Pool conjugate-pair DocBins into one directory for the pairs reader.

The reader (``conner.ConjugatePairs.v1``) takes a file or a directory; a
directory pools every ``.spacy`` file under it, with pair ids scoped per
file. This step copies the chosen files in, e.g. German and Dutch from the
released Google translations and Spanish from our own apertium chain. The
folder is built aside and swapped in once complete; an input inside it is
refused (it would be deleted with the old folder).
"""
import shutil
from pathlib import Path
from typing import List

import typer

from conner.outputs import atomic_output_dir, refuse_overwriting_inputs


def collect_pairs(output_dir: Path, files: List[Path]) -> List[Path]:
    """Copy ``files`` into a fresh ``output_dir``; returns the copies."""
    names = [f.name for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two inputs share a file name: {', '.join(duplicates)}")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"missing pair files: {', '.join(missing)}")
    refuse_overwriting_inputs([output_dir], files)
    # A fresh folder: a stale file left in the old one would be pooled too.
    with atomic_output_dir(output_dir) as temporary:
        for f in files:
            shutil.copy2(f, temporary / f.name)
    return [output_dir / f.name for f in files]


def main(
    output_dir: Path = typer.Argument(..., file_okay=False, help="Directory to (re)create"),
    files: List[Path] = typer.Argument(..., help="Conjugate-pair .spacy files to pool"),
) -> None:
    try:
        copies = collect_pairs(output_dir, files)
    except (ValueError, FileNotFoundError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1)
    print(f"{output_dir}: {', '.join(c.name for c in copies)}")


if __name__ == "__main__":
    typer.run(main)
