"""Train and evaluate several systems over several seeds, resumably.

One ``spacy train`` per (system, seed), in its own process, then
``conner evaluate`` on the test sets (``conner seed-grid`` is the command). Systems come from ``--system
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
current config and overrides give (e.g. a setting of ``conner.cfg`` changed
after it was trained) is trained again, and its report with it; a report older than its
model is made again. With ``--reuse DIR``, an existing report of the same
system whose recorded protocol (seed, steps, alpha, beta, data, pairs,
encoder) matches is copied instead of training again, e.g. the seed that
``spacy project run all`` already trained.

Runs go seed by seed, so an interrupted grid has complete seeds first.
``--only NAME`` (repeatable) runs a subset of the systems, e.g. more seeds
of the two entries of a grid that matter. The
``spacy train`` command of each run comes from :mod:`.training_command`, as
for the single runs of ``conner train``.
"""

import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

import srsly
import typer

from .training_command import (
    System,
    changed_settings,
    config_overrides,
    run_overrides,
    train_command,
    unique,
)

TRAINED_MARKER = "trained.json"


class GridPlan(NamedTuple):
    """What every run of a grid shares: the config and protocol settings, the
    test sets (``NAME=PATH`` specs and their names), where reports may be
    reused from, the pairs every report summarises, and the output folders."""

    config: Path
    settings: Dict
    tests: List[str]
    test_names: List[str]
    reuse: Optional[Path]
    diagnostic_pairs: Optional[Path]
    training_dir: Path
    reports_dir: Path


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
    """The protocol fields that ``conner evaluate`` will record (its ``training_protocol``)."""
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
    reuse_dir: Optional[Path],
    system: str,
    protocol: Dict,
    tests: List[str],
    overrides: Optional[Dict] = None,
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


def evaluate_command(plan: GridPlan, model: Path, system: str, output: Path) -> List[str]:
    """The ``conner evaluate`` command line of one run's model."""
    tests = [arg for spec in plan.tests for arg in ("--test", spec)]
    pairs = ["--pairs", str(plan.diagnostic_pairs)] if plan.diagnostic_pairs else []
    return [
        sys.executable,
        "-m",
        "conner",
        "evaluate",
        str(model),
        *tests,
        "--system",
        system,
        "--output",
        str(output),
        "--gpu-id",
        str(plan.settings["gpu_id"]),
        *pairs,
    ]


def run_one(
    plan: GridPlan, label: str, seed: int, sys_: System, log_to_file: bool, eta: str = ""
) -> bool:
    """Train (unless trained before) and evaluate one (system, seed); returns
    whether it did any work. With ``log_to_file`` the training's console
    output goes to ``train.log`` in its folder (parallel runs)."""
    config, settings, reports_dir = plan.config, plan.settings, plan.reports_dir
    report_path = reports_dir / f"{sys_.name}-seed{seed}.json"
    output = plan.training_dir / f"{sys_.name}-seed{seed}"
    done_marker = output / TRAINED_MARKER
    trained_config = output / "model-best" / "config.cfg"
    if done_marker.exists():
        # A model (and its report) from an older config is not this run,
        # and a report from before its model was trained is not its report.
        changed = (
            changed_settings(config, run_overrides(output, settings, seed, sys_), trained_config)
            if trained_config.exists()
            else {}
        )
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
    reusable = find_reusable(
        plan.reuse,
        sys_.name,
        expected_protocol(settings, seed, sys_),
        plan.test_names,
        sys_.overrides,
    )
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
        _run(
            train_command(config, output, settings, seed, sys_),
            output / "train.log" if log_to_file else None,
        )
        train_seconds = round(time.perf_counter() - start, 1)
        srsly.write_json(done_marker, {"train_seconds": train_seconds})
    print(f"{label}: evaluating", flush=True)
    partial = report_path.with_suffix(".partial")
    _run(
        evaluate_command(plan, output / "model-best", sys_.name, partial),
        output / "evaluate.log" if log_to_file else None,
    )
    report = srsly.read_json(partial)
    report["train_seconds"] = train_seconds
    report["overrides"] = sys_.overrides
    # Tables mark the rows that were trained on a GPU.
    report["device"] = "gpu" if settings.get("gpu_id", -1) >= 0 else "cpu"
    srsly.write_json(partial, report)
    partial.replace(report_path)  # the report appears only once it is complete
    scores = ", ".join(f"{k} {100 * v['f']:.2f}" for k, v in report["results"].items())
    print(f"{label}: {scores}", flush=True)
    return True


def run_kind(protocol: Dict) -> str:
    """What a training step costs depends on: the consistency terms it computes
    (a dropout twin of each labeled sentence; conjugate pairs, and how many)."""
    terms = (["dropout"] if protocol.get("alpha") else []) + (
        [f"{protocol.get('pairs_per_batch')} pairs"] if protocol.get("beta") else []
    )
    return " + ".join(terms) or "vanilla"


def measured_costs(
    report_dirs: List[Path], encoder: str, device: str
) -> Tuple[Dict[str, float], Dict[str, float], int]:
    """Median seconds per training step (by :func:`run_kind`) and per test
    set, from the finished reports in ``report_dirs`` of runs with the same
    encoder on the same kind of device (reports without a device are CPU
    runs); also how many reports they come from."""
    steps: Dict[str, List[float]] = {}
    tests: Dict[str, List[float]] = {}
    used = 0
    for directory in report_dirs:
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            try:
                report = srsly.read_json(path)
            except ValueError:
                continue
            protocol = report.get("protocol", {}) if isinstance(report, dict) else {}
            if (
                protocol.get("encoder") != encoder
                or report.get("device", "cpu") != device
                or not report.get("train_seconds")
                or not protocol.get("max_steps")
            ):
                continue
            used += 1
            steps.setdefault(run_kind(protocol), []).append(
                report["train_seconds"] / protocol["max_steps"]
            )
            for name, result in report.get("results", {}).items():
                if isinstance(result, dict) and result.get("seconds"):
                    tests.setdefault(name, []).append(result["seconds"])
    # The median: a run that was paused (kill -STOP) says nothing of the step cost.
    return (
        {k: statistics.median(v) for k, v in steps.items()},
        {k: statistics.median(v) for k, v in tests.items()},
        used,
    )


def scaled_step_costs(own: Dict[str, float], others: Dict[str, float]) -> Dict[str, float]:
    """Seconds per step of each kind of run for a grid: its own finished
    runs' where it has them, other grids' scaled by the median ratio (own /
    other) of the kinds both have measured. A step cost includes the
    start-up and the dev evaluations spread over the steps, so it depends on
    the grid's data size and evaluation frequency; the ratio carries that
    over to the kinds this grid has not run yet."""
    shared = [own[kind] / others[kind] for kind in own if others.get(kind)]
    scale = statistics.median(shared) if shared else 1.0
    return {**{kind: rate * scale for kind, rate in others.items()}, **own}


def estimate_seconds(
    runs: List[Tuple[int, System]],
    settings: Dict,
    test_names: List[str],
    step_seconds: Dict[str, float],
    test_seconds: Dict[str, float],
) -> Optional[float]:
    """Training and test time of ``runs`` from measured costs; None where a
    kind of run has never been measured. A test set never measured costs
    the mean of those that were."""
    total = 0.0
    fallback = sum(test_seconds.values()) / len(test_seconds) if test_seconds else 0.0
    for seed, system in runs:
        protocol = expected_protocol(settings, seed, system)
        kind = run_kind(protocol)
        # A system that trains by epochs (max_steps 0) has no step count to price.
        if kind not in step_seconds or not protocol["max_steps"]:
            return None
        total += protocol["max_steps"] * step_seconds[kind]
        total += sum(test_seconds.get(name, fallback) for name in test_names)
    return total


def _run(cmd: List[str], log: Optional[Path]) -> None:
    """Run ``cmd``; its output goes to ``log`` when given (else the console)."""
    if log is None:
        subprocess.run(cmd, check=True)
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf8") as file_:
        if subprocess.run(cmd, stdout=file_, stderr=subprocess.STDOUT).returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd[2:4]) if cmd[1] == '-m' else Path(cmd[1]).name} failed; see {log}"
            )


def run_grid(plan: GridPlan, runs: List[Tuple[int, System]], workers: int = 1) -> None:
    """Run each (seed, system) of ``runs`` that has no report yet, ``workers`` at
    a time; SystemExit(1) after all have run if any failed (parallel runs)."""
    plan.reports_dir.mkdir(parents=True, exist_ok=True)
    if workers == 1:
        durations: List[float] = []
        for i, (seed, sys_) in enumerate(runs, 1):
            remaining = len(runs) - i + 1
            eta = (
                f", ~{remaining * sum(durations) / len(durations) / 60:.0f} min for the {remaining} left"
                if durations
                else ""
            )
            start = time.perf_counter()
            if run_one(
                plan,
                f"[{i}/{len(runs)}] {sys_.name} seed {seed}",
                seed,
                sys_,
                log_to_file=False,
                eta=eta,
            ):
                durations.append(time.perf_counter() - start)
        return
    # Each run is its own process, so threads only wait; runs start in
    # seed order, and one failure does not stop the others.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                run_one,
                plan,
                f"[{i}/{len(runs)}] {sys_.name} seed {seed}",
                seed,
                sys_,
                log_to_file=True,
            ): (seed, sys_.name)
            for i, (seed, sys_) in enumerate(runs, 1)
        }
        failed = [
            (futures[f], f.exception()) for f in as_completed(futures) if f.exception() is not None
        ]
    for (seed, name), error in failed:
        print(f"{name} seed {seed} failed: {error}", file=sys.stderr, flush=True)
    if failed:
        raise SystemExit(1)


def print_estimate(
    runs: List[Tuple[int, System]],
    settings: Dict,
    test_names: List[str],
    reports_dir: Path,
    timing_from: List[Path],
    reuse: Optional[Path] = None,
) -> None:
    """Print how long the runs without a report will take, from the step
    times measured in finished runs of the same encoder and device (this
    grid's own, and those of ``timing_from`` scaled to them by
    :func:`scaled_step_costs`); runs whose report ``reuse`` holds are
    copied, not trained, and cost nothing."""
    missing = [
        (seed, s) for seed, s in runs if not (reports_dir / f"{s.name}-seed{seed}.json").exists()
    ]
    left = [
        (seed, s)
        for seed, s in missing
        if find_reusable(
            reuse, s.name, expected_protocol(settings, seed, s), test_names, s.overrides
        )
        is None
    ]
    copied = (
        f" ({len(missing) - len(left)} more to copy from {reuse})"
        if len(left) < len(missing)
        else ""
    )
    device = "gpu" if settings.get("gpu_id", -1) >= 0 else "cpu"
    encoder = settings["encoder"]
    own_steps, own_tests, own_used = measured_costs([reports_dir], encoder, device)
    other_steps, other_tests, other_used = measured_costs(
        [d for d in timing_from if d != reports_dir], encoder, device
    )
    step_seconds = scaled_step_costs(own_steps, other_steps)
    # A test set costs the same whatever the training: any grid's time prices it.
    test_seconds, used = {**other_tests, **own_tests}, own_used + other_used
    seconds = estimate_seconds(left, settings, test_names, step_seconds, test_seconds)
    if not missing:
        print(f"All {len(runs)} runs have reports in {reports_dir}", flush=True)
    elif not left:
        print(f"0 of {len(runs)} runs left to train{copied}", flush=True)
    elif seconds is None:
        print(
            f"{len(left)} of {len(runs)} runs left{copied}; no finished run of each kind to estimate their time from "
            f"(measured: {', '.join(step_seconds) or 'none'})",
            flush=True,
        )
    else:
        rates = ", ".join(
            f"{kind} {rate:.2f} s/step" for kind, rate in sorted(step_seconds.items())
        )
        print(
            f"{len(left)} of {len(runs)} runs left{copied}: about "
            f"{seconds / 3600:.1f} h on this {device.upper()} ({rates}; from {used} finished runs)",
            flush=True,
        )
