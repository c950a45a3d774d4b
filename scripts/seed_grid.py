"""Train and evaluate several systems over several seeds, resumably.

One ``spacy train`` per (system, seed), in its own process, then
``scripts/evaluate.py`` on the test sets. A finished (system, seed) has a
report at ``REPORTS_DIR/SYSTEM-seedN.json`` and is never redone, so a grid
that was interrupted picks up where it stopped; a trained model without a
report is only evaluated. With ``--reuse DIR``, an existing report of the
same system whose recorded protocol (seed, steps, alpha, beta, data, pairs,
encoder) matches is copied instead of training again, e.g. the seed that
``spacy project run all`` already trained.

Runs go seed by seed, so an interrupted grid has complete seeds first.
"""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import srsly
import typer

from evaluate import parse_test_sets

SCRIPTS = Path(__file__).parent


def parse_systems(specs: List[str]) -> List[Tuple[str, Optional[str]]]:
    """``NAME=PAIRS`` (ConNER on those pairs) or ``NAME=`` (vanilla)."""
    systems = []
    for spec in specs:
        name, sep, pairs = spec.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"Expected NAME=PAIRS or NAME=, got {spec!r}")
        systems.append((name, pairs or None))
    if len({name for name, _ in systems}) != len(systems):
        raise typer.BadParameter("system names must differ")
    return systems


def expected_protocol(settings: Dict, seed: int, pairs: Optional[str]) -> Dict:
    """The protocol fields that ``evaluate.training_protocol`` will record."""
    conner = pairs is not None
    return {
        "seed": seed,
        "max_steps": settings["max_steps"],
        "alpha": settings["alpha"] if conner else 0.0,
        "beta": settings["beta"] if conner else 0.0,
        "train": settings["train"],
        "dev": settings["dev"],
        "pairs": pairs,
        "encoder": settings["encoder"],
        # Only ConNER draws pairs, so the batch size of pairs only binds it.
        **({"pairs_per_batch": settings["pairs_per_batch"]} if conner else {}),
    }


def find_reusable(reuse_dir: Optional[Path], system: str, protocol: Dict, tests: List[str]) -> Optional[Path]:
    """A report under ``reuse_dir`` of ``system`` trained with ``protocol`` on all ``tests``."""
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
            and all(t in report.get("results", {}) for t in tests)
        ):
            return path
    return None


def train_command(config: Path, output: Path, settings: Dict, seed: int, pairs: Optional[str]) -> List[str]:
    cmd = [
        sys.executable, "-m", "spacy", "train", str(config), "--output", str(output),
        "--paths.loss_log", str(output / "losses.jsonl"),
        "--paths.train", settings["train"], "--paths.dev", settings["dev"],
        "--paths.encoder", settings["encoder"],
        "--training.max_steps", str(settings["max_steps"]),
        "--training.eval_frequency", str(settings["eval_frequency"]),
        "--training.batcher.pairs_per_batch", str(settings["pairs_per_batch"]),
        "--system.seed", str(seed), "--gpu-id", str(settings["gpu_id"]),
    ]
    if pairs is None:
        cmd += ["--consistency.alpha", "0", "--consistency.beta", "0"]
    else:
        cmd += ["--paths.pairs", pairs, "--consistency.alpha", str(settings["alpha"]), "--consistency.beta", str(settings["beta"])]
    return cmd


def main(
    config: Path = typer.Argument(..., exists=True, dir_okay=False),
    seeds: str = typer.Option("0,1,2", help="Comma-separated training seeds"),
    system: List[str] = typer.Option(..., help="NAME=PAIRS for ConNER, NAME= for vanilla; repeatable"),
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
    reuse: Optional[Path] = typer.Option(None, help="Directory of reports that may already hold a (system, seed)"),
    training_dir: Path = typer.Option(Path("training/seeds")),
    reports_dir: Path = typer.Option(Path("reports/seeds")),
) -> None:
    systems = parse_systems(system)
    seed_list = [int(s) for s in seeds.replace(" ", ",").split(",") if s]
    settings = dict(train=train, dev=dev, encoder=encoder, max_steps=max_steps, eval_frequency=eval_frequency,
                    pairs_per_batch=pairs_per_batch, alpha=alpha, beta=beta, gpu_id=gpu_id)
    test_names = [name for name, _ in parse_test_sets(test)]
    reports_dir.mkdir(parents=True, exist_ok=True)
    runs = [(seed, name, pairs) for seed in seed_list for name, pairs in systems]
    for i, (seed, name, pairs) in enumerate(runs, 1):
        label = f"[{i}/{len(runs)}] {name} seed {seed}"
        report_path = reports_dir / f"{name}-seed{seed}.json"
        if report_path.exists():
            print(f"{label}: done before ({report_path})", flush=True)
            continue
        reusable = find_reusable(reuse, name, expected_protocol(settings, seed, pairs), test_names)
        if reusable is not None:
            shutil.copy2(reusable, report_path)
            print(f"{label}: same protocol already evaluated in {reusable}, copied", flush=True)
            continue
        output = training_dir / f"{name}-seed{seed}"
        train_seconds = None
        if not (output / "model-best").exists():
            print(f"{label}: training -> {output}", flush=True)
            start = time.perf_counter()
            subprocess.run(train_command(config, output, settings, seed, pairs), check=True)
            train_seconds = round(time.perf_counter() - start, 1)
        print(f"{label}: evaluating", flush=True)
        partial = report_path.with_suffix(".partial")
        subprocess.run(
            [sys.executable, str(SCRIPTS / "evaluate.py"), str(output / "model-best"), *test,
             "--system", name, "--output", str(partial), "--gpu-id", str(gpu_id)],
            check=True,
        )
        report = srsly.read_json(partial)
        report["train_seconds"] = train_seconds
        srsly.write_json(partial, report)
        partial.replace(report_path)  # the report appears only once it is complete
        scores = ", ".join(f"{k} {100 * v['f']:.2f}" for k, v in report["results"].items())
        print(f"{label}: {scores}", flush=True)
    print(json.dumps({"reports": str(reports_dir), "runs": len(runs)}))


if __name__ == "__main__":
    typer.run(main)
