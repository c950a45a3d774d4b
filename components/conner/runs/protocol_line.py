"""The protocol line of a report table, built from what the reports record.

Each evaluation report records how its model was trained
(``report["protocol"]``, from ``conner evaluate``'s ``training_protocol``: encoder,
steps, pairs, pairs per step, alpha, beta, seed; ``report["overrides"]``,
from ``conner seed-grid``: the system's own config overrides). The line states each
of these once, with the systems that differ from the common value, e.g.::

    encoder encoders/e5-small; 300 steps (600 for vanilla-600); ConNER: 4
    conjugate pairs a step (16 for conner-es16), alpha = beta = 0.5 (0.125
    for conner-w0.125); NOTE; training seed 0

so a table never claims a setting its runs did not have. NOTE is what the
reports do not record (the data sample, the labeled batch, model selection),
given by the caller.
"""

from collections import Counter
from typing import Callable, Dict, List, Optional


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _recorded(name: str) -> Callable[[Dict], Optional[str]]:
    """The recorded protocol field ``name`` of a report, as text."""

    def get(report: Dict) -> Optional[str]:
        value = (report.get("protocol") or {}).get(name)
        return None if value is None else _number(value)

    return get


def _steps(report: Dict) -> Optional[str]:
    """ "300 steps"; with max_steps 0, the epochs of the system's overrides."""
    steps = (report.get("protocol") or {}).get("max_steps")
    if steps:
        return f"{steps} steps"
    epochs = (report.get("overrides") or {}).get("training.max_epochs")
    return f"{epochs} epochs" if epochs else None


def _weights(report: Dict) -> Optional[str]:
    """ "0.5" where alpha = beta, else "alpha = 0.5, beta = 0.25"."""
    protocol = report.get("protocol") or {}
    alpha, beta = protocol.get("alpha"), protocol.get("beta")
    if alpha is None and beta is None:
        return None
    return _number(alpha) if alpha == beta else f"alpha = {_number(alpha)}, beta = {_number(beta)}"


def describe(
    groups: Dict[str, List[Dict]],
    get: Callable[[Dict], Optional[str]],
    form: Callable[[str], str] = str,
) -> Optional[str]:
    """The value of ``get`` that most systems share, written by ``form``, then
    the other values with their systems: ``"4 pairs (16 for a, b; 8 for c)"``.
    None if no report has a value."""
    per_system: Dict[str, str] = {}
    for system, members in groups.items():
        values = list(dict.fromkeys(v for v in map(get, members) if v is not None))
        if values:
            per_system[system] = " / ".join(values)
    if not per_system:
        return None
    order = list(dict.fromkeys(per_system.values()))
    counts = Counter(per_system.values())
    # The most common value; on a tie, that of the first system (the baseline).
    common = max(order, key=lambda v: (counts[v], -order.index(v)))
    others: Dict[str, List[str]] = {}
    for system, value in per_system.items():
        if value != common:
            others.setdefault(value, []).append(system)
    if not others:
        return form(common)
    exceptions = "; ".join(f"{value} for {', '.join(systems)}" for value, systems in others.items())
    return f"{form(common)} ({exceptions})"


def protocol_line(reports: List[Dict], note: str = "", several_seeds: bool = False) -> str:
    """One line: encoder, steps, ConNER's pairs and weights, ``note``, the
    training seeds (and, with ``several_seeds``, what the table shows)."""
    groups: Dict[str, List[Dict]] = {}
    for report in reports:
        groups.setdefault(report.get("system", "?"), []).append(report)
    parts = [describe(groups, _recorded("encoder"), "encoder {}".format), describe(groups, _steps)]
    conner = {
        s: m for s, m in groups.items() if any((r.get("protocol") or {}).get("pairs") for r in m)
    }
    if conner:
        pairs = describe(conner, _recorded("pairs_per_batch"), "{} conjugate pairs a step".format)
        weights = describe(conner, _weights, lambda v: v if "beta" in v else f"alpha = beta = {v}")
        if pairs or weights:
            parts.append("ConNER: " + ", ".join(p for p in (pairs, weights) if p))
    parts.append(note.strip())
    seeds = {}
    for system, members in groups.items():
        found = sorted(
            {seed for r in members if (seed := (r.get("protocol") or {}).get("seed")) is not None}
        )
        if found:
            seeds[system] = [{"protocol": {"seed": ",".join(map(str, found))}}]
    if seeds:
        plural = len({m[0]["protocol"]["seed"] for m in seeds.values()}) > 1 or any(
            "," in m[0]["protocol"]["seed"] for m in seeds.values()
        )
        parts.append(
            describe(
                seeds,
                _recorded("seed"),
                ("training seeds {}" if plural else "training seed {}").format,
            )
        )
    if several_seeds:
        parts.append("mean ± sample std over seeds")
    # Where a report says what it ran on (e.g. a GPU), so does the line.
    hardware = sorted({r["hardware"] for r in reports if r.get("hardware")})
    parts.extend(hardware)
    return "; ".join(p for p in parts if p)
