"""Evaluation reports made from F1 tables, shared by the report tests."""

from pathlib import Path
from typing import Dict, List

import srsly

Scores = Dict[str, Dict[int, Dict[str, float]]]  # system -> seed -> test set -> F1 in %


def seed_reports(scores: Scores) -> List[Dict]:
    """One report per system and seed, shaped as ``conner evaluate`` writes them."""
    return [
        {
            "system": system,
            "protocol": {"seed": seed},
            "results": {name: {"f": f1 / 100} for name, f1 in sets.items()},
        }
        for system, seeds in scores.items()
        for seed, sets in seeds.items()
    ]


def write_seed_reports(folder: Path, reports: List[Dict]) -> Path:
    """``reports`` as JSON files in a new ``folder``, as ``conner report`` reads them."""
    folder.mkdir()
    for number, report in enumerate(reports):
        srsly.write_json(folder / f"{number}.json", report)
    return folder
