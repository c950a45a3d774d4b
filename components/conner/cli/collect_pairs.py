"""Pool conjugate-pair DocBins into one directory for the pairs reader.

The reader (``conner.ConjugatePairs.v1``) takes a file or a directory; a
directory pools every ``.spacy`` file under it, with pair ids scoped per
file. This step copies the chosen files in, e.g. German and Dutch from the
released Google translations and Spanish from our own apertium chain. The
folder is built aside and swapped in once complete; an input inside it is
refused (it would be deleted with the old folder).

Each input is read and validated first, as training will read it
(``conner.consistency.pairs.read_pair_file``): a file that is not a DocBin of conjugate
pairs, holds none, or holds a broken pair (a span outside its sentence,
empty or overlapping; sides with different ids or roles) stops the run with
one line naming the file and pair id, and nothing is written. Pairs whose
sides share no span key are counted in a warning (the reader drops them).
"""

import shutil
from pathlib import Path
from typing import Dict, List

import typer
from spacy.vocab import Vocab

from ..consistency.pairs import PairError, read_pair_file
from ..files.outputs import atomic_output_dir, refuse_overwriting_inputs
from .app import app
from .options import output_option


def count_pairs(files: List[Path]) -> Dict[Path, int]:
    """The number of usable pairs in each file; :class:`PairError` (or a
    ``DocBinError``) naming the file at the first one that is not a pair DocBin."""
    counts = {}
    for file in files:
        pairs, unshared = read_pair_file(file, Vocab())
        if unshared:
            typer.echo(
                f"Warning: {file}: {unshared} of {len(pairs) + unshared} pairs share no span key "
                "between their sides; the reader drops them",
                err=True,
            )
        if not pairs:
            raise PairError(f"{file}: holds no pair whose sides share a span key")
        counts[file] = len(pairs)
    return counts


def collect_pairs(output_dir: Path, files: List[Path]) -> Dict[Path, int]:
    """Copy ``files`` into a fresh ``output_dir``; returns each copy's number of pairs."""
    names = [f.name for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two inputs share a file name: {', '.join(duplicates)}")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"missing pair files: {', '.join(missing)}")
    refuse_overwriting_inputs([output_dir], files)
    counts = count_pairs(files)
    # A fresh folder: a stale file left in the old one would be pooled too.
    with atomic_output_dir(output_dir) as temporary:
        for f in files:
            shutil.copy2(f, temporary / f.name)
    return {output_dir / f.name: counts[f] for f in files}


@app.command("collect-pairs")
def collect_pairs_cli(
    files: List[Path] = typer.Argument(
        ..., help="Conjugate-pair .spacy files to pool (validated first)"
    ),
    output_dir: Path = output_option("Directory to (re)create", file_okay=False),
) -> None:
    """Pool conjugate-pair DocBins into one folder for the pairs reader."""
    try:
        copies = collect_pairs(output_dir, files)
    except (ValueError, FileNotFoundError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    print(f"{output_dir}: {', '.join(f'{c.name} ({n} pairs)' for c, n in copies.items())}")
