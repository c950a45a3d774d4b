"""The protocol line of a report comes from what the reports record."""

from conner.cli.report import report_cli
from conner.runs.protocol_line import protocol_line


def _report(
    system,
    seed=0,
    pairs=None,
    alpha=0.0,
    beta=0.0,
    pairs_per_batch=4,
    max_steps=300,
    overrides=None,
):
    return {
        "system": system,
        "overrides": overrides or {},
        "protocol": {
            "seed": seed,
            "max_steps": max_steps,
            "pairs_per_batch": pairs_per_batch,
            "alpha": alpha,
            "beta": beta,
            "pairs": pairs,
            "encoder": "encoders/e5-small",
        },
        "results": {"es": {"f": 0.5, "per_type": {}}},
    }


def test_the_line_states_the_recorded_weights_not_a_fixed_string():
    reports = [
        _report("vanilla"),
        _report("conner", pairs="p", alpha=0.5, beta=0.5),
        _report("ner", pairs_per_batch=16),
    ]
    line = protocol_line(reports, "0.05 of English train")
    assert line == (
        "encoder encoders/e5-small; 300 steps; ConNER: 4 conjugate pairs a step, alpha = beta = 0.5; "
        "0.05 of English train; training seed 0"
    )
    # The vanilla systems' pairs_per_batch and zero weights are not ConNER's.
    assert "16" not in line


def test_systems_that_differ_are_named():
    reports = [
        _report("vanilla"),
        _report("vanilla-600", max_steps=600),
        _report("conner", pairs="p", alpha=0.5, beta=0.5),
        _report("conner-w0.125", pairs="p", alpha=0.125, beta=0.125),
        _report("conner-es16", pairs="q", alpha=0.5, beta=0.5, pairs_per_batch=16),
        _report("conner-ab", pairs="p", alpha=0.5, beta=0.25),
    ]
    line = protocol_line(reports)
    assert "300 steps (600 steps for vanilla-600)" in line
    assert "4 conjugate pairs a step (16 for conner-es16)" in line
    assert (
        "alpha = beta = 0.5 (0.125 for conner-w0.125; alpha = 0.5, beta = 0.25 for conner-ab)"
        in line
    )


def test_seeds_and_epochs():
    overrides = {"training.max_epochs": 10}
    reports = [
        _report(
            s,
            seed,
            pairs="p" if s != "vanilla" else None,
            alpha=0.03125,
            beta=0.03125,
            max_steps=0,
            pairs_per_batch=16,
            overrides=overrides,
        )
        for s in ("vanilla", "conner-de")
        for seed in (0, 1, 2)
    ]
    line = protocol_line(reports, "full English train", several_seeds=True)
    assert line == (
        "encoder encoders/e5-small; 10 epochs; ConNER: 16 conjugate pairs a step, alpha = beta = 0.03125; "
        "full English train; training seeds 0,1,2; mean ± sample std over seeds"
    )
    assert protocol_line(reports[:4]).endswith("training seeds 0,1,2 (0 for conner-de)")


def test_reports_without_a_protocol_give_the_note_alone():
    assert protocol_line([{"system": "x", "results": {}}], "smoke") == "smoke"


def test_report_main_writes_the_built_line(tmp_path):
    import srsly

    srsly.write_json(tmp_path / "v.json", _report("vanilla"))
    srsly.write_json(tmp_path / "c.json", _report("conner", pairs="p", alpha=0.5, beta=0.5))
    out = tmp_path / "r.md"
    report_cli(
        [tmp_path / "v.json", tmp_path / "c.json"],
        output=out,
        title="T",
        protocol="note",
        baseline="vanilla",
        by_set=None,
        goal=[],
        types=None,
    )
    assert out.read_text(encoding="utf8").splitlines()[2] == (
        "encoder encoders/e5-small; 300 steps; ConNER: 4 conjugate pairs a step, alpha = beta = 0.5; note; training seed 0"
    )


def test_the_hardware_a_report_names_is_in_the_line():
    reports = [
        {
            "system": "vanilla",
            "protocol": {"encoder": "e", "seed": 0, "max_steps": 3},
            "hardware": "NVIDIA H200",
        }
    ]
    assert protocol_line(reports).endswith("NVIDIA H200")
    assert "H200" not in protocol_line([{**reports[0], "hardware": None}])
