"""Long steps show progress: training between evaluations, conversion."""

import io
from pathlib import Path

import spacy
from spacy.util import load_config, registry

from conner.cli import convert as convert_script

ROOT = Path(__file__).resolve().parent.parent


class Terminal(io.StringIO):
    """stderr as in a terminal: spaCy's bar is off when stderr is no TTY."""

    def isatty(self) -> bool:
        return True


def test_training_config_draws_a_progress_bar_between_evaluations():
    logger_config = load_config(ROOT / "configs" / "conner.cfg")["training"]["logger"]
    assert (
        logger_config["@loggers"] == "conner.ConsoleLogger.v1"
        and logger_config["progress_bar"] is True
    )
    make_logger = registry.loggers.get(logger_config["@loggers"])(progress_bar=True)
    nlp = spacy.blank("xx")
    stdout, stderr = io.StringIO(), Terminal()
    log_step, finalize = make_logger(nlp, stdout, stderr)
    info = {
        "epoch": 0,
        "step": 0,
        "score": 0.5,
        "other_scores": {},
        "words": 10,
        "seconds": 1,
        "losses": {},
        "checkpoints": [],
    }
    log_step(info)  # evaluation at step 0 opens the bar
    for _ in range(3):
        log_step(None)  # training steps advance it
    finalize()
    # A tqdm bar over the steps to the next evaluation (eval_frequency, 200 by default).
    assert "Epoch 1:" in stderr.getvalue() and "/200 [" in stderr.getvalue()
    plain = io.StringIO()  # piped output (CI logs) gets no bar
    log_plain, _ = make_logger(nlp, io.StringIO(), plain)
    log_plain(info)
    assert plain.getvalue() == ""


def test_convert_shows_a_progress_bar(tmp_path, capsys):
    source = tmp_path / "tiny.conll"
    source.write_text("Anna B-PER\nlacht O\n\nBob B-PER\n\n", encoding="utf8")
    convert_script.convert(source, tmp_path / "tiny.spacy", lang="xx", scheme="iob2")
    assert "writing tiny.spacy" in capsys.readouterr().err
