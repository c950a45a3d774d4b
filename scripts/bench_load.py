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

    python scripts/bench_load.py training/grid/vanilla-seed0/model-best
"""
import json
import subprocess
import sys
from pathlib import Path
from statistics import median
from typing import Dict, List

import srsly
import typer

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
start = time.perf_counter()
nlp = spacy.load(sys.argv[1], config=json.loads(sys.argv[2]))
out = {"seconds": time.perf_counter() - start, "load peak": peak_mb(), "load steady": rss_mb()}
nlp("Angela Merkel visited Paris on Monday .")
out.update({"1st doc steady": rss_mb(), "1st doc peak": peak_mb()})
print(json.dumps(out))
"""


def measure(model: str, overrides: Dict) -> Dict[str, float]:
    """One fresh process: load ``model`` with ``overrides``, then one doc."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, model, json.dumps(overrides)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_rss_mb(model: str, variant: str = "lean") -> Dict[str, float]:
    """Peak and steady RSS (MB) of a fresh process that loads ``model``."""
    return measure(model, VARIANTS[variant])


def main(
    model: str = typer.Argument(..., help="Trained pipeline"),
    variants: List[str] = typer.Option(list(VARIANTS), "--variant", help="lean and/or stock"),
    rounds: int = typer.Option(1, help="Fresh processes per variant; the median is reported"),
    output: Path = typer.Option(None, help="JSON file for the numbers"),
) -> None:
    results = {}
    for variant in variants:
        runs = [measure(model, VARIANTS[variant]) for _ in range(rounds)]
        results[variant] = {key: median(run[key] for run in runs) for key in runs[0]}
    print(f"spacy.load {model} (RSS in MB, fresh process each, median of {rounds})")
    keys = list(next(iter(results.values())))
    print(f"{'':>6} " + " ".join(f"{k:>15}" for k in keys))
    for variant, row in results.items():
        print(f"{variant:>6} " + " ".join(f"{row[k]:15.1f}" for k in keys))
    if output is not None:
        srsly.write_json(output, {"model": model, "rounds": rounds, "variants": results})


if __name__ == "__main__":
    typer.run(main)
