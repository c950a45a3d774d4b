"""The conner settings: each choice is checked where a config is read, each
default is written once, and the batcher and the component cannot train
with different consistency settings.

All on a small CNN tok2vec (no transformer), so every test is quick.
"""

import inspect
import re
import shutil
from pathlib import Path

import pytest
import spacy
from spacy.cli.train import train
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.util import load_config, registry
from thinc.api import ConfigValidationError

from conner.component import ConnerTagger, ConsistencyWeights
from conner.consistency.batching import configure_consistency_batcher
from conner.consistency.layer import build_consistency_loss
from conner.settings import DEFAULTS
from conner.tagger.bioes_crf import ConstrainedCRF

ROOT = Path(__file__).resolve().parent.parent
SAVED_PIPELINE = ROOT / "tests" / "fixtures" / "pipeline_before_move"
TOK2VEC = {
    "@architectures": "spacy.HashEmbedCNN.v2",
    "width": 16,
    "depth": 1,
    "embed_size": 64,
    "window_size": 1,
    "maxout_pieces": 2,
    "subword_features": True,
    "pretrained_vectors": None,
}
MODEL = {"@architectures": "conner.ConnerTagger.v1", "tok2vec": TOK2VEC}
# Each choice, a value it refuses, and every value it allows (as users write them).
BAD_CHOICES = [
    ("divergence", "js", ["bi", "kl_unlabeled", "kl_translation"]),
    ("token_distribution", "argmax", ["softmax", "crf"]),
    ("transitions", "free", ["constrained", "learned"]),
    ("dropout_on", "both", ["labeled", "unlabeled"]),
    ("span_outcomes", "both", ["all", "legal"]),
]


def assert_names_the_choices(error: Exception, setting: str, value: str, allowed) -> None:
    message = str(error)
    assert setting in message and repr(value) in message, message
    assert all(repr(choice) in message for choice in allowed), message


# -- unknown choices fail where the config is read ----------------------------


def test_a_pipeline_saved_before_a_setting_existed_loads_with_its_default():
    assert "span_outcomes" not in (SAVED_PIPELINE / "config.cfg").read_text(encoding="utf8")
    nlp = spacy.load(SAVED_PIPELINE)
    assert nlp.get_pipe("conner").span_outcomes == DEFAULTS["span_outcomes"] == "all"


@pytest.mark.parametrize("setting,value,allowed", BAD_CHOICES)
def test_an_unknown_choice_fails_at_add_pipe(setting, value, allowed):
    nlp = spacy.blank("xx")
    with pytest.raises(ConfigValidationError) as info:
        nlp.add_pipe("conner", config={"model": MODEL, setting: value})
    assert_names_the_choices(info.value, setting, value, allowed)
    assert "conner" not in nlp.pipe_names


@pytest.mark.parametrize("setting,value,allowed", BAD_CHOICES)
def test_an_unknown_choice_in_a_saved_config_fails_at_spacy_load(tmp_path, setting, value, allowed):
    saved = shutil.copytree(SAVED_PIPELINE, tmp_path / "pipeline")
    config = saved / "config.cfg"
    text, n = re.subn(
        rf"(?m)^{setting} = .*$", f'{setting} = "{value}"', config.read_text(encoding="utf8")
    )
    if n == 0:  # a setting added after the pipeline was saved
        text, n = re.subn(r"(?m)^\[components\.conner\]\n", rf'\g<0>{setting} = "{value}"\n', text)
    assert n == 1
    config.write_text(text, encoding="utf8")
    with pytest.raises(ConfigValidationError) as info:
        spacy.load(saved)
    assert_names_the_choices(info.value, setting, value, allowed)


def test_the_batcher_refuses_an_unknown_dropout_on():
    batcher = {
        "@batchers": "conner.ConsistencyBatcher.v1",
        "labeled": {"@batchers": "spacy.batch_by_sequence.v1", "size": 2},
        "dropout_on": "both",
    }
    with pytest.raises(ConfigValidationError) as info:
        registry.resolve({"batcher": batcher})
    assert_names_the_choices(info.value, "dropout_on", "both", ["labeled", "unlabeled"])


# -- defaults are written once -----------------------------------------------


def test_the_factory_defaults_are_the_settings_defaults():
    default_config = dict(Language.get_factory_meta("conner").default_config)
    assert {key: default_config[key] for key in DEFAULTS} == DEFAULTS
    nlp = spacy.blank("xx")
    nlp.add_pipe("conner", config={"model": MODEL})
    filled = nlp.config["components"]["conner"]
    assert {key: filled[key] for key in DEFAULTS} == DEFAULTS


def test_configs_conner_cfg_states_the_defaults():
    """configs/conner.cfg writes every setting out for its readers; the values
    are the defaults, for the component and for the batcher."""
    config = load_config(ROOT / "configs" / "conner.cfg", interpolate=True)
    component = config["components"]["conner"]
    assert {key: component[key] for key in DEFAULTS} == DEFAULTS
    batcher = config["training"]["batcher"]
    assert {key: batcher[key] for key in ("alpha", "beta", "dropout_on")} == {
        key: DEFAULTS[key] for key in ("alpha", "beta", "dropout_on")
    }


def keyword_defaults(function, names):
    parameters = inspect.signature(function).parameters
    return {name: parameters[name].default for name in names}


def test_the_python_functions_take_the_same_defaults():
    """Called from Python, without a config, each function that takes a
    setting defaults to the factory's value."""
    weights = ConsistencyWeights()
    assert (weights.nll, weights.alpha, weights.beta) == (
        DEFAULTS["nll_weight"],
        DEFAULTS["alpha"],
        DEFAULTS["beta"],
    )
    choices = [
        "divergence",
        "dropout_on",
        "token_distribution",
        "transitions",
        "detach_reference",
        "span_outcomes",
    ]
    assert keyword_defaults(ConnerTagger.__init__, choices) == {
        key: DEFAULTS[key] for key in choices
    }
    batcher = ["alpha", "beta", "dropout_on"]
    assert keyword_defaults(configure_consistency_batcher, batcher) == {
        key: DEFAULTS[key] for key in batcher
    }
    layer = ["divergence", "token_distribution", "detach_reference", "span_outcomes"]
    assert keyword_defaults(build_consistency_loss, layer) == {key: DEFAULTS[key] for key in layer}
    assert keyword_defaults(ConstrainedCRF.__init__, ["transitions"]) == {
        "transitions": DEFAULTS["transitions"]
    }


# -- the batcher and the component agree ---------------------------------------

# A hand-written training config: [components.conner] and [training.batcher]
# each take alpha, beta and dropout_on, and nothing ties them together.
HAND_WRITTEN = """
[paths]
train = null
dev = null

[system]
seed = 0
gpu_allocator = null

[nlp]
lang = "xx"
pipeline = ["conner"]

[components]

[components.conner]
factory = "conner"
{component}

[components.conner.model]
@architectures = "conner.ConnerTagger.v1"

[components.conner.model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
width = 16
depth = 1
embed_size = 64
window_size = 1
maxout_pieces = 2
subword_features = true
pretrained_vectors = null

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}

[training]
seed = ${{system.seed}}
gpu_allocator = ${{system.gpu_allocator}}
max_steps = 2
eval_frequency = 1
dev_corpus = "corpora.dev"
train_corpus = "corpora.train"

[training.batcher]
@batchers = "conner.ConsistencyBatcher.v1"
{batcher}

[training.batcher.labeled]
@batchers = "spacy.batch_by_sequence.v1"
size = 2
"""


def write_corpus(path: Path) -> Path:
    nlp = spacy.blank("xx")
    db = DocBin()
    for words, ents in [
        (["Angela", "Merkel", "visited", "Paris", "."], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["Tim", "flew", "to", "London", "."], [(0, 1, "PER"), (3, 4, "LOC")]),
    ]:
        doc = Doc(nlp.vocab, words=words)
        doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
        db.add(doc)
    db.to_disk(path)
    return path


def train_hand_written(tmp_path: Path, component: str, batcher: str) -> None:
    config = tmp_path / "config.cfg"
    config.write_text(HAND_WRITTEN.format(component=component, batcher=batcher), encoding="utf8")
    corpus = str(write_corpus(tmp_path / "train.spacy"))
    train(config, overrides={"paths.train": corpus, "paths.dev": corpus})


@pytest.mark.parametrize(
    "component,batcher,setting,ours,theirs",
    [
        # Vanilla meant, but the batcher keeps its default alpha and adds twins.
        ("alpha = 0.0\nbeta = 0.0", "beta = 0.0", "alpha", "0.0", "0.5"),
        # alpha given to the batcher only: the component trains with its default.
        ("", "alpha = 0.0", "alpha", "0.5", "0.0"),
        ("beta = 0.25", "", "beta", "0.25", "0.5"),
        ('dropout_on = "unlabeled"', "", "dropout_on", "'unlabeled'", "'labeled'"),
    ],
)
def test_a_setting_given_to_one_side_only_fails_at_the_first_update(
    tmp_path, component, batcher, setting, ours, theirs
):
    with pytest.raises(ValueError) as info:
        train_hand_written(tmp_path, component, batcher)
    message = str(info.value)
    assert f"{setting} is {ours} in [components.conner] but {theirs} in the batcher" in message, (
        message
    )
    assert "conner.ConsistencyBatcher.v1" in message
    # Only the setting that differs is named.
    assert sum(f"{name} is" in message for name in ("alpha", "beta", "dropout_on")) == 1


def test_the_same_settings_on_both_sides_train(tmp_path):
    both = 'alpha = 0.25\nbeta = 0.0\ndropout_on = "labeled"'
    train_hand_written(tmp_path, both, both)
