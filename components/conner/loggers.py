"""A training logger that also records every loss term.

spaCy's console logger shows one loss per component. ConNER's component
reports the total and its terms (``conner_nll``, ``conner_drop``,
``conner_trans``); this logger prints the console table as usual and appends
each evaluation step's full loss dictionary to a JSONL file, so the scale of
the consistency terms against the NLL can be followed over training.
"""
import sys
from pathlib import Path
from typing import IO, Callable, Dict, Optional, Tuple

import srsly
from spacy.language import Language
from spacy.training.loggers import console_logger
from spacy.util import registry


@registry.loggers("conner.ConsoleLogger.v1")
def console_logger_with_losses(
    progress_bar: bool = False, loss_log: Optional[Path] = None
) -> Callable[[Language, IO, IO], Tuple[Callable[[Optional[Dict]], None], Callable[[], None]]]:
    """spacy.ConsoleLogger.v1, plus all loss terms written to ``loss_log`` (JSONL)."""
    console = console_logger(progress_bar=progress_bar)

    def setup(nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr):
        log_console, finalize_console = console(nlp, stdout, stderr)
        if loss_log is not None:
            Path(loss_log).parent.mkdir(parents=True, exist_ok=True)
            Path(loss_log).write_text("", encoding="utf8")  # one file per run

        def log_step(info: Optional[Dict]) -> None:
            log_console(info)
            if info is not None and loss_log is not None:
                record = {
                    "epoch": info["epoch"],
                    "step": info["step"],
                    "losses": {k: float(v) for k, v in info["losses"].items()},
                    "score": float(info["score"]),
                    "words": info.get("words"),
                }
                with Path(loss_log).open("a", encoding="utf8") as file_:
                    file_.write(srsly.json_dumps(record) + "\n")

        return log_step, finalize_console

    return setup
