"""Goals on differences to a baseline, and how far each is from being met.

``conner report --goal SYSTEM:SET>=DELTA`` adds a table with one row per
goal, e.g. ``conner-eu16:eu>=3`` ("ConNER with Basque pairs gains at least
3 F1 on Basque") or ``conner-pooled16-no-eu:eu>=-0.5`` ("left out, Basque
loses at most 0.5"). Each row gives the difference paired by seed, whether
its mean reaches the goal and, where it does not, by how much it falls
short, so that a table states a missed goal instead of leaving the reader
to subtract.
"""

import re
import statistics
from dataclasses import dataclass
from typing import Dict, List, Sequence

from .paper_table import paired_difference, paired_seeds
from .reports import _mean_std, group_by_system, seed_scores

GOAL_PATTERN = re.compile(r"^(?P<system>[^:\s]+):(?P<set>[^>\s]+)>=(?P<minimum>[+-]?\d+(\.\d+)?)$")


@dataclass(frozen=True)
class Goal:
    """``system`` minus the baseline on ``test_set``, in F1 points, is at least ``minimum``."""

    system: str
    test_set: str
    minimum: float


def parse_goal(spec: str) -> Goal:
    """``SYSTEM:SET>=DELTA`` (e.g. ``conner-eu16:eu>=3``) as a :class:`Goal`.

    Raises ValueError naming the expected form for anything else.
    """
    match = GOAL_PATTERN.match(spec.strip())
    if match is None:
        raise ValueError(
            f"goal {spec!r} is not SYSTEM:SET>=DELTA (e.g. conner-eu16:eu>=3 or pooled-no-eu:eu>=-0.5)"
        )
    return Goal(match["system"], match["set"], float(match["minimum"]))


def goals_table(reports: List[Dict], baseline: str, goals: Sequence[Goal]) -> str:
    """One markdown row per goal: the seeds paired with ``baseline``, the
    difference (mean ± std over those seeds), the goal, whether the mean
    meets it and by how much it falls short.

    Raises ValueError if the baseline, a goal's system or a goal's test set
    has no report: a goal silently left out would read as met.
    """
    groups = group_by_system(reports)
    if baseline not in groups:
        raise ValueError(f"no report of the baseline {baseline!r}")
    base = seed_scores(groups[baseline], [goal.test_set for goal in goals])
    header = ["system", "set", "goal", "seeds", "Δ paired by seed", "met", "short by"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for goal in goals:
        if goal.system not in groups:
            raise ValueError(
                f"goal {goal.system}:{goal.test_set}: no report of {goal.system!r} "
                f"(have {', '.join(groups)})"
            )
        scores: Dict[int, Dict[str, float]] = seed_scores(groups[goal.system], [goal.test_set])
        diffs, _ = paired_difference(scores, base, goal.test_set)
        if not diffs:
            raise ValueError(
                f"goal {goal.system}:{goal.test_set}: no seed with a {goal.test_set!r} score "
                f"for both {goal.system!r} and {baseline!r}"
            )
        # Judged on the mean as the table prints it, so "met" and the cells agree.
        shortfall = round(goal.minimum - round(statistics.mean(diffs), 2), 2)
        seeds = ",".join(str(seed) for seed in paired_seeds(scores, base, goal.test_set))
        cells = [
            goal.system,
            goal.test_set,
            f"Δ ≥ {goal.minimum:+.2f}",
            seeds,
            _mean_std(diffs, signed=True),
            "yes" if shortfall <= 0 else "no",
            "–" if shortfall <= 0 else f"{shortfall:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
