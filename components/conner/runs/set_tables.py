"""One markdown table per test set: every system against the baseline.

``conner report --by-set`` writes these when the question is per language
("what does Basque gain from its own pairs, from the pooled pairs, and
with its pairs left out?") rather than per system. Each row is a system:
its F1 over seeds, the difference to the baseline paired by seed, and
that difference's t statistic.
"""

from typing import Dict, List, Optional, Sequence

from .paper_table import paired_difference
from .reports import _mean_std, group_by_system, seed_scores, test_sets


def set_table(
    by_system: Dict[str, Dict[int, Dict[str, float]]], test_set: str, baseline: str
) -> str:
    """Rows per system on ``test_set``: F1, Δ to ``baseline`` paired by seed, t."""
    base = by_system[baseline]
    header = ["system", "seeds", "F1", f"Δ vs {baseline}, paired by seed", "t (df)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for system, scores in by_system.items():
        seeds = [seed for seed, row in scores.items() if test_set in row]
        if not seeds:
            continue
        f1 = _mean_std([scores[seed][test_set] for seed in seeds])
        delta, t_cell = "", ""
        if system != baseline:
            diffs, t = paired_difference(scores, base, test_set)
            delta = _mean_std(diffs, signed=True) if diffs else "–"
            t_cell = "–" if t is None else f"{t:.2f} ({len(diffs) - 1})"
        seed_list = ",".join(str(seed) for seed in sorted(seeds, key=str))
        lines.append("| " + " | ".join([system, seed_list, f1, delta, t_cell]) + " |")
    return "\n".join(lines)


def set_tables(
    reports: List[Dict],
    baseline: str,
    sets: Optional[Sequence[str]] = None,
) -> str:
    """A section per test set, in the order of ``sets`` (else as the reports
    list them)."""
    groups = group_by_system(reports)
    if baseline not in groups:
        raise ValueError(
            f"no report of the baseline {baseline!r} (have {', '.join(groups) or 'none'})"
        )
    found = test_sets(reports)
    order = [s for s in sets if s in found] if sets else found
    groups = {baseline: groups[baseline], **{k: v for k, v in groups.items() if k != baseline}}
    by_system = {system: seed_scores(members, order) for system, members in groups.items()}
    return "\n\n".join(f"### {s}\n\n{set_table(by_system, s, baseline)}" for s in order)
