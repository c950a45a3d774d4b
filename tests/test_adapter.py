"""conner.transformer.adapter: the only module that reads the internals of
spacy-transformers and Thinc, checked against the supported versions; and the
package's dependency ranges, the same in pyproject.toml and requirements.txt."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy
import tomllib
import torch
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from spacy_transformers import Transformer
from spacy_transformers.data_classes import HFObjects, TransformerData
from spacy_transformers.layers import TransformerListener
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.span_getters import configure_strided_spans
from thinc.api import Linear, Model, PyTorchGradScaler, PyTorchShim, PyTorchWrapper_v2

from conner.files.saved_files import DamagedFileError
from conner.transformer import adapter
from conner.transformer.adapter import (
    ShimTrainingState,
    UnsupportedVersionError,
    check_transformer_files,
    check_versions,
    forward_function,
    hf_objects,
    hf_shim,
    listener_outputs,
    name_damaged_transformer_files,
    restore_training_state,
    set_forward_function,
    set_hf_objects,
    shim_training_state,
    torch_module,
)
from conner.transformer.windows import create_transformer_model

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "components" / "conner"
ADAPTER = PACKAGE / "transformer" / "adapter.py"
# Private attributes of spacy-transformers and Thinc objects (Shim._model,
# HFShim._hfmodel, PyTorchShim's training state, Model._func, the listener's batch).
PRIVATE = {
    "_model",
    "_hfmodel",
    "_optimizer",
    "_grad_scaler",
    "_mixed_precision",
    "_func",
    "_outputs",
    "_batch_id",
}


# ---------------------------------------------------------------- versions


def with_versions(monkeypatch, **versions):
    """Make the adapter see ``versions`` (``spacy_transformers="1.5.0"``)."""
    real = adapter.installed_version
    fake = {name.replace("_", "-"): version for name, version in versions.items()}
    monkeypatch.setattr(adapter, "installed_version", lambda d: fake[d] if d in fake else real(d))


def test_the_installed_versions_are_supported():
    check_versions()


@pytest.mark.parametrize(
    "name,version",
    [("spacy-transformers", "1.5.0"), ("spacy-transformers", "1.3.4"), ("thinc", "8.4.0")],
)
def test_an_unsupported_version_names_itself_and_the_range(monkeypatch, name, version):
    with_versions(monkeypatch, **{name: version})
    with pytest.raises(UnsupportedVersionError) as info:
        check_versions()
    message = str(info.value)
    assert f"{name} {version} is installed" in message
    assert f"{name}{adapter.SUPPORTED[name]}" in message


def test_a_missing_library_is_named(monkeypatch):
    with_versions(monkeypatch, thinc=None)
    with pytest.raises(UnsupportedVersionError, match="thinc is not installed"):
        check_versions()


def test_a_pre_release_inside_the_range_is_supported(monkeypatch):
    with_versions(monkeypatch, spacy_transformers="1.4.1.dev0")
    check_versions()


def test_importing_the_package_fails_on_an_unsupported_version():
    # A fresh interpreter: the check runs when the adapter is first imported.
    code = (
        "from importlib import metadata\n"
        "real = metadata.version\n"
        "metadata.version = lambda d: '1.5.0' if d == 'spacy-transformers' else real(d)\n"
        "import conner.tagger.crf\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "components"), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "conner.transformer.adapter.UnsupportedVersionError: conner supports spacy-transformers>=1.4,<1.5"
    ), last
    assert "spacy-transformers 1.5.0 is installed" in last


# ---------------------------------------------------------------- Thinc


def test_torch_module_is_the_wrapped_module():
    module = torch.nn.Linear(2, 3)
    layer = PyTorchWrapper_v2(module)
    assert torch_module(layer) is module
    with pytest.raises(TypeError, match="wraps no PyTorch module"):
        torch_module(Linear(3, 2))


def test_training_state_is_read_and_restored():
    optimizer, scaler = object(), PyTorchGradScaler(enabled=False, init_scale=8.0)
    shim = PyTorchShim(
        torch.nn.Linear(2, 2), optimizer=optimizer, mixed_precision=True, grad_scaler=scaler
    )
    state = shim_training_state(shim)
    assert state == ShimTrainingState(optimizer, True, scaler)
    other = PyTorchShim(torch.nn.Linear(2, 2))
    assert shim_training_state(other).grad_scaler is not scaler
    restore_training_state(other, state)
    got = shim_training_state(other)
    assert got.optimizer is optimizer and got.mixed_precision is True and got.grad_scaler is scaler


def test_forward_function_is_wrapped_and_init_kept():
    calls = []

    def forward(model, X, is_train):
        return X * 2, lambda dY: dY * 2

    def init(model, X=None, Y=None):
        calls.append("init")

    model = Model("double", forward, init=init)
    assert forward_function(model) is forward

    def traced(model, X, is_train):
        calls.append("forward")
        return forward(model, X, is_train)

    set_forward_function(model, traced)
    assert forward_function(model) is traced
    model.initialize()
    assert model.predict(3) == 6
    assert calls == ["init", "forward"]


# ---------------------------------------------------------------- spacy-transformers


@pytest.fixture(scope="module")
def transformer_model(tiny_encoder):
    model = create_transformer_model(
        str(tiny_encoder), configure_strided_spans(window=128, stride=96), lean_load=False
    )
    model.initialize()
    return model


def encode(model, text="Angela Merkel besuchte Paris ."):
    """The encoder's last hidden states for ``text``."""
    return numpy.array(model.predict([spacy.blank("xx")(text)]).doc_data[0].tensors[0])


def test_hf_shim_and_its_objects(transformer_model):
    shim = hf_shim(transformer_model)
    assert isinstance(shim, HFShim)
    objects = hf_objects(shim)
    assert objects.transformer is transformer_model.transformer
    assert objects.tokenizer is transformer_model.tokenizer
    assert torch_module(transformer_model.layers[0]) is transformer_model.transformer
    with pytest.raises(TypeError, match="not a spacy-transformers TransformerModel"):
        hf_shim(Linear(3, 2))


def test_set_hf_objects_changes_what_the_model_runs(transformer_model):
    shim = hf_shim(transformer_model)
    old = hf_objects(shim)
    before = encode(transformer_model)
    config = old.transformer.config
    torch.manual_seed(1)
    other = type(old.transformer)(config).eval()
    try:
        set_hf_objects(shim, HFObjects(old.tokenizer, other, old.vocab_file_contents, {}, {}))
        assert (
            transformer_model.transformer is other
            and torch_module(transformer_model.layers[0]) is other
        )
        assert not numpy.allclose(encode(transformer_model), before)
        # Objects without a transformer (an uninitialized model's) leave the module.
        set_hf_objects(shim, HFObjects(None, None, None, {}, {}))
        assert torch_module(transformer_model.layers[0]) is other
    finally:
        set_hf_objects(shim, old)
    assert numpy.array_equal(encode(transformer_model), before)


def test_listener_outputs_are_those_of_the_batch():
    nlp = spacy.blank("en")
    docs = [nlp("Angela Merkel"), nlp("visited Paris")]
    listener = TransformerListener("transformer")
    assert listener_outputs(listener, docs) is None
    outputs = [TransformerData.empty(), TransformerData.empty()]
    listener.receive(TransformerListener.get_batch_id(docs), outputs, lambda d: d)
    assert listener_outputs(listener, docs) is outputs
    assert listener_outputs(listener, docs[:1]) is None
    assert listener_outputs(listener, [nlp("Tim Cook"), nlp("visited Paris")]) is None


def test_transformer_from_disk_is_wrapped_once():
    wrapped = Transformer.from_disk
    assert wrapped.names_damaged_files
    name_damaged_transformer_files()
    assert Transformer.from_disk is wrapped


def test_check_transformer_files_names_the_damaged_file(tmp_path):
    (tmp_path / "cfg").write_text("{}")
    (tmp_path / "model").write_bytes(b"\x93")
    read = []

    def from_disk(self, path, *, exclude=()):
        read.append(exclude)
        if "model" not in exclude:
            raise ValueError("Unpack failed: incomplete input")
        return self

    checked = check_transformer_files(from_disk)
    with pytest.raises(DamagedFileError) as info:
        checked("pipe", tmp_path)
    assert info.value.path == tmp_path / "model" and "Unpack failed" in info.value.problem
    assert checked("pipe", tmp_path, exclude=["model"]) == "pipe"
    (tmp_path / "model").unlink()
    with pytest.raises(DamagedFileError, match="model: missing"):
        checked("pipe", tmp_path)
    assert read == [(), ["model"]]


# ---------------------------------------------------------------- one place


def private_uses(source: str, filename: str = "<source>"):
    """``line: name`` for each private attribute (or getattr string) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and node.value in PRIVATE:
            found.append((node.lineno, repr(node.value)))
    return [f"{line}: {name}" for line, name in sorted(set(found))]


def test_the_walk_finds_private_attributes():
    source = (
        "m = layer.shims[0]._model\nh = getattr(shim, '_hfmodel')\nok = layer.shims[0].device\n"
    )
    assert private_uses(source) == ["1: _model", "2: '_hfmodel'"]


def test_only_the_adapter_names_private_attributes():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != ADAPTER:
            rel = path.relative_to(PACKAGE.parent)
            found += [f"{rel}:{use}" for use in private_uses(path.read_text(), str(path))]
    assert found == []


def test_the_adapter_uses_every_name_it_guards():
    used = {use.split(": ")[1] for use in private_uses(ADAPTER.read_text())}
    assert used == PRIVATE


# ---------------------------------------------------------------- dependency ranges


def pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        canonicalize_name(r.name): r.specifier for r in map(Requirement, project["dependencies"])
    }


def requirements_pins():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):  # -e ., -r other.txt
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement.specifier
    return pins


def test_requirements_pin_the_ranges_of_pyproject():
    declared, pinned = pyproject_dependencies(), requirements_pins()
    assert set(declared) <= set(pinned), "every dependency is installed by requirements.txt"
    differ = {}
    for name, spec in declared.items():
        if name == "torch":
            # requirements.txt pins torch to its CPU build, inside the range.
            (exact,) = pinned[name]
            assert exact.operator == "==" and spec.contains(exact.version), (str(spec), str(exact))
        elif pinned[name] != spec:
            differ[name] = (str(spec), str(pinned[name]))
    assert differ == {}


def test_the_adapter_supports_the_declared_ranges():
    declared = pyproject_dependencies()
    assert {name: declared[name] for name in adapter.SUPPORTED} == {
        name: SpecifierSet(spec) for name, spec in adapter.SUPPORTED.items()
    }
