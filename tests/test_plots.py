"""Plots from evaluation reports and loss logs (small files written here)."""

import statistics

import numpy
import pytest
import srsly
import typer
from PIL import Image

from conner.cli.plots import plots_cli
from conner.runs import plots
from conner.runs.reports import load_reports

F1 = {  # system -> seed -> (de, es, nl)
    "conner-vanilla": {0: (0.60, 0.68, 0.70), 1: (0.58, 0.66, 0.66), 2: (0.59, 0.68, 0.68)},
    "conner-google": {0: (0.61, 0.64, 0.69), 1: (0.60, 0.63, 0.65), 2: (0.62, 0.65, 0.68)},
}
SPANS = {
    "spans": 300,
    "illegal_target": 0.6,
    "illegal_translation": 0.5,
    "outside_target": 0.1,
    "outside_translation": 0.2,
    "argmax_agree": 0.4,
    "argmax_both_label": 0.3,
}


def write_reports(folder):
    folder.mkdir()
    for system, seeds in F1.items():
        for seed, values in seeds.items():
            report = {
                "system": system,
                "protocol": {
                    "seed": seed,
                    "max_steps": 300,
                    "encoder": "encoders/e5-small",
                    "alpha": 0.5 if system == "conner-google" else 0,
                },
                "results": {s: {"f": f} for s, f in zip(("de", "es", "nl"), values)}
                | {"en": {"f": 0.85}},
            }
            if system == "conner-google":
                report["spans"] = {
                    "softmax": {**SPANS, "argmax_agree": 0.4 + 0.1 * seed},
                    "crf": SPANS,
                }
            srsly.write_json(folder / f"{system}-seed{seed}.json", report)
    return folder


def write_run(folder, losses, alpha=None, spans=False, shares=None):
    """A run directory: losses.jsonl (SUMS since the previous evaluation)
    and, with alpha, a saved config whose conner weights use variables."""
    folder.mkdir(parents=True)
    records = []
    for step, terms in losses:
        record = {"epoch": 0, "step": step, "losses": terms, "score": 0.8}
        if spans:
            record["spans"] = {"softmax": {**SPANS, "illegal_target": step / 1000}, "crf": SPANS}
        if shares:
            record["shares"] = shares
        records.append(record)
    srsly.write_jsonl(folder / "losses.jsonl", records)
    if alpha is not None:
        (folder / "model-last").mkdir()
        (folder / "model-last" / "config.cfg").write_text(
            f"[consistency]\nalpha = {alpha}\nbeta = {2 * alpha}\n\n[components]\n\n[components.conner]\n"
            'factory = "conner"\nalpha = ${consistency.alpha}\nbeta = ${consistency.beta}\n',
            encoding="utf8",
        )
    return folder


def test_f1_bars_are_seed_means_with_sample_std_and_seed_points(tmp_path):
    reports = load_reports([write_reports(tmp_path / "reports")])
    columns, table = plots.f1_by_language(reports)
    assert columns == ["de", "es", "nl", "avg"]  # en is not a target language
    de = [100 * F1["conner-google"][s][0] for s in range(3)]
    bar = table["conner-google"]["de"]
    assert bar.points == pytest.approx(de)
    assert (bar.mean, bar.std) == pytest.approx((statistics.mean(de), statistics.stdev(de)))
    avg = [100 * sum(F1["conner-vanilla"][s]) / 3 for s in range(3)]
    assert table["conner-vanilla"]["avg"].points == pytest.approx(avg)

    fig = plots.f1_figure(reports)
    ax = fig.axes[0]
    heights = sorted(p.get_height() for p in ax.patches)
    expected = sorted(b.mean for row in table.values() for b in row.values())
    assert heights == pytest.approx(expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == columns
    assert (
        sum(len(c.get_offsets()) for c in ax.collections if c.get_offsets().shape[1:] == (2,))
        >= 2 * 3 * 4
    )
    assert "F1 (%)" in ax.get_ylabel()
    caption = " ".join(t.get_text() for t in fig.texts)
    assert (
        "max_steps 300" in caption
        and "training seeds 0,1,2" in caption
        and "differs by system: alpha" in caption
    )


def test_losses_are_per_step_means_weighted_by_the_run_config(tmp_path):
    run = write_run(
        tmp_path / "training" / "conner-google-seed0",
        [
            (0, {"conner_nll": 30.0, "conner_drop": 0.01, "conner_trans": 0.1}),
            (100, {"conner_nll": 600.0, "conner_drop": 2.0, "conner_trans": 10.0}),
            (200, {"conner_nll": 100.0, "conner_drop": 2.0, "conner_trans": 10.0}),
        ],
        alpha=0.25,
    )
    assert plots.run_weights(run) == (0.25, 0.5)
    (curve,) = plots.read_curves([tmp_path / "training"])
    assert curve.run == "conner-google-seed0" and curve.steps == [0, 100, 200]
    # Step 0 covers one step, later records the 100 steps since the previous one.
    assert curve.nll == pytest.approx([30.0, 6.0, 1.0])
    assert curve.drop == pytest.approx([0.0025, 0.005, 0.005])
    assert curve.trans == pytest.approx([0.05, 0.05, 0.05])
    assert curve.share[2] == pytest.approx(100 * 0.055 / 1.055)


def test_weights_fall_back_to_logged_shares_and_vanilla_has_none(tmp_path):
    # No saved config: shares nll 0.8, drop 0.05, trans 0.15 of the weighted total.
    shared = write_run(
        tmp_path / "no-config",
        [(0, {"conner_nll": 8.0, "conner_drop": 1.0, "conner_trans": 1.0})],
        shares={"nll": 0.8, "drop": 0.05, "trans": 0.15},
    )
    assert plots.run_weights(shared) is None
    (curve,) = plots.read_curves([shared])
    assert (curve.drop[0], curve.trans[0], curve.share[0]) == pytest.approx((0.5, 1.5, 20.0))
    vanilla = write_run(tmp_path / "vanilla", [(0, {"conner_nll": 8.0})])
    assert plots.read_curves([vanilla])[0].share == [0.0]
    # spaCy's own ner has no conner terms: left out.
    ner = write_run(tmp_path / "ner", [(0, {"ner": 8.0})])
    assert plots.read_curves([ner]) == []


def test_loss_figure_has_one_colour_per_system_and_labelled_axes(tmp_path):
    runs = tmp_path / "training"
    for seed in (0, 1):
        write_run(
            runs / f"conner-google-seed{seed}",
            [
                (0, {"conner_nll": 9.0, "conner_drop": 0.1, "conner_trans": 1.0}),
                (100, {"conner_nll": 300.0 + seed, "conner_drop": 1.0, "conner_trans": 10.0}),
            ],
            alpha=0.5,
        )
    write_run(
        runs / "conner-vanilla-seed0",
        [(0, {"conner_nll": 9.0}), (100, {"conner_nll": 290.0})],
        alpha=0,
    )
    curves = plots.read_curves([runs])
    fig = plots.loss_figure(curves, "Protocol: test")
    nll_ax, share_ax = fig.axes[0], fig.axes[3]
    assert len(nll_ax.lines) == 3 and nll_ax.get_yscale() == "log"
    colours = {
        line.get_label(): line.get_color()
        for line in nll_ax.lines
        if not line.get_label().startswith("_")
    }
    assert set(colours) == {"conner-google", "conner-vanilla"} and len(set(colours.values())) == 2
    # Both seeds of a system share its colour.
    assert len({line.get_color() for line in nll_ax.lines}) == 2
    assert list(nll_ax.lines[0].get_ydata()) == pytest.approx([9.0, 3.0])
    assert share_ax.get_ylabel() == "% of the loss" and all(
        ax.get_xlabel() == "training step" for ax in fig.axes[2:4]
    )
    assert "Protocol: test" in " ".join(t.get_text() for t in fig.texts)


def test_write_plots_makes_every_figure_the_inputs_allow(tmp_path):
    reports = load_reports([write_reports(tmp_path / "reports")])
    write_run(
        tmp_path / "training" / "conner-google",
        [
            (0, {"conner_nll": 9.0, "conner_drop": 0.1, "conner_trans": 1.0}),
            (100, {"conner_nll": 300.0, "conner_drop": 1.0, "conner_trans": 10.0}),
        ],
        alpha=0.5,
        spans=True,
    )
    out = tmp_path / "out"
    written = plots.write_plots(reports, [tmp_path / "training"], out, prefix="seeds_")
    names = sorted(p.name for p in written)
    assert names == [
        "seeds_f1_per_language.png",
        "seeds_loss_terms.png",
        "seeds_span_diagnostics.png",
        "seeds_span_diagnostics_steps.png",
    ]
    for path in written:
        pixels = numpy.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
        assert (pixels.min(axis=1) < 200).mean() > 0.01  # something is drawn
        assert len(numpy.unique(pixels, axis=0)) > 20

    # Without span statistics (and without logs) only the F1 plot is made.
    plain = [{k: v for k, v in r.items() if k != "spans"} for r in reports]
    assert [p.name for p in plots.write_plots(plain, [], tmp_path / "plain")] == [
        "f1_per_language.png"
    ]


def test_span_figures_show_the_logged_values(tmp_path):
    write_run(
        tmp_path / "conner", [(0, {"conner_nll": 9.0}), (100, {"conner_nll": 300.0})], spans=True
    )
    fig = plots.span_steps_figure(plots.read_curves([tmp_path / "conner"]))
    (line,) = fig.axes[0].lines  # softmax, P(illegal) on the target side
    assert list(line.get_xdata()) == [0, 100] and list(line.get_ydata()) == pytest.approx(
        [0.0, 0.1]
    )
    assert (
        plots.span_steps_figure(
            plots.read_curves([write_run(tmp_path / "plain", [(0, {"conner_nll": 1.0})])])
        )
        is None
    )

    reports = load_reports([write_reports(tmp_path / "reports")])
    fig = plots.span_report_figure(reports)
    softmax_ax = fig.axes[0]
    heights = [p.get_height() for p in softmax_ax.patches]
    # One system with spans, three statistics; agreement is the mean over seeds.
    assert heights == pytest.approx([0.6, 0.5, statistics.mean([0.4, 0.5, 0.6])])


def test_main_writes_into_the_output_dir(tmp_path):
    write_reports(tmp_path / "reports")
    plots_cli(
        [tmp_path / "reports", tmp_path / "missing.json"],
        logs=[tmp_path / "none"],
        output_dir=tmp_path / "png",
        prefix="",
        skip_empty=False,
    )
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "f1_per_language.png",
        "span_diagnostics.png",
    ]
    with pytest.raises(typer.BadParameter):
        plots_cli(
            [tmp_path / "missing.json"],
            logs=[],
            output_dir=tmp_path / "empty",
            prefix="",
            skip_empty=False,
        )
    plots_cli(
        [tmp_path / "missing.json"],
        logs=[],
        output_dir=tmp_path / "empty",
        prefix="",
        skip_empty=True,
    )
    assert not (tmp_path / "empty").exists()
