"""Figures of the results: F1 per language, loss terms and span diagnostics.

Reads evaluation reports (as written by ``conner evaluate``; a directory
stands for its ``*.json`` files) and training loss logs
(``training/RUN/losses.jsonl``, written by ``conner.ConsoleLogger.v1``), and
writes PNGs into a folder (``conner plots --output``):

- ``f1_per_language.png``: F1 per target language (and their average) for
  every system, mean over seeds with sample-std error bars and the per-seed
  points;
- ``loss_terms.png``: NLL, alpha·L_drop, beta·L_trans per step and the share
  of the consistency terms in the loss, one colour per system;
- ``span_diagnostics_steps.png`` (logs with ``spans``) and
  ``span_diagnostics.png`` (reports with ``spans``): mass on "illegal" and
  target/translation argmax agreement on conjugate pairs.

    conner plots reports/conner-vanilla.json reports/conner-google.json \\
        --logs training/conner-vanilla --logs training/conner-google -o reports
"""

import re
import statistics
import textwrap
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import srsly  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from spacy.util import load_config  # noqa: E402

from .reports import f1_row, group_by_system, target_columns, test_sets  # noqa: E402

SPAN_SOURCES = ("softmax", "crf")
# (key in the span statistics, axis title)
SPAN_STATS = (
    ("illegal_target", 'P("illegal"), target side'),
    ("illegal_translation", 'P("illegal"), translation side'),
    ("argmax_agree", "argmax agreement, target vs translation"),
)
SEED_SUFFIX = re.compile(r"-seed\d+$")


# --- F1 per language -------------------------------------------------------


class Bar(NamedTuple):
    """One system on one test set: mean, sample std (0 for one seed), points."""

    mean: float
    std: float
    points: List[float]


def f1_by_language(reports: List[Dict]) -> Tuple[List[str], Dict[str, Dict[str, Bar]]]:
    """The target sets (plus their average) and, per system and set, F1 in %
    over the system's seeds. Sets a seed lacks are left out for that system."""
    targets = target_columns(test_sets(reports))
    if not targets:
        raise ValueError("no report has a target-language set (de/es/nl or es_dev/nl_dev)")
    columns = targets + (["avg"] if len(targets) > 1 else [])
    table: Dict[str, Dict[str, Bar]] = {}
    for system, members in group_by_system(reports).items():
        rows = [f1_row(m, targets, targets)[: len(columns)] for m in members]
        table[system] = {}
        for column, values in zip(columns, zip(*rows)):
            if None in values:
                continue
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            table[system][column] = Bar(statistics.mean(values), std, list(values))
    return columns, table


def f1_figure(reports: List[Dict]) -> Figure:
    """Grouped bars: test set on x, one bar per system with its seeds."""
    columns, table = f1_by_language(reports)
    systems = list(table)
    colours = _colours(len(systems))
    width = 0.8 / len(systems)
    fig, ax = plt.subplots(
        figsize=(max(9.0, 3.5 + len(columns) * (0.5 + 0.35 * len(systems))), 5.2)
    )
    for i, system in enumerate(systems):
        xs = [c + (i - (len(systems) - 1) / 2) * width for c in range(len(columns))]
        bars = [(x, table[system][col]) for x, col in zip(xs, columns) if col in table[system]]
        if not bars:
            continue
        n_seeds = max(len(b.points) for _, b in bars)
        label = f"{system} ({n_seeds} seed{'s' if n_seeds > 1 else ''})"
        ax.bar(
            [x for x, _ in bars],
            [b.mean for _, b in bars],
            width * 0.9,
            yerr=[b.std for _, b in bars],
            capsize=3,
            color=colours[i],
            alpha=0.75,
            label=label,
            error_kw={"elinewidth": 1},
        )
        px = [x for x, b in bars for _ in b.points]
        py = [p for _, b in bars for p in b.points]
        ax.scatter(px, py, s=12, color="black", zorder=3, label="_nolegend_")
    ax.set_xticks(range(len(columns)), columns)
    ax.set_xlabel(
        "target-language test set"
        if columns[0] in ("de", "es", "nl")
        else "target-language dev set"
    )
    ax.set_ylabel("entity-level micro F1 (%)")
    low = min(p for row in table.values() for bar in row.values() for p in bar.points)
    ax.set_ylim(
        max(0.0, low - 10),
        min(100.0, max(b.mean + b.std for r in table.values() for b in r.values()) + 5),
    )
    ax.grid(axis="y", alpha=0.3)
    # Outside the axes: bars fill the plot from the bottom.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(
        "Zero-shot NER F1 per target language\nbars: mean over seeds, error bars: sample std, dots: seeds",
        fontsize=10,
    )
    _caption(fig, "Protocol: " + protocol_caption(reports))
    return fig


# --- loss terms over training steps ------------------------------------------


class LossCurve(NamedTuple):
    """Per-step means of the loss terms between evaluations of one run."""

    run: str
    steps: List[int]
    nll: List[float]
    drop: List[Optional[float]]  # alpha * L_drop (None: weight unknown)
    trans: List[Optional[float]]  # beta * L_trans
    share: List[Optional[float]]  # share of the consistency terms in the loss, %
    spans: List[Dict]  # the record's "spans" (may be empty)


def find_loss_logs(paths: Sequence[Path]) -> List[Path]:
    """``losses.jsonl`` files: a file as given, a run directory's own log,
    or the logs of the runs in a directory (``DIR/*/losses.jsonl``)."""
    found: List[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif (path / "losses.jsonl").is_file():
            found.append(path / "losses.jsonl")
        elif path.is_dir():
            found.extend(sorted(path.glob("*/losses.jsonl")))
    return found


def run_weights(run_dir: Path) -> Optional[Tuple[float, float]]:
    """alpha and beta of ``[components.conner]`` in the run's saved config
    (``model-last``, else ``model-best``), or None if neither has them."""
    for model in ("model-last", "model-best"):
        path = run_dir / model / "config.cfg"
        if path.is_file():
            conner = load_config(path, interpolate=True).get("components", {}).get("conner", {})
            if "alpha" in conner and "beta" in conner:
                return float(conner["alpha"]), float(conner["beta"])
    return None


def loss_curve(
    records: List[Dict],
    weights: Optional[Tuple[float, float]],
    run: str = "",
    component: str = "conner",
) -> LossCurve:
    """Per-step loss terms. Each record sums the losses of the steps since the
    previous evaluation (spaCy resets them at every evaluation, and the first
    one at step 0 covers that single step), so they are divided by the number
    of steps. Without ``weights``, the weighted terms come from the logged
    shares (a share is a weighted term over the total)."""
    curve = LossCurve(run, [], [], [], [], [], [])
    previous = -1
    for record in sorted(records, key=lambda r: r["step"]):
        n = record["step"] - previous
        previous = record["step"]
        losses = record["losses"]
        nll = losses.get(f"{component}_nll", 0.0)
        if weights is not None:
            drop = weights[0] * losses.get(f"{component}_drop", 0.0)
            trans = weights[1] * losses.get(f"{component}_trans", 0.0)
        elif record.get("shares", {}).get("nll"):
            total = nll / record["shares"]["nll"]
            drop, trans = record["shares"]["drop"] * total, record["shares"]["trans"] * total
        elif not any(k in losses for k in (f"{component}_drop", f"{component}_trans")):
            drop = trans = 0.0  # vanilla: no consistency terms to weigh
        else:
            drop = trans = None
        curve.steps.append(record["step"])
        curve.nll.append(nll / n)
        curve.drop.append(None if drop is None else drop / n)
        curve.trans.append(None if trans is None else trans / n)
        total = nll + (drop or 0.0) + (trans or 0.0)
        curve.share.append(
            None if drop is None else 100 * (drop + trans) / total if total > 0 else 0.0
        )
        curve.spans.append(record.get("spans") or {})
    return curve


def read_curves(paths: Sequence[Path], component: str = "conner") -> List[LossCurve]:
    """The loss curves of the runs whose logs have the component's NLL
    (spaCy's own ``ner`` runs have no such terms and are left out)."""
    curves = []
    for path in find_loss_logs(paths):
        records = [r for r in srsly.read_jsonl(path) if f"{component}_nll" in r.get("losses", {})]
        if records:
            curves.append(
                loss_curve(records, run_weights(path.parent), path.parent.name, component)
            )
        else:
            print(f"plots: {path} has no {component}_nll, left out")
    return curves


def system_of(run: str) -> str:
    """``conner-google-seed1`` -> ``conner-google``: seeds share a colour."""
    return SEED_SUFFIX.sub("", run)


def loss_figure(curves: List[LossCurve], caption: str = "") -> Figure:
    """Four panels over training steps: NLL (log scale: it falls about
    20-fold), alpha·L_drop, beta·L_trans and the consistency share; one
    colour per system, one line per run."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5), sharex=True)
    panels = [
        (axes[0, 0], "nll", "CRF NLL", "nats per sentence, per step", True),
        (axes[0, 1], "drop", "alpha · L_drop (dropout consistency)", "nats per step", False),
        (axes[1, 0], "trans", "beta · L_trans (translation consistency)", "nats per step", False),
        (
            axes[1, 1],
            "share",
            "share of alpha·L_drop + beta·L_trans in the loss",
            "% of the loss",
            False,
        ),
    ]
    colour = _system_colours([c.run for c in curves])
    for ax, field, title, unit, log in panels:
        labelled = set()
        for curve in curves:
            points = [
                (s, v)
                for s, v in zip(curve.steps, getattr(curve, field))
                if v is not None and (v > 0 or not log)
            ]
            if not points:
                continue
            system = system_of(curve.run)
            ax.plot(
                *zip(*points),
                marker="o",
                ms=3,
                color=colour[system],
                label=system if system not in labelled else "_nolegend_",
            )
            labelled.add(system)
        if log and ax.lines:
            _plain_log_ticks(ax)
        elif not log:
            ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("training step")
    handles = {
        h.get_label(): h for ax in axes.flat for h in ax.lines if not h.get_label().startswith("_")
    }
    fig.suptitle(
        "Loss terms during training: per-step means over each evaluation interval "
        "(training/*/losses.jsonl)",
        fontsize=11,
    )
    _legend_and_caption(fig, handles, caption, columns=4)
    return fig


def span_steps_figure(curves: List[LossCurve], caption: str = "") -> Optional[Figure]:
    """Span diagnostics over steps from the logs that have them (None if none)."""
    curves = [c for c in curves if any(c.spans)]
    if not curves:
        return None
    fig, axes = plt.subplots(
        len(SPAN_SOURCES), len(SPAN_STATS), figsize=(14, 7.5), sharex=True, squeeze=False
    )
    colour = _system_colours([c.run for c in curves])
    for row, source in enumerate(SPAN_SOURCES):
        for col, (key, title) in enumerate(SPAN_STATS):
            ax = axes[row, col]
            for curve in curves:
                points = [
                    (s, sp[source][key])
                    for s, sp in zip(curve.steps, curve.spans)
                    if sp.get(source, {}).get("spans")
                ]
                if points:
                    ax.plot(
                        *zip(*points),
                        marker="o",
                        ms=3,
                        color=colour[system_of(curve.run)],
                        label=curve.run,
                    )
            ax.set_title(f"{title} ({_source_name(source)})", fontsize=9)
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("mean probability" if key.startswith("illegal") else "fraction of spans")
            ax.grid(alpha=0.3)
            if row == len(SPAN_SOURCES) - 1:
                ax.set_xlabel("training step")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.lines}
    fig.suptitle(
        "Span distributions on a fixed sample of conjugate pairs, at each evaluation", fontsize=11
    )
    _legend_and_caption(fig, handles, caption, columns=5)
    return fig


def span_report_figure(reports: List[Dict]) -> Optional[Figure]:
    """Span diagnostics per system from the reports' ``spans`` (mean over
    seeds, sample-std error bars, seed points); None if no report has them."""
    groups = {
        s: [m["spans"] for m in ms if m.get("spans")] for s, ms in group_by_system(reports).items()
    }
    groups = {s: spans for s, spans in groups.items() if spans}
    if not groups:
        return None
    fig, axes = plt.subplots(1, len(SPAN_SOURCES), figsize=(13, 5), sharey=True, squeeze=False)
    systems = list(groups)
    colours = _colours(len(systems))
    width = 0.8 / len(systems)
    for ax, source in zip(axes[0], SPAN_SOURCES):
        for i, system in enumerate(systems):
            for j, (key, _) in enumerate(SPAN_STATS):
                values = [s[source][key] for s in groups[system] if s.get(source, {}).get("spans")]
                if not values:
                    continue
                x = j + (i - (len(systems) - 1) / 2) * width
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                ax.bar(
                    x,
                    statistics.mean(values),
                    width * 0.9,
                    yerr=std,
                    capsize=3,
                    color=colours[i],
                    alpha=0.75,
                    label=system if j == 0 else "_nolegend_",
                )
                ax.scatter([x] * len(values), values, s=12, color="black", zorder=3)
        ax.set_xticks(
            range(len(SPAN_STATS)), [t.replace(", ", ",\n") for _, t in SPAN_STATS], fontsize=8
        )
        ax.set_title(_source_name(source), fontsize=10)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylabel("mean probability / fraction of spans")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(
        "Span distributions of the selected models on a fixed sample of conjugate pairs "
        "(bars mean over seeds, error bars sample std, dots seeds)",
        fontsize=11,
    )
    _caption(fig, "Protocol: " + protocol_caption(reports))
    return fig


# --- shared helpers ----------------------------------------------------------


def protocol_caption(reports: List[Dict]) -> str:
    """The reports' protocol in one line: the settings all reports share,
    the seeds, and which settings differ between systems."""
    protocols = [r.get("protocol") or {} for r in reports]
    keys = [k for p in protocols for k in p]
    keys = list(dict.fromkeys(k for k in keys if k != "seed"))
    common: List[str] = []
    varying: List[str] = []
    for key in keys:
        values = {str(p.get(key)) for p in protocols}
        (common if len(values) == 1 else varying).append(key)
    parts = [f"{k} {protocols[0].get(k)}" for k in common if protocols[0].get(k) is not None]
    seeds = sorted({seed for p in protocols if (seed := p.get("seed")) is not None})
    if seeds:
        parts.append("training seeds " + ",".join(map(str, seeds)))
    if varying:
        parts.append("differs by system: " + ", ".join(varying))
    return "; ".join(parts) or "not recorded"


def _source_name(source: str) -> str:
    return {"softmax": "emission softmax", "crf": "CRF marginals"}.get(source, source)


def _colours(n: int) -> List:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _system_colours(runs: List[str]) -> Dict[str, object]:
    systems = list(dict.fromkeys(system_of(r) for r in runs))
    return dict(zip(systems, _colours(len(systems))))


def _caption(fig: Figure, text: str, top: float = 1.0) -> None:
    """Caption under the axes, wrapped to the figure's width; the layout
    leaves room for it (and above ``top`` for a legend)."""
    lines = textwrap.wrap(text, int(fig.get_figwidth() * 16)) if text else []
    height = (len(lines) * 7.5 * 1.3 + 8) / 72 / fig.get_figheight()  # points -> figure fraction
    fig.tight_layout(rect=(0, height if lines else 0, 1, top))
    if lines:
        fig.text(0.01, 0.01, "\n".join(lines), fontsize=7.5, va="bottom", ha="left", color="0.25")


def _legend_and_caption(fig: Figure, handles: Dict, caption: str, columns: int) -> None:
    """One legend for all panels, between the title and the axes."""
    rows = -(-len(handles) // columns) if handles else 0
    top = 1 - (0.45 + rows * 0.22) / fig.get_figheight()  # inches -> figure fraction
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles),
            loc="lower center",
            bbox_to_anchor=(0.5, top),
            ncol=min(columns, len(handles)),
            fontsize=8,
            frameon=False,
        )
    _caption(fig, caption, top=top)


def _plain_log_ticks(ax) -> None:
    """Log scale with tick labels like 0.5 and 2 rather than 5x10^-1."""
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(
        FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else "")
    )


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"plots: wrote {path}")
    return path


def write_plots(
    reports: List[Dict], logs: Sequence[Path], output_dir: Path, prefix: str = ""
) -> List[Path]:
    """All figures the inputs allow; returns the files written."""
    written = []
    caption = "Protocol: " + protocol_caption(reports) if reports else ""
    if reports:
        written.append(save(f1_figure(reports), output_dir / f"{prefix}f1_per_language.png"))
        spans = span_report_figure(reports)
        if spans is not None:
            written.append(save(spans, output_dir / f"{prefix}span_diagnostics.png"))
    curves = read_curves(logs)
    if curves:
        written.append(save(loss_figure(curves, caption), output_dir / f"{prefix}loss_terms.png"))
        steps = span_steps_figure(curves, caption)
        if steps is not None:
            written.append(save(steps, output_dir / f"{prefix}span_diagnostics_steps.png"))
    return written
