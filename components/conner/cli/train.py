"""Train one system with ``spacy train``: the single runs of project.yml.

    conner train SYSTEM [--pairs PATH] [-o DIR] PROTOCOL --seed N

SYSTEM names the run (its output is ``training/SYSTEM`` unless ``--output``
says otherwise) and, where ``configs/systems.yml`` has an entry of that
name, its config overrides (the built-in ``ner`` baseline); ``--pairs``
trains ConNER on those conjugate pairs. A system without pairs trains
vanilla (alpha = beta = 0). PROTOCOL is the shared settings, the same
options as ``conner seed-grid`` takes (project.yml keeps each profile
in one variable, e.g. ``${vars.cpu_protocol}``); a setting not given keeps
``configs/conner.cfg``'s value. Further ``--section.key value`` options are
config overrides that win over everything else, as in ``spacy train``.

The command is built by :mod:`conner.runs.training_command`, as for the grids;
``--dry-run`` prints it (JSON) instead of running it. Options are checked
first: negative weights, counts or seeds, and ``--alpha``/``--beta`` for a
system that trains vanilla (where they would have no effect), stop with one
line naming the option.
"""

import json
import math
import shlex
import subprocess
from pathlib import Path
from typing import List, Optional

import click
import typer
from spacy.vocab import Vocab
from weasel.util import (
    parse_config_overrides,  # spaCy's own parser, public in weasel (spacy.cli's copy is private)
)

from ..consistency.pairs import load_pairs
from ..runs.training_command import (
    System,
    read_grid,
    train_command,
    with_epoch_schedule,
)
from .app import app
from .options import gpu_id_option, output_option

SYSTEMS = Path("configs/systems.yml")


def finite(value: Optional[float]) -> Optional[float]:
    """An option callback: a float option must be a number (not nan or inf)."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"must be a finite number, got {value}")
    return value


def find_system(name: str, pairs: Optional[str], systems_file: Path) -> System:
    """SYSTEM's entry in the systems file, on ``pairs`` where given; a name
    without an entry is ConNER on ``pairs`` and needs them."""
    known = (
        {system.name: system for system in read_grid(systems_file)} if systems_file.exists() else {}
    )
    if name in known:
        system = known[name]
        return system._replace(pairs=pairs) if pairs else system
    if not pairs:
        raise typer.BadParameter(
            f"{name!r} has no entry in {systems_file} ({', '.join(known) or 'none'}): add one, or give --pairs"
        )
    return System(name, pairs)


def build_command(
    system: str,
    pairs: Optional[str] = None,
    output: Optional[Path] = None,
    config: Path = Path("configs/conner.cfg"),
    systems: Path = SYSTEMS,
    seed: Optional[int] = None,
    extra: Optional[List[str]] = None,
    epochs: Optional[float] = None,
    **settings,
) -> List[str]:
    """The ``spacy train`` command of ``conner train``'s arguments; with
    ``epochs``, the steps and evaluation frequency come from the size of
    ``settings["train"]``."""
    if epochs is not None:
        if not settings.get("train"):
            raise typer.BadParameter("--epochs needs --train, the DocBin whose sentences it counts")
        settings = with_epoch_schedule(config, settings, epochs)
    found = find_system(system, pairs, systems)
    for option, value in (("--alpha", settings.get("alpha")), ("--beta", settings.get("beta"))):
        if value is not None and found.pairs is None:
            raise typer.BadParameter(
                f"{system!r} trains vanilla (no pairs), where alpha = beta = 0: give --pairs to train "
                f"ConNER, or leave out {option}",
                param_hint=f"'{option}'",
            )
    try:
        overrides = parse_config_overrides(list(extra or []), env_var=None)
    except (
        click.ClickException
    ) as err:  # spaCy raises click's NoSuchOption, which typer's own click does not catch
        raise typer.BadParameter(err.format_message(), param_hint="config overrides") from None
    if overrides:
        found = found._replace(overrides={**found.overrides, **overrides})
    return train_command(config, output or Path("training") / system, settings, seed, found)


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_cli(
    ctx: typer.Context,
    system: str = typer.Argument(
        ..., help="Name of the run; its overrides are its entry in --systems, if any"
    ),
    pairs: Optional[str] = typer.Option(
        None, help="Conjugate pairs (file or folder): ConNER; none: vanilla"
    ),
    output: Optional[Path] = output_option(
        "Output folder (default: training/SYSTEM)", default=None, file_okay=False
    ),
    config: Path = typer.Option(Path("configs/conner.cfg"), exists=True, dir_okay=False),
    systems: Path = typer.Option(SYSTEMS, help="YAML file of systems: NAME -> config overrides"),
    train: Optional[str] = typer.Option(None, help="Labeled training DocBin"),
    dev: Optional[str] = typer.Option(None, help="Dev DocBin for model selection"),
    encoder: Optional[str] = typer.Option(None, help="Encoder folder or Hugging Face name"),
    max_steps: Optional[int] = typer.Option(None, min=1),
    eval_frequency: Optional[int] = typer.Option(None, min=1),
    epochs: Optional[float] = typer.Option(
        None,
        min=0,
        callback=finite,
        help="Passes over --train (steps and ten evaluations follow from its size) instead of --max-steps",
    ),
    pairs_per_batch: Optional[int] = typer.Option(
        None, min=0, help="Conjugate pairs per labeled batch"
    ),
    alpha: Optional[float] = typer.Option(
        None, min=0.0, callback=finite, help="ConNER's dropout-consistency weight (needs pairs)"
    ),
    beta: Optional[float] = typer.Option(
        None, min=0.0, callback=finite, help="ConNER's translation-consistency weight (needs pairs)"
    ),
    seed: Optional[int] = typer.Option(None, min=0, help="Training seed (system.seed)"),
    gpu_id: Optional[int] = gpu_id_option(default=None),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the command (JSON) instead of running it"
    ),
) -> None:
    """Train SYSTEM with spacy train and the project's shared overrides.

    Further --section.key value options are config overrides that win over all others.
    """
    cmd = build_command(
        system,
        pairs,
        output,
        config,
        systems,
        seed,
        ctx.args,
        epochs,
        train=train,
        dev=dev,
        encoder=encoder,
        max_steps=max_steps,
        eval_frequency=eval_frequency,
        pairs_per_batch=pairs_per_batch,
        alpha=alpha,
        beta=beta,
        gpu_id=gpu_id,
    )
    if dry_run:
        print(json.dumps(cmd))
        return
    if pairs:
        check_pairs(Path(pairs))
    print(shlex.join(["python", *cmd[1:]]), flush=True)
    raise typer.Exit(subprocess.run(cmd).returncode)


def check_pairs(path: Path) -> None:
    """Read the pairs once before training, so that a broken pair stops the
    run with one line naming its file and id instead of a traceback from
    inside spaCy's training loop (reading costs seconds, training minutes)."""
    if not path.exists():
        raise typer.BadParameter(
            f"{path}: no such file or folder of conjugate pairs", param_hint="'--pairs'"
        )
    try:
        load_pairs(path, Vocab())
    except ValueError as error:  # PairError, or a file that is not a DocBin
        raise typer.BadParameter(str(error), param_hint="'--pairs'") from None
