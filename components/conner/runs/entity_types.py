"""Micro F1 over some entity types only, recomputed from per-type scores.

Label schemes agree on PER, LOC and ORG far more than on MISC (BasqueGLUE's
MISC, UniversalNER's OTH and CoNLL's MISC hold different things), so a
change in zero-shot F1 may come from MISC alone. ``conner report --types
PER,LOC,ORG`` shows the tables again over those types: the reports'
per-type precision, recall and support give each type's true positives and
predictions, and micro P/R/F1 follow from their sums.
"""

import copy
from typing import Dict, List, Sequence, Tuple


def type_counts(row: Dict) -> Tuple[int, int, int]:
    """(true positives, predicted, gold) of one per-type row of a report.

    New reports store ``predicted``; for older ones it follows from
    precision, unless nothing of the type was found (precision 0 then
    hides how many were predicted): that raises ValueError.
    """
    gold = int(row["support"])
    true_positives = round(row["r"] * gold)
    if "predicted" in row:
        return true_positives, int(row["predicted"]), gold
    if row["p"] > 0:
        return true_positives, round(true_positives / row["p"]), gold
    raise ValueError(
        "a type without a correct prediction and without a 'predicted' count: "
        "evaluate the pipeline again to restrict its scores to some types"
    )


def micro_scores(per_type: Dict[str, Dict], types: Sequence[str]) -> Dict[str, float]:
    """Micro precision, recall and F1 (fractions) over ``types`` of ``per_type``;
    a type the report lacks was neither in the gold data nor predicted."""
    true_positives = predicted = gold = 0
    for label in types:
        if label in per_type:
            tp, pred, support = type_counts(per_type[label])
            true_positives += tp
            predicted += pred
            gold += support
    p = true_positives / predicted if predicted else 0.0
    r = true_positives / gold if gold else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


def restrict_types(reports: List[Dict], types: Sequence[str]) -> List[Dict]:
    """Copies of ``reports`` whose test-set scores count only ``types``
    (per-type rows of the other types are dropped), for the same tables."""
    restricted = []
    for report in reports:
        report = copy.deepcopy(report)
        for name, result in report["results"].items():
            where = f"{report.get('system', '?')}, test set {name}"
            if "per_type" not in result:
                raise ValueError(f"{where}: the report has no per-type scores")
            try:
                result.update(micro_scores(result["per_type"], types))
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from None
            result["per_type"] = {k: v for k, v in result["per_type"].items() if k in types}
        restricted.append(report)
    return restricted
