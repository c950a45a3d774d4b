"""The ``conner`` command: one typer app, one module per command.

Each module of this package registers its command on :data:`app` (or on
:data:`bench_app`, the ``conner bench`` group) when imported, as spaCy's own
CLI does; ``conner.cli`` imports them all.
"""

import typer

HELP = """ConNER for spaCy: prepare data, train, evaluate and tag with the conner pipe.

Every command takes its inputs as positional arguments first, its main output
as --output/-o, test sets as repeatable --test NAME=PATH, the language of the
documents as --lang, words per nlp.pipe batch as --batch-size and the GPU
as --gpu-id (-1: the CPU)."""

app = typer.Typer(name="conner", help=HELP, add_completion=False, no_args_is_help=True)
bench_app = typer.Typer(
    name="bench",
    help="Time and measure pipelines, training steps and translation.",
    add_completion=False,
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")
