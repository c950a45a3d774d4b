"""``conner model-card``: the meta JSON that spacy package turns into the package's README."""

import json

import pytest
import spacy
import srsly
from spacy.cli.package import package
from typer.testing import CliRunner

from conner.cli import app, model_card

LABELS = ["LOC", "MISC", "ORG", "PER"]


def fake_report(system: str, scores: dict) -> dict:
    """An evaluation report as ``conner evaluate`` writes it (fractions)."""
    results = {
        name: {
            "p": f - 0.01,
            "r": f + 0.01,
            "f": f,
            "per_type": {label: {"p": f, "r": f, "f": f, "support": 10} for label in LABELS},
            "sentences": 100 + i,
        }
        for i, (name, f) in enumerate(scores.items())
    }
    protocol = {
        "seed": 0,
        "max_steps": 300,
        "pairs_per_batch": 4,
        "alpha": 0.5,
        "beta": 0.5,
        "encoder": "encoders/e5-small",
    }
    return {
        "system": system,
        "model": f"training/{system}/model-best",
        "protocol": protocol,
        "results": results,
    }


def invoke(command: str, args):
    """``conner COMMAND ARGS`` in-process; returns the click result."""
    return CliRunner().invoke(app, [command, *args])


@pytest.fixture
def tiny_pipeline(tmp_path):
    """A saved pipeline whose meta.json lists the four CoNLL labels."""
    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": label, "pattern": label.lower()} for label in LABELS])
    path = tmp_path / "model-best"
    nlp.to_disk(path)
    return path


@pytest.fixture
def reports(tmp_path):
    paths = {}
    for system, scores in {
        "conner-google": {"de": 0.625, "es": 0.6744, "nl": 0.6912, "en": 0.8578},
        "conner-vanilla": {"de": 0.5582, "es": 0.6579, "nl": 0.6905, "en": 0.8508},
    }.items():
        paths[system] = tmp_path / f"{system}.json"
        srsly.write_json(paths[system], fake_report(system, scores))
    return paths


def test_the_card_holds_scores_labels_sources_and_licence(tiny_pipeline, reports):
    meta = model_card.build_meta(
        tiny_pipeline,
        reports["conner-google"],
        "conner_xx",
        "0.1.0",
        ["google-release"],
        train_fraction=0.05,
        compare=[reports["conner-vanilla"]],
        why="Shipped: the better ConNER pipeline.",
    )
    assert meta["performance"]["ents_f_de"] == 0.625 and meta["performance"]["ents_f_en"] == 0.8578
    assert meta["performance"]["ents_f_avg_de_es_nl"] == pytest.approx(
        (0.625 + 0.6744 + 0.6912) / 3, abs=1e-4
    )
    assert meta["performance"]["ents_per_type_es"]["PER"]["f"] == 0.6744
    assert (
        "German, Spanish and Dutch" in meta["description"]
        and "5% of CoNLL-2003" in meta["description"]
    )
    assert "LOC, MISC, ORG, PER" in meta["description"]
    names = " ".join(source["name"] for source in meta["sources"])
    for expected in (
        "CoNLL-2003",
        "CoNLL-2002",
        "multilingual-e5-small",
        "Google Translate",
        "(MIT)",
    ):
        assert expected in names
    assert all(
        source["url"].startswith("https://") and source["license"] for source in meta["sources"]
    )
    assert meta["license"] == model_card.RESEARCH_ONLY
    assert (
        "`conner-google` (this package) | 66.35" in meta["notes"]
        and "`conner-vanilla` | 63.55" in meta["notes"]
    )


def test_a_vanilla_card_says_it_has_no_consistency_training(tiny_pipeline, reports):
    report = srsly.read_json(reports["conner-vanilla"])
    report["protocol"].update(alpha=0, beta=0)
    srsly.write_json(reports["conner-vanilla"], report)
    meta = model_card.build_meta(
        tiny_pipeline, reports["conner-vanilla"], "vanilla_xx", "0.1.0", []
    )
    assert (
        "vanilla, no consistency training" in meta["description"]
        and "CoNLL-2003 train," in meta["description"]
    )
    assert not any("Google Translate" in source["name"] for source in meta["sources"])


def test_spacy_package_renders_the_card_into_the_package(tiny_pipeline, reports, tmp_path):
    meta_path = tmp_path / "card.json"
    result = invoke(
        "model-card",
        [
            str(tiny_pipeline),
            str(reports["conner-google"]),
            "--output",
            str(meta_path),
            "--name",
            "conner_xx",
            "--version",
            "0.1.0",
            "--translations",
            "google-release",
            "--train-fraction",
            "0.05",
            "--compare",
            str(reports["conner-vanilla"]),
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "packages"
    out.mkdir()
    package(
        tiny_pipeline, out, meta_path=meta_path, create_sdist=False, create_wheel=False, silent=True
    )
    main_path = out / "xx_conner_xx-0.1.0"
    readme = (main_path / "README.md").read_text(encoding="utf8")
    packaged = json.loads((main_path / "meta.json").read_text(encoding="utf8"))
    assert readme.startswith("Zero-shot named-entity recognition for German, Spanish and Dutch")
    assert f"| **License** | `{model_card.RESEARCH_ONLY}` |" in readme
    assert (
        "[CoNLL-2003 English" in readme
        and "(MIT)](https://huggingface.co/intfloat/multilingual-e5-small)" in readme
    )
    assert "`LOC`, `MISC`, `ORG`, `PER`" in readme  # spaCy's label scheme
    for row in (
        "| `ENTS_F_DE` | 62.50 |",
        "| `ENTS_F_ES` | 67.44 |",
        "| `ENTS_F_NL` | 69.12 |",
        "| `ENTS_F_AVG_DE_ES_NL` | 66.35 |",
    ):
        assert row in readme
    assert (
        "| `ENTS_F_DE` | German CoNLL-2003 test, from the ConNER release | 100 |" in readme
    )  # what each score is
    assert f"| **Author** | [{model_card.AUTHOR}]({model_card.PAPER}) |" in readme
    assert (
        packaged["performance"]["ents_f_nl"] == 0.6912
        and packaged["sources"] == srsly.read_json(meta_path)["sources"]
    )
    assert (
        "ents_f" not in packaged["performance"]
    )  # the English dev score of training is not mistaken for a test score


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda paths: paths["report"].write_text("{}", encoding="utf8"),
            "not an evaluation report",
        ),
        (lambda paths: (paths["model"] / "meta.json").unlink(), "no meta.json"),
        (lambda paths: paths["report"].unlink(), "no such evaluation report"),
    ],
)
def test_bad_inputs_stop_with_one_line_naming_the_file(
    tiny_pipeline, reports, tmp_path, change, message
):
    change({"model": tiny_pipeline, "report": reports["conner-google"]})
    result = invoke(
        "model-card",
        [
            str(tiny_pipeline),
            str(reports["conner-google"]),
            "--output",
            str(tmp_path / "card.json"),
            "--name",
            "conner_xx",
            "--version",
            "0.1.0",
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message in line and str(tmp_path) in line
    assert not (tmp_path / "card.json").exists()


def test_an_unknown_translation_source_is_refused_by_name(tiny_pipeline, reports):
    with pytest.raises(
        model_card.CardError, match="--translations: unknown babelfish; choose from google-release"
    ):
        model_card.build_meta(
            tiny_pipeline, reports["conner-google"], "conner_xx", "0.1.0", ["babelfish"]
        )
