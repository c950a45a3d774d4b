"""docs/CONFIG.md documents every registered function and setting as the code has them."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A plain script of the project, not part of the package: loaded from its file.
_SPEC = importlib.util.spec_from_file_location(
    "config_reference", ROOT / "scripts" / "config_reference.py"
)
config_reference = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(config_reference)
PAGE = (ROOT / "docs" / "CONFIG.md").read_text(encoding="utf8")


def test_the_page_agrees_with_the_code():
    assert config_reference.check(PAGE) == []


def test_every_entry_point_and_factory_setting_is_covered():
    names = config_reference.read_entry_points()
    assert {
        "conner",
        "conner.ConnerTagger.v1",
        "conner.TransformerModel.v1",
        "conner.ConsoleLogger.v1",
    } <= set(names)
    factory = {
        s.name for s in config_reference.settings("conner", config_reference.load(names["conner"]))
    }
    assert {
        "divergence",
        "nll_weight",
        "detach_reference",
        "model",
        "scorer",
        "alpha",
        "beta",
        "dropout_on",
        "token_distribution",
        "transitions",
        "span_outcomes",
    } == factory
    inherited = {
        s.name
        for s in config_reference.settings(
            "conner.TransformerModel.v1", config_reference.load(names["conner.TransformerModel.v1"])
        )
    }
    assert {
        "name",
        "get_spans",
        "tokenizer_config",
        "transformer_config",
        "mixed_precision",
        "grad_scaler_config",
    } < inherited


@pytest.mark.parametrize(
    "old, new, problem",
    [
        ("| `detach_reference` |", "| `detach_ref` |", "conner: no row for 'detach_reference'"),
        (
            'Defaults to `"constrained"`.',
            'Defaults to `"learned"`.',
            "'transitions' should say 'Defaults to `\"constrained\"`.'",
        ),
        (
            "~~Optional[Path]~~ |\n| `seed`",
            "~~Path~~ |\n| `seed`",
            "'path' should end in ~~Optional[Path]~~",
        ),
        (
            "### `conner.ConsoleLogger.v1`",
            "### Logger",
            "no section '### `conner.ConsoleLogger.v1`'",
        ),
        (
            "| `consistency.beta` |",
            "| `beta` |",
            "configs/conner.cfg: no row for 'consistency.beta'",
        ),
        (
            "| `freeze` | Freeze them",
            "| `freeze` | Freeze them\n| `thaw` | x. |",
            "the page lists 'thaw'",
        ),
    ],
)
def test_the_check_finds_a_page_that_drifted(old, new, problem):
    assert PAGE.count(old) == 1
    problems = config_reference.check(PAGE.replace(old, new))
    assert any(problem in p for p in problems), problems


def test_a_choice_lists_its_values_as_a_config_writes_them():
    rows = config_reference.table_rows(config_reference.section_of(PAGE, "### `conner` factory"))
    assert rows["token_distribution"].endswith('~~Literal["softmax", "crf"]~~ ')
    assert rows["divergence"].endswith('~~Literal["bi", "kl_unlabeled", "kl_translation"]~~ ')


def test_update_rewrites_types_and_defaults_and_keeps_descriptions():
    row = PAGE[PAGE.index("| `transitions` |") :]
    row = row[: row.index("\n")]
    drifted = PAGE.replace(
        row,
        row.replace('Defaults to `"constrained"`.', 'Defaults to `"learned"`.').replace(
            '~~Literal["constrained", "learned"]~~', "~~str~~"
        ),
    )
    batcher_row = "| `pairs_per_batch` | Pairs added to each labeled batch (the paper: 16 per 16 labeled sentences). Defaults to `16`. ~~int~~ |"
    drifted = drifted.replace(batcher_row, batcher_row.replace(" Defaults to `16`.", ""))
    assert drifted != PAGE and config_reference.check(drifted) != []
    assert config_reference.update(drifted) == PAGE
    assert config_reference.update(PAGE) == PAGE
