"""Pool conjugate-pair DocBins into one directory for the pairs reader.

The reader (``conner.ConjugatePairs.v1``) takes a file or a directory; a
directory pools every ``.spacy`` file under it, with pair ids scoped per
file. This step copies the chosen files in, e.g. German and Dutch from the
released Google translations and Spanish from our own apertium chain.
"""
import shutil
from pathlib import Path
from typing import List

import typer


def collect_pairs(output_dir: Path, files: List[Path]) -> List[Path]:
    """Copy ``files`` into a fresh ``output_dir``; returns the copies."""
    names = [f.name for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two inputs share a file name: {', '.join(duplicates)}")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"missing pair files: {', '.join(missing)}")
    if output_dir.exists():
        shutil.rmtree(output_dir)  # a stale file left in the folder would be pooled too
    output_dir.mkdir(parents=True)
    return [Path(shutil.copy2(f, output_dir / f.name)) for f in files]


def main(
    output_dir: Path = typer.Argument(..., file_okay=False, help="Directory to (re)create"),
    files: List[Path] = typer.Argument(..., help="Conjugate-pair .spacy files to pool"),
) -> None:
    copies = collect_pairs(output_dir, files)
    print(f"{output_dir}: {', '.join(c.name for c in copies)}")


if __name__ == "__main__":
    typer.run(main)
