"""``conner package-check``: a wheel from ``spacy package`` installs, loads by name in a
fresh process and tags a German, a Spanish and a Dutch sentence."""

import subprocess
import sys
import zipfile

import pytest
from test_transformer_pipeline import build_nlp

from conner.cli.package_check import PROBE_SENTENCES, package_check_cli, requirements


@pytest.fixture(scope="module")
def package_dir(tiny_encoder, tmp_path_factory):
    """A wheel of a tiny transformer + conner pipeline, built as the project builds its own."""
    nlp, _ = build_nlp(tiny_encoder)
    nlp.meta.update({"name": "probe", "version": "0.0.1"})
    root = tmp_path_factory.mktemp("package")
    nlp.to_disk(root / "model")
    (root / "out").mkdir()
    command = [sys.executable, "-m", "spacy", "package", str(root / "model"), str(root / "out")]
    subprocess.run([*command, "--build", "wheel", "--force"], check=True, capture_output=True)
    return root / "out" / "xx_probe-0.0.1"


def test_the_wheel_requires_the_component_package(package_dir):
    wheel = next(package_dir.glob("dist/*.whl"))
    assert any(r.startswith("conner-spacy") for r in requirements(wheel))


def test_the_installed_wheel_tags_a_sentence_of_each_language(package_dir, capfd):
    package_check_cli(package_dir, min_entities=0)
    out = capfd.readouterr().out
    for lang in PROBE_SENTENCES:
        assert f"\n{lang}: [" in out
    assert "OK: xx_probe installs, loads with spacy.load, tags de, es, nl" in out


def test_too_few_entities_names_the_language_and_fails(package_dir, capfd):
    # No probe sentence has 14 tokens, so none can hold 14 entities; German is first.
    assert max(len(text.split()) for text in PROBE_SENTENCES.values()) < 14
    with pytest.raises(SystemExit, match="xx_probe from xx_probe-0.0.1-py3-none-any.whl failed"):
        package_check_cli(package_dir, min_entities=14)
    err = capfd.readouterr().err
    assert "de: " in err and "expected 14 or more" in err


def test_a_wheel_without_the_component_requirement_is_refused(tmp_path):
    dist = tmp_path / "xx_bare-0.1.0" / "dist"
    dist.mkdir(parents=True)
    with zipfile.ZipFile(dist / "xx_bare-0.1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("xx_bare-0.1.0.dist-info/METADATA", "Name: xx_bare\nRequires-Dist: spacy\n")
    with pytest.raises(SystemExit, match="does not require conner-spacy"):
        package_check_cli(tmp_path / "xx_bare-0.1.0", min_entities=1)
