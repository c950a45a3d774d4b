"""``conner seed-grid``: train and evaluate several systems over several seeds, resumably.

The planning and running live in :mod:`conner.runs.seed_grid`; see its
docstring for how runs are resumed, reused and retrained.

    conner seed-grid configs/conner.cfg --seeds 0,1,2 --grid configs/grid_dev.yml \\
        --train corpus/en_train.spacy --dev corpus/en_dev_sample.spacy --test es_dev=corpus/es_dev.spacy
"""

import json
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..runs.seed_grid import GridPlan, parse_systems, print_estimate, run_grid
from ..runs.training_command import read_grid, unique, with_epoch_schedule
from .app import app
from .options import gpu_id_option, parse_test_sets, test_option


@app.command("seed-grid")
def seed_grid_cli(
    config: Path = typer.Argument(..., exists=True, dir_okay=False),
    seeds: str = typer.Option("0,1,2", help="Comma-separated training seeds"),
    system: List[str] = typer.Option(
        [], help="NAME=PAIRS for ConNER, NAME= for vanilla; repeatable"
    ),
    grid: Optional[Path] = typer.Option(
        None, exists=True, dir_okay=False, help="YAML grid file: NAME -> config overrides"
    ),
    only: List[str] = typer.Option(
        [], help="Run only these systems (repeatable), e.g. more seeds of two grid entries"
    ),
    test: List[str] = test_option(),
    train: str = typer.Option(..., help="Labeled training DocBin"),
    dev: str = typer.Option(..., help="Dev DocBin for model selection"),
    encoder: str = typer.Option("encoders/e5-small"),
    max_steps: int = typer.Option(300, min=1),
    eval_frequency: int = typer.Option(100, min=1),
    epochs: Annotated[
        Optional[float],
        typer.Option(
            min=0,
            help="Train this many passes over --train instead of --max-steps, evaluating --evaluations times",
        ),
    ] = None,
    evaluations: Annotated[
        int,
        typer.Option(min=1, help="With --epochs: checkpoints scored on --dev for model selection"),
    ] = 10,
    pairs_per_batch: int = typer.Option(4),
    alpha: float = typer.Option(0.5),
    beta: float = typer.Option(0.5),
    gpu_id: int = gpu_id_option(),
    workers: int = typer.Option(
        1, min=1, help="Runs at a time; >1 fills a large GPU with a small encoder's runs"
    ),
    reuse: Optional[Path] = typer.Option(
        None, help="Directory of reports that may already hold a (system, seed)"
    ),
    diagnostic_pairs: Optional[Path] = typer.Option(
        None, help="Pairs whose span distributions every report summarises"
    ),
    training_dir: Path = typer.Option(Path("training/seeds")),
    reports_dir: Path = typer.Option(Path("reports/seeds")),
    timing_from: Annotated[
        Optional[List[Path]],
        typer.Option(
            help="Report folders of earlier runs whose measured step times estimate this grid's time (besides --reports-dir)"
        ),
    ] = None,
    estimate_only: Annotated[
        bool, typer.Option("--estimate-only", help="Print the estimated time and stop")
    ] = False,
) -> None:
    """Train and evaluate each (system, seed) that has no report yet."""
    systems = parse_systems(system) + (read_grid(grid) if grid else [])
    if not systems:
        raise typer.BadParameter("give --system or --grid")
    unique(systems)
    if only:
        unknown = sorted(set(only) - {s.name for s in systems})
        if unknown:
            raise typer.BadParameter(
                f"--only: no system named {', '.join(unknown)}; have {', '.join(s.name for s in systems)}"
            )
        systems = [s for s in systems if s.name in only]
    seed_list = [int(s) for s in seeds.replace(" ", ",").split(",") if s]
    settings = dict(
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
    settings = with_epoch_schedule(config, settings, epochs, evaluations, verbose=True)
    test_names = [name for name, _ in parse_test_sets(test)]
    runs = [(seed, s) for seed in seed_list for s in systems]
    print_estimate(runs, settings, test_names, reports_dir, timing_from or [], reuse)
    if estimate_only:
        return
    plan = GridPlan(
        config, settings, list(test), test_names, reuse, diagnostic_pairs, training_dir, reports_dir
    )
    run_grid(plan, runs, workers)
    print(json.dumps({"reports": str(reports_dir), "runs": len(runs)}))
