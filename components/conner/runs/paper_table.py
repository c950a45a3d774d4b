"""Our runs beside the paper's numbers: one markdown table per data size.

    conner paper-table --table table1 --group "100 %=reports/table1" \\
        --baseline vanilla -o reports/table1.md

Each ``--group LABEL=DIR`` is a folder of evaluation reports (one per
system and training seed, as ``conner seed-grid`` writes them) and the
key of the paper's numbers for that data size in ``--paper`` (YAML: table
-> size -> system -> language -> F1); ``--paper-group`` takes the paper's
numbers of one size for every group (Table 5 ran on all of English train,
ours on the cheapest size where ConNER gains). For every system against
the baseline and every language, the table holds the paper's two numbers
and their difference, ours (mean ± std over seeds), the difference paired
by seed with its t statistic, and how far our difference falls short of
or exceeds the paper's.
"""

import math
import statistics
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import typer

from .protocol_line import protocol_line
from .reports import TARGETS, _cell, _mean_std, group_by_system, seed_scores

LANGUAGES = (*TARGETS, "avg", "en")


def parse_groups(specs: Sequence[str]) -> List[Tuple[str, Path]]:
    """``LABEL=DIR`` pairs, in the order given."""
    groups = []
    for spec in specs:
        label, sep, directory = spec.partition("=")
        if not sep or not label or not directory:
            raise typer.BadParameter(f"--group: expected LABEL=DIR, got {spec!r}")
        groups.append((label, Path(directory)))
    return groups


def f1_by_seed(reports: List[Dict]) -> Dict[int, Dict[str, float]]:
    """F1 in % per training seed and language, with the De/Es/Nl average
    where all three were evaluated."""
    by_seed = seed_scores(reports, LANGUAGES)
    for scores in by_seed.values():
        if all(lang in scores for lang in TARGETS):
            scores["avg"] = statistics.mean(scores[lang] for lang in TARGETS)
    return by_seed


def paired_seeds(
    system: Dict[int, Dict[str, float]], baseline: Dict[int, Dict[str, float]], language: str
) -> List[int]:
    """The seeds with a ``language`` score on both sides, in order."""
    return [
        seed
        for seed in sorted(set(system) & set(baseline), key=str)
        if language in system[seed] and language in baseline[seed]
    ]


def paired_difference(
    system: Dict[int, Dict[str, float]], baseline: Dict[int, Dict[str, float]], language: str
) -> Tuple[List[float], Optional[float]]:
    """Per-seed differences over the seeds both ran, and their t statistic
    (mean / standard error; None with fewer than two seeds or no spread)."""
    diffs = [
        system[seed][language] - baseline[seed][language]
        for seed in paired_seeds(system, baseline, language)
    ]
    if len(diffs) < 2 or statistics.stdev(diffs) == 0:
        return diffs, None
    return diffs, statistics.mean(diffs) / (statistics.stdev(diffs) / math.sqrt(len(diffs)))


def _or_dash(text: str) -> str:
    """A cell, with a dash where there is no number (an empty cell reads as missing data)."""
    return text or "–"


def group_table(reports: List[Dict], paper: Dict[str, Dict[str, float]], baseline: str) -> str:
    """Rows per (system, language) of one data size against ``baseline``."""
    groups = group_by_system(reports)
    if baseline not in groups:
        raise typer.BadParameter(
            f"no report of the baseline {baseline!r} (have {', '.join(groups) or 'none'})"
        )
    base = f1_by_seed(groups[baseline])
    header = [
        "system",
        "language",
        f"paper {baseline}",
        "paper system",
        "paper Δ",
        f"ours {baseline}",
        "ours system",
        "Δ paired by seed",
        "t (df)",
        "Δ − paper Δ",
        "seeds",
        "trained on",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, members in groups.items():
        if name == baseline:
            continue
        ours = f1_by_seed(members)
        devices = sorted({m.get("device", "cpu").upper() for m in members + groups[baseline]})
        seeds = ",".join(str(s) for s in sorted(set(ours) & set(base), key=str))
        for language in LANGUAGES:
            if not any(language in scores for scores in ours.values()):
                continue
            diffs, t = paired_difference(ours, base, language)
            paper_base = paper.get(baseline, {}).get(language)
            paper_system = paper.get(name, {}).get(language)
            paper_delta = (
                None if paper_base is None or paper_system is None else paper_system - paper_base
            )
            gap = None if paper_delta is None or not diffs else statistics.mean(diffs) - paper_delta
            lines.append(
                "| "
                + " | ".join(
                    [
                        name,
                        language,
                        _or_dash(_cell(paper_base)),
                        _or_dash(_cell(paper_system)),
                        _or_dash(_cell(paper_delta, signed=True)),
                        _or_dash(
                            _mean_std(
                                [s[language] for s in base.values() if language in s] or [None]
                            )
                        ),
                        _or_dash(
                            _mean_std(
                                [s[language] for s in ours.values() if language in s] or [None]
                            )
                        ),
                        _or_dash(_mean_std(diffs or [None], signed=True)),
                        "–" if t is None else f"{t:.2f} ({len(diffs) - 1})",
                        _or_dash(_cell(gap, signed=True)),
                        seeds,
                        "/".join(devices),
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


def paper_table(
    groups: List[Tuple[str, List[Dict]]],
    paper: Dict[str, Dict],
    baseline: str,
    paper_group: Optional[str] = None,
) -> str:
    """One section per data size: its protocol line and its table."""
    sections = []
    for label, reports in groups:
        numbers = paper.get(paper_group or label, {})
        note = f" (paper: {paper_group})" if paper_group and paper_group != label else ""
        sections.append(
            f"## {label} of English train{note}\n\n{protocol_line(reports, '', True)}\n\n"
            f"{group_table(reports, numbers, baseline)}\n"
        )
    return "\n".join(sections)
