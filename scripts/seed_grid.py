"""Train and evaluate several systems over several seeds, resumably.

One ``spacy train`` per (system, seed), in its own process, then
``scripts/evaluate.py`` on the test sets. Systems come from ``--system
NAME=PAIRS`` or from a grid file (``--grid``, YAML): one entry per system,
mapping spaCy config overrides to values, e.g.::

    conner-learned:
      paths.pairs: corpus/pairs/google
      components.conner.transitions: learned

An entry with ``paths.pairs`` is ConNER, one without is vanilla (alpha =
beta = 0 unless the entry sets them). A finished (system, seed) has a
report at ``REPORTS_DIR/SYSTEM-seedN.json`` and is never redone, so a grid
that was interrupted picks up where it stopped; a trained model without a
report is only evaluated. A model whose saved config differs from what the
config and overrides give today (e.g. a setting of ``conner.cfg`` changed
since) is trained again, and its report with it; a report older than its
model is made again. With ``--reuse DIR``, an existing report of the same
system whose recorded protocol (seed, steps, alpha, beta, data, pairs,
encoder) matches is copied instead of training again, e.g. the seed that
``spacy project run all`` already trained.

Runs go seed by seed, so an interrupted grid has complete seeds first.
``--only NAME`` (repeatable) runs a subset of the systems, e.g. more seeds
of the two entries of a grid that matter. The
``spacy train`` command of each run comes from ``training_command.py``, as
for the single runs of ``scripts/train.py``.
"""
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Dict, List, Optional

import srsly
import typer

from evaluate import parse_test_sets
from training_command import System, changed_settings, config_overrides, read_grid, run_overrides, train_command, unique

SCRIPTS = Path(__file__).parent
TRAINED_MARKER = "trained.json"


def parse_systems(specs: List[str]) -> List[System]:
    """``NAME=PAIRS`` (ConNER on those pairs) or ``NAME=`` (vanilla)."""
    systems = []
    for spec in specs:
        name, sep, pairs = spec.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"Expected NAME=PAIRS or NAME=, got {spec!r}")
        systems.append(System(name, pairs or None))
    return unique(systems)


def expected_protocol(settings: Dict, seed: int, system: System) -> Dict:
    """The protocol fields that ``evaluate.training_protocol`` will record."""
    overrides = config_overrides(settings, seed, system)
    conner = system.pairs is not None
    return {
        "seed": seed,
        "max_steps": overrides["training.max_steps"],
        "alpha": float(overrides["consistency.alpha"]),
        "beta": float(overrides["consistency.beta"]),
        "train": settings["train"],
        "dev": settings["dev"],
        "pairs": system.pairs,
        "encoder": settings["encoder"],
        # Only ConNER draws pairs, so the batch size of pairs only binds it.
        **({"pairs_per_batch": overrides["training.batcher.pairs_per_batch"]} if conner else {}),
    }


def find_reusable(
    reuse_dir: Optional[Path], system: str, protocol: Dict, tests: List[str], overrides: Optional[Dict] = None
) -> Optional[Path]:
    """A report under ``reuse_dir`` of ``system`` trained with ``protocol`` (and
    the same extra ``overrides``) on all ``tests``."""
    if reuse_dir is None or not reuse_dir.is_dir():
        return None
    for path in sorted(reuse_dir.glob("*.json")):
        try:
            report = srsly.read_json(path)
        except ValueError:
            continue
        recorded = report.get("protocol", {}) if isinstance(report, dict) else {}
        if (
            report.get("system") == system
            and all(recorded.get(k) == v for k, v in protocol.items())
            and report.get("overrides", {}) == (overrides or {})
            and all(t in report.get("results", {}) for t in tests)
        ):
            return path
    return None


def run_one(
    label: str, config: Path, settings: Dict, seed: int, sys_: System, test: List[str], test_names: List[str],
    reuse: Optional[Path], diagnostic_pairs: Optional[Path], training_dir: Path, reports_dir: Path,
    log_to_file: bool, eta: str = "",
) -> bool:
    """Train (unless trained before) and evaluate one (system, seed); returns
    whether it did any work. With ``log_to_file`` the training's console
    output goes to ``train.log`` in its folder (parallel runs)."""
    report_path = reports_dir / f"{sys_.name}-seed{seed}.json"
    output = training_dir / f"{sys_.name}-seed{seed}"
    done_marker = output / TRAINED_MARKER
    trained_config = output / "model-best" / "config.cfg"
    if done_marker.exists():
        # A model (and its report) from an older config is not this run,
        # and a report from before its model was trained is not its report.
        changed = (changed_settings(config, run_overrides(output, settings, seed, sys_), trained_config)
                   if trained_config.exists() else {})
        if changed:
            was = ", ".join(f"{key} {then!r} (now {now!r})" for key, (now, then) in changed.items())
            print(f"{label}: {output} was trained with {was}; training again", flush=True)
            shutil.rmtree(output)
            report_path.unlink(missing_ok=True)
        elif report_path.exists() and report_path.stat().st_mtime < done_marker.stat().st_mtime:
            print(f"{label}: {report_path} is older than its model; evaluating again", flush=True)
            report_path.unlink()
    if report_path.exists():
        print(f"{label}: done before ({report_path})", flush=True)
        return False
    reusable = find_reusable(reuse, sys_.name, expected_protocol(settings, seed, sys_), test_names, sys_.overrides)
    if reusable is not None:
        shutil.copy2(reusable, report_path)
        print(f"{label}: same protocol already evaluated in {reusable}, copied", flush=True)
        return False
    if done_marker.exists():
        train_seconds = srsly.read_json(done_marker).get("train_seconds")
    else:
        # spaCy writes model-best/model-last at every evaluation, so only
        # the marker says that training ran to its end; else start over.
        if output.exists():
            shutil.rmtree(output)
        print(f"{label}: training -> {output}{eta}", flush=True)
        start = time.perf_counter()
        _run(train_command(config, output, settings, seed, sys_), output / "train.log" if log_to_file else None)
        train_seconds = round(time.perf_counter() - start, 1)
        srsly.write_json(done_marker, {"train_seconds": train_seconds})
    print(f"{label}: evaluating", flush=True)
    partial = report_path.with_suffix(".partial")
    _run(
        [sys.executable, str(SCRIPTS / "evaluate.py"), str(output / "model-best"), *test,
         "--system", sys_.name, "--output", str(partial), "--gpu-id", str(settings["gpu_id"]),
         *(["--pairs", str(diagnostic_pairs)] if diagnostic_pairs else [])],
        output / "evaluate.log" if log_to_file else None,
    )
    report = srsly.read_json(partial)
    report["train_seconds"] = train_seconds
    report["overrides"] = sys_.overrides
    srsly.write_json(partial, report)
    partial.replace(report_path)  # the report appears only once it is complete
    scores = ", ".join(f"{k} {100 * v['f']:.2f}" for k, v in report["results"].items())
    print(f"{label}: {scores}", flush=True)
    return True


def _run(cmd: List[str], log: Optional[Path]) -> None:
    """Run ``cmd``; its output goes to ``log`` when given (else the console)."""
    if log is None:
        subprocess.run(cmd, check=True)
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf8") as file_:
        if subprocess.run(cmd, stdout=file_, stderr=subprocess.STDOUT).returncode != 0:
            raise RuntimeError(f"{cmd[2] if cmd[1] == '-m' else Path(cmd[1]).name} failed; see {log}")


def main(
    config: Path = typer.Argument(..., exists=True, dir_okay=False),
    seeds: str = typer.Option("0,1,2", help="Comma-separated training seeds"),
    system: List[str] = typer.Option([], help="NAME=PAIRS for ConNER, NAME= for vanilla; repeatable"),
    grid: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="YAML grid file: NAME -> config overrides"),
    only: List[str] = typer.Option([], help="Run only these systems (repeatable), e.g. more seeds of two grid entries"),
    test: List[str] = typer.Option(..., help="NAME=PATH.spacy test set; repeatable"),
    train: str = typer.Option(..., help="Labeled training DocBin"),
    dev: str = typer.Option(..., help="Dev DocBin for model selection"),
    encoder: str = typer.Option("encoders/e5-small"),
    max_steps: int = typer.Option(300),
    eval_frequency: int = typer.Option(100),
    pairs_per_batch: int = typer.Option(4),
    alpha: float = typer.Option(0.5),
    beta: float = typer.Option(0.5),
    gpu_id: int = typer.Option(-1),
    workers: int = typer.Option(1, min=1, help="Runs at a time; >1 fills a large GPU with a small encoder's runs"),
    reuse: Optional[Path] = typer.Option(None, help="Directory of reports that may already hold a (system, seed)"),
    diagnostic_pairs: Optional[Path] = typer.Option(None, help="Pairs whose span distributions every report summarises"),
    training_dir: Path = typer.Option(Path("training/seeds")),
    reports_dir: Path = typer.Option(Path("reports/seeds")),
) -> None:
    """Train and evaluate each (system, seed) that has no report yet."""
    systems = parse_systems(system) + (read_grid(grid) if grid else [])
    if not systems:
        raise typer.BadParameter("give --system or --grid")
    unique(systems)
    if only:
        unknown = sorted(set(only) - {s.name for s in systems})
        if unknown:
            raise typer.BadParameter(f"--only: no system named {', '.join(unknown)}; have {', '.join(s.name for s in systems)}")
        systems = [s for s in systems if s.name in only]
    seed_list = [int(s) for s in seeds.replace(" ", ",").split(",") if s]
    settings = dict(train=train, dev=dev, encoder=encoder, max_steps=max_steps, eval_frequency=eval_frequency,
                    pairs_per_batch=pairs_per_batch, alpha=alpha, beta=beta, gpu_id=gpu_id)
    test_names = [name for name, _ in parse_test_sets(test)]
    reports_dir.mkdir(parents=True, exist_ok=True)
    runs = [(seed, s) for seed in seed_list for s in systems]
    args = dict(config=config, settings=settings, test=test, test_names=test_names, reuse=reuse,
                diagnostic_pairs=diagnostic_pairs, training_dir=training_dir, reports_dir=reports_dir)
    if workers == 1:
        durations: List[float] = []
        for i, (seed, sys_) in enumerate(runs, 1):
            remaining = len(runs) - i + 1
            eta = f", ~{remaining * sum(durations) / len(durations) / 60:.0f} min for the {remaining} left" if durations else ""
            start = time.perf_counter()
            if run_one(f"[{i}/{len(runs)}] {sys_.name} seed {seed}", seed=seed, sys_=sys_, log_to_file=False, eta=eta, **args):
                durations.append(time.perf_counter() - start)
    else:
        # Each run is its own process, so threads only wait; runs start in
        # seed order, and one failure does not stop the others.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(run_one, f"[{i}/{len(runs)}] {sys_.name} seed {seed}", seed=seed, sys_=sys_,
                            log_to_file=True, **args): (seed, sys_.name)
                for i, (seed, sys_) in enumerate(runs, 1)
            }
            failed = [(futures[f], f.exception()) for f in as_completed(futures) if f.exception() is not None]
        for (seed, name), error in failed:
            print(f"{name} seed {seed} failed: {error}", file=sys.stderr, flush=True)
        if failed:
            raise SystemExit(1)
    print(json.dumps({"reports": str(reports_dir), "runs": len(runs)}))


if __name__ == "__main__":
    typer.run(main)
