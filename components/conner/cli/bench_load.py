"""The memory (RSS) of ``spacy.load``: lean (``conner.transformer.lean_load``) and stock.

Each variant runs in a fresh Python process, ``--rounds`` times, and reports:

* ``load peak``: the process's peak RSS when ``spacy.load`` returns
  (``ru_maxrss``: imports included, about 0.43 GB of it);
* ``load steady``: its RSS then (``VmRSS``);
* ``1st doc steady`` / ``1st doc peak``: the same after the first ``nlp(text)``
  (the lean load builds the transformer's tokenizer there);
* ``seconds``: the time ``spacy.load`` took.

``stock`` loads as spacy-transformers does
(``components.transformer.model.lean_load = false``); ``lean`` is the
default of ``conner.TransformerModel.v1``.

    conner bench load training/grid/vanilla-seed0/model-best
"""

import json
import subprocess
import sys
from pathlib import Path
from statistics import median
from typing import Dict, List, Optional

import srsly
import typer

from ..files.outputs import atomic_output
from .app import bench_app
from .options import gpu_id_option, output_option

VARIANTS = {"lean": {}, "stock": {"components.transformer.model.lean_load": False}}

PROBE = r"""
import json, resource, sys, time
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import spacy
if int(sys.argv[3]) >= 0:
    spacy.require_gpu(int(sys.argv[3]))
start = time.perf_counter()
nlp = spacy.load(sys.argv[1], config=json.loads(sys.argv[2]))
out = {"seconds": time.perf_counter() - start, "load peak": peak_mb(), "load steady": rss_mb()}
nlp("Angela Merkel visited Paris on Monday .")
out.update({"1st doc steady": rss_mb(), "1st doc peak": peak_mb()})
print(json.dumps(out))
"""


def measure(model: str, overrides: Dict, gpu_id: int = -1) -> Dict[str, float]:
    """One fresh process: load ``model`` with ``overrides`` (on ``gpu_id``), then one doc."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, model, json.dumps(overrides), str(gpu_id)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_rss_mb(model: str, variant: str = "lean", gpu_id: int = -1) -> Dict[str, float]:
    """Peak and steady RSS (MB) of a fresh process that loads ``model``."""
    return measure(model, VARIANTS[variant], gpu_id)


@bench_app.command("load")
def bench_load_cli(
    model: str = typer.Argument(..., help="Trained pipeline"),
    variants: List[str] = typer.Option(list(VARIANTS), "--variant", help="lean and/or stock"),
    rounds: int = typer.Option(1, help="Fresh processes per variant; the median is reported"),
    gpu_id: int = gpu_id_option(),
    output: Optional[Path] = output_option(
        "JSON file for the numbers", default=None, dir_okay=False
    ),
) -> None:
    """Measure the memory (RSS) of loading a pipeline, lean and stock."""
    results = {}
    for variant in variants:
        runs = [measure(model, VARIANTS[variant], gpu_id) for _ in range(rounds)]
        results[variant] = {key: median(run[key] for run in runs) for key in runs[0]}
    print(f"spacy.load {model} (RSS in MB, fresh process each, median of {rounds})")
    keys = list(next(iter(results.values())))
    print(f"{'':>6} " + " ".join(f"{k:>15}" for k in keys))
    for variant, row in results.items():
        print(f"{variant:>6} " + " ".join(f"{row[k]:15.1f}" for k in keys))
    if output is not None:
        with atomic_output(output) as temporary:
            srsly.write_json(temporary, {"model": model, "rounds": rounds, "variants": results})
