"""Markdown tables of evaluation reports (``conner report``, ``conner results-page``).

Reports of the same system from several training seeds (as written by
``conner seed-grid``) are summarised as mean ± sample standard deviation.
"""

import statistics
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import srsly

TARGETS = ("de", "es", "nl")
# Target-language dev sets: settings are chosen on these, never on a test set.
DEV_TARGETS = ("es_dev", "nl_dev")


def target_columns(sets: List[str]) -> List[str]:
    """The sets averaged in the "avg" column: the target test sets, or the
    target dev sets where a report has no test set."""
    return [s for s in sets if s in TARGETS] or [s for s in sets if s in DEV_TARGETS]


def load_reports(paths: List[Path]) -> List[Dict]:
    """The evaluation reports that exist, in the order given; a directory
    stands for the ``.json`` reports in it, sorted by name."""
    files: List[Path] = []
    for path in paths:
        files.extend(
            sorted(path.glob("*.json")) if path.is_dir() else [path] if path.exists() else []
        )
    return [srsly.read_json(f) for f in files]


def group_by_system(reports: List[Dict]) -> Dict[str, List[Dict]]:
    """Reports per system, in order of first appearance; a system may not
    have two reports of the same seed."""
    groups: Dict[str, List[Dict]] = {}
    for report in reports:
        groups.setdefault(report["system"], []).append(report)
    for system, members in groups.items():
        seeds = [m.get("protocol", {}).get("seed") for m in members]
        if len(members) > 1 and len(set(seeds)) != len(seeds):
            raise ValueError(f"{system}: several reports of the same seed ({seeds})")
    return groups


def seeds_table(reports: List[Dict], baseline: Optional[str] = None) -> str:
    """Mean ± sample std over seeds per system and test set (and of the
    target-language average), the baseline first. With ``baseline``, a row
    of differences per system: paired by seed (mean ± std of the per-seed
    differences) over the seeds both systems ran, else of the means."""
    groups = group_by_system(reports)
    if baseline in groups:
        groups = {baseline: groups[baseline], **{k: v for k, v in groups.items() if k != baseline}}
    # A test set that no system has for every seed would be an empty column.
    sets = [
        s
        for s in test_sets(reports)
        if any(all(s in m["results"] for m in members) for members in groups.values())
    ]
    targets = target_columns(sets)
    header = ["system", "seeds"] + sets + (["avg " + "/".join(targets)] if targets else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_seed: Dict[str, Dict[Optional[int], List[Optional[float]]]] = {}
    for system, members in groups.items():
        f1_rows = [f1_row(m, sets, targets) for m in members]
        by_seed[system] = {
            m.get("protocol", {}).get("seed"): row for m, row in zip(members, f1_rows)
        }
        seeds = ",".join(str(seed) for seed in by_seed[system])
        lines.append(
            "| " + " | ".join([system, seeds] + [_mean_std(col) for col in zip(*f1_rows)]) + " |"
        )
    if baseline in by_seed:
        base = by_seed[baseline]
        for system, rows in by_seed.items():
            if system == baseline:
                continue
            common = [seed for seed in rows if seed in base]
            if common:
                diffs = [
                    [
                        None if a is None or b is None else a - b
                        for a, b in zip(rows[seed], base[seed])
                    ]
                    for seed in common
                ]
                cells = [_mean_std(col, signed=True) for col in zip(*diffs)]
                if set(common) == set(base) == set(rows):
                    label = f"{system} − {baseline} (paired by seed)"
                else:  # e.g. an ablation run for fewer seeds than the baseline
                    label = f"{system} − {baseline} (paired, seed{'s' if len(common) > 1 else ''} {','.join(map(str, common))})"
            else:
                means = [_mean(col) for col in zip(*rows.values())]
                base_means = [_mean(col) for col in zip(*base.values())]
                cells = [
                    _cell(None if a is None or b is None else a - b, signed=True)
                    for a, b in zip(means, base_means)
                ]
                label = f"{system} − {baseline} (means)"
            lines.append("| " + " | ".join([label, ""] + cells) + " |")
    return "\n".join(lines)


def _mean(values) -> Optional[float]:
    return None if None in values else statistics.mean(values)


def _mean_std(values, signed: bool = False) -> str:
    if None in values:
        return ""
    mean = f"{statistics.mean(values):+.2f}" if signed else f"{statistics.mean(values):.2f}"
    return mean if len(values) == 1 else f"{mean} ± {statistics.stdev(values):.2f}"


def test_sets(reports: List[Dict]) -> List[str]:
    """The test sets of all reports, in order of first appearance."""
    sets: List[str] = []
    for report in reports:
        sets.extend(s for s in report["results"] if s not in sets)
    return sets


def seed_scores(reports: List[Dict], sets: Sequence[str]) -> Dict[int, Dict[str, float]]:
    """F1 in % per training seed and test set (only ``sets``)."""
    return {
        report.get("protocol", {}).get("seed"): {
            name: 100 * result["f"] for name, result in report["results"].items() if name in sets
        }
        for report in reports
    }


def f1_row(report: Dict, sets: List[str], targets: List[str]) -> List[Optional[float]]:
    """F1 (in %) per test set, then the target-language average (None if missing)."""
    res = report["results"]
    row = [100 * res[s]["f"] if s in res else None for s in sets]
    if targets:
        found = [100 * res[s]["f"] for s in targets if s in res]
        row.append(sum(found) / len(found) if len(found) == len(targets) else None)
    return row


def results_table(reports: List[Dict], baseline: Optional[str] = None) -> str:
    """One row per system: F1 per test set and the target-language average;
    with ``baseline``, a row of differences to it under each other system."""
    sets = test_sets(reports)
    targets = target_columns(sets)
    header = ["system"] + sets + (["avg " + "/".join(targets)] if targets else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    base = next((r for r in reports if r["system"] == baseline), None)
    base_row = f1_row(base, sets, targets) if base else None
    if base is not None:  # the baseline first, the others in the order given
        reports = [base] + [r for r in reports if r is not base]
    for report in reports:
        row = f1_row(report, sets, targets)
        lines.append("| " + " | ".join([report["system"]] + [_cell(v) for v in row]) + " |")
        if base_row and report is not base:
            diffs = [None if a is None or b is None else a - b for a, b in zip(row, base_row)]
            lines.append(
                "| "
                + " | ".join([f"Δ vs {baseline}"] + [_cell(v, signed=True) for v in diffs])
                + " |"
            )
    return "\n".join(lines)


def _cell(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def per_type_table(reports: List[Dict]) -> str:
    """F1 per entity type, per system and test set."""
    lines = [
        "| system | set | " + " | ".join(["type", "P", "R", "F1", "support"]) + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        for name, res in report["results"].items():
            for label, row in sorted(res["per_type"].items()):
                lines.append(
                    f"| {report['system']} | {name} | {label} | {100 * row['p']:.2f} | "
                    f"{100 * row['r']:.2f} | {100 * row['f']:.2f} | {row['support']} |"
                )
    return "\n".join(lines)


# The span-diagnostic columns per token distribution: (header, cell).
SPAN_COLUMNS = {
    "softmax": [
        (
            "P(illegal) softmax, target / translation",
            lambda s: f"{s['illegal_target']:.2f} / {s['illegal_translation']:.2f}",
        ),
        ("argmax agree, softmax", lambda s: f"{s['argmax_agree']:.2f}"),
    ],
    "crf": [
        (
            "P(illegal) CRF marginals",
            lambda s: f"{s['illegal_target']:.2f} / {s['illegal_translation']:.2f}",
        ),
        ("argmax agree, CRF", lambda s: f"{s['argmax_agree']:.2f}"),
        # Falls when a consistency term is met by moving both sides off the types.
        (
            "both a type, CRF",
            lambda s: f"{s['argmax_both_label']:.2f}" if "argmax_both_label" in s else "",
        ),
    ],
}


def spans_table(reports: List[Dict]) -> str:
    """Span distributions on a fixed sample of conjugate pairs (reports made
    with ``conner evaluate --pairs``): mass on "illegal" and argmax agreement
    between target and translation, from the emission softmax and from the
    CRF marginals, and how often both CRF argmaxes are an entity type.
    Empty if no report has them."""
    rows = []
    for report in reports:
        spans = report.get("spans") or {}
        cells = []
        for source, columns in SPAN_COLUMNS.items():
            stats = spans.get(source) or {}
            cells += [cell(stats) if stats.get("spans") else "" for _, cell in columns]
        if any(cells):
            seed = report.get("protocol", {}).get("seed")
            rows.append("| " + " | ".join([report["system"], str(seed)] + cells) + " |")
    if not rows:
        return ""
    headers = ["system", "seed"] + [
        header for columns in SPAN_COLUMNS.values() for header, _ in columns
    ]
    return "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + rows)
