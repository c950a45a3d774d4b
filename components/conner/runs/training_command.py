"""The ``spacy train`` command of one training run, built in one place.

``conner train`` (the single runs of project.yml) and
``conner seed-grid`` (the grids) both train through
:func:`train_command`, so every run gets its overrides of
``configs/conner.cfg`` the same way:

1. the shared settings of the protocol (``--train``, ``--dev``,
   ``--encoder``, ``--max-steps``, ...; a setting left ``None`` is not
   overridden, so the config's value stands);
2. vanilla or ConNER: a system without pairs trains with alpha = beta = 0,
   one with pairs gets ``paths.pairs`` (and the shared alpha and beta);
3. the system's own overrides, which win.

Systems are ``NAME -> {config.key: value}`` entries of a YAML file (the
``--grid`` files of ``conner seed-grid``, ``configs/systems.yml``), e.g.::

    conner-learned:
      paths.pairs: corpus/pairs/google
      components.conner.transitions: learned
"""

import json
import math
import sys
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import srsly
import typer
from spacy.tokens import DocBin
from spacy.util import dict_to_dot, load_config


class System(NamedTuple):
    """A system of the grid: its name, its pairs (None: vanilla) and any
    further config overrides (dotted spaCy config keys)."""

    name: str
    pairs: Optional[str]
    overrides: Dict[str, Any] = {}


def read_grid(path: Path) -> List[System]:
    """The systems of a grid file: ``NAME: {config.key: value, ...}``."""
    entries = srsly.read_yaml(path)
    if not isinstance(entries, dict) or not entries:
        raise typer.BadParameter(f"{path}: expected a mapping of system names to config overrides")
    systems = []
    for name, overrides in entries.items():
        overrides = dict(overrides or {})
        if any(key.startswith("--") for key in overrides):
            raise typer.BadParameter(f"{path}: {name}: write config keys without '--'")
        pairs = overrides.pop("paths.pairs", None)
        systems.append(System(str(name), pairs, overrides))
    return unique(systems)


def unique(systems: List[System]) -> List[System]:
    if len({s.name for s in systems}) != len(systems):
        raise typer.BadParameter("system names must differ")
    return systems


# The shared settings and the config keys they override, in command order.
SETTING_KEYS = {
    "train": "paths.train",
    "dev": "paths.dev",
    "encoder": "paths.encoder",
    "max_steps": "training.max_steps",
    "eval_frequency": "training.eval_frequency",
    "pairs_per_batch": "training.batcher.pairs_per_batch",
}


def config_overrides(settings: Dict, seed: Optional[int], system: System) -> Dict[str, Any]:
    """Every config override of one training run: the shared settings (those
    that are not None), then the system's own (which win)."""
    conner = system.pairs is not None
    overrides: Dict[str, Any] = {key: settings.get(name) for name, key in SETTING_KEYS.items()}
    overrides["system.seed"] = seed
    # Vanilla: no consistency terms, whatever the config says.
    overrides["consistency.alpha"] = settings.get("alpha") if conner else 0
    overrides["consistency.beta"] = settings.get("beta") if conner else 0
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if conner:
        overrides["paths.pairs"] = system.pairs
    overrides.update(system.overrides)
    return overrides


def override_value(value: Any) -> str:
    """A value as ``spacy train`` reads it: strings as they are, anything
    else as JSON (true, 2e-05, null, ["transformer","ner"])."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def run_overrides(
    output: Path, settings: Dict, seed: Optional[int], system: System
) -> Dict[str, Any]:
    """Every override of one run's ``spacy train``, in command order: where
    its loss log goes (its output folder), then :func:`config_overrides`."""
    return {
        "paths.loss_log": str(output / "losses.jsonl"),
        **config_overrides(settings, seed, system),
    }


def train_command(
    config: Path, output: Path, settings: Dict, seed: Optional[int], system: System
) -> List[str]:
    """The ``spacy train`` command line of one (system, seed); without
    ``settings["gpu_id"]`` spaCy's default (-1, the CPU) applies."""
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(output)]
    if settings.get("gpu_id") is not None:
        cmd += ["--gpu-id", str(settings["gpu_id"])]
    for key, value in run_overrides(output, settings, seed, system).items():
        cmd += [f"--{key}", override_value(value)]
    return cmd


def changed_settings(
    config: Path, overrides: Dict[str, Any], trained_config: Path
) -> Dict[str, Tuple[Any, Any]]:
    """The settings that ``config`` with ``overrides`` gives another value
    than a pipeline trained before (its saved ``config.cfg``) was trained
    with: ``{key: (now, then)}``. Only keys that both hold count, because a
    trained pipeline drops the blocks of components it does not run and
    holds the defaults spaCy filled in."""
    now = dict_to_dot(load_config(config, overrides=overrides, interpolate=True))
    then = dict_to_dot(load_config(trained_config, interpolate=True))
    return {
        key: (value, then[key]) for key, value in now.items() if key in then and then[key] != value
    }


def epoch_schedule(
    n_sentences: int, epochs: float, batch_size: int, evaluations: int = 10
) -> Tuple[int, int]:
    """Training steps and evaluation frequency of ``epochs`` passes over
    ``n_sentences`` labeled sentences in batches of ``batch_size``.

    steps = ceil(epochs * n_sentences / batch_size), and an evaluation every
    ``steps // evaluations`` steps, so that checkpoint selection on English
    dev sees ``evaluations`` checkpoints at every data size (spaCy evaluates
    at each multiple of the frequency).
    """
    if n_sentences < 1:
        raise ValueError(f"no training sentences to schedule ({n_sentences})")
    if epochs <= 0 or batch_size < 1 or evaluations < 1:
        raise ValueError(
            f"epochs ({epochs}), batch size ({batch_size}) and evaluations ({evaluations}) must be positive"
        )
    steps = math.ceil(epochs * n_sentences / batch_size)
    return steps, max(1, steps // evaluations)


def labeled_batch_size(config: Path) -> int:
    """The labeled sentences per step of ``config`` (its ``[training.batcher.labeled]`` size)."""
    batcher = load_config(config, interpolate=False)["training"]["batcher"]
    size = batcher.get("labeled", batcher).get("size")
    if not isinstance(size, int):
        raise typer.BadParameter(
            f"{config}: [training.batcher.labeled] has no integer size to count epochs with"
        )
    return size


def with_epoch_schedule(
    config: Path,
    settings: Dict,
    epochs: Optional[float],
    evaluations: int = 10,
    verbose: bool = False,
) -> Dict:
    """``settings`` with ``max_steps`` and ``eval_frequency`` from ``epochs``
    over the training DocBin (``settings["train"]``); unchanged without
    epochs. ``verbose`` prints the schedule."""
    if epochs is None:
        return settings
    if epochs <= 0:
        raise typer.BadParameter(f"--epochs must be above 0, got {epochs:g}")
    train = Path(settings["train"])
    if not train.exists():
        raise typer.BadParameter(f"{train}: no such training DocBin to count epochs over")
    n_sentences = len(DocBin().from_disk(train))
    batch_size = labeled_batch_size(config)
    steps, frequency = epoch_schedule(n_sentences, epochs, batch_size, evaluations)
    if verbose:
        print(
            f"{epochs:g} epoch{'' if epochs == 1 else 's'} of {n_sentences} sentences ({train}), {batch_size} a step: "
            f"{steps} steps, an evaluation every {frequency}",
            flush=True,
        )
    return {**settings, "max_steps": steps, "eval_frequency": frequency}
