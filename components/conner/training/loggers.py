"""A training logger that also records every loss term.

spaCy's console logger shows one loss per component. ConNER's component
reports the total and its terms (``conner_nll``, ``conner_drop``,
``conner_trans``); this logger prints the console table as usual and appends
each evaluation step's full loss dictionary to a JSONL file, so the scale of
the consistency terms against the NLL can be followed over training: the
summed terms since the last evaluation, each weighted term's share of the
loss, and (with ``diagnostic_pairs``) the span distributions of a fixed
sample of conjugate pairs (see :mod:`conner.consistency.diagnostics`).
"""

import sys
from pathlib import Path
from typing import IO, Callable, Dict, Optional, Tuple, cast

import srsly
from spacy.language import Language
from spacy.training.loggers import console_logger
from spacy.util import registry

from ..consistency.diagnostics import (
    ConnerPipe,
    loss_shares,
    pair_span_diagnostics,
    sample_pairs,
)


@registry.loggers("conner.ConsoleLogger.v1")
def console_logger_with_losses(
    progress_bar: bool = False,
    loss_log: Optional[Path] = None,
    diagnostic_pairs: Optional[Path] = None,
    diagnostic_size: int = 200,
    component: str = "conner",
) -> Callable[[Language, IO, IO], Tuple[Callable[[Optional[Dict]], None], Callable[[], None]]]:
    """spacy.ConsoleLogger.v1, plus all loss terms written to ``loss_log`` (JSONL).

    progress_bar (bool): spaCy's progress bar between evaluations.
    loss_log (Optional[Path]): the JSONL file (one record per evaluation).
    diagnostic_pairs (Optional[Path]): conjugate pairs (file or directory); a
        fixed sample of ``diagnostic_size`` of them is tagged at every
        evaluation and its span distributions summarised (mass on illegal
        and on O, target/translation argmax agreement).
    component (str): the conner component's name.
    """
    console = console_logger(progress_bar=progress_bar)

    def setup(nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr):
        log_console, finalize_console = console(nlp, stdout, stderr)
        if loss_log is not None:
            Path(loss_log).parent.mkdir(parents=True, exist_ok=True)
            Path(loss_log).write_text("", encoding="utf8")  # one file per run
        pairs = (
            sample_pairs(diagnostic_pairs, nlp.vocab, diagnostic_size) if diagnostic_pairs else []
        )

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
                if component in nlp.pipe_names:
                    # get_pipe is typed as a plain callable.
                    weights = cast(ConnerPipe, nlp.get_pipe(component)).weights
                    record["shares"] = loss_shares(
                        record["losses"], weights.alpha, weights.beta, component
                    )
                    if pairs:
                        record["spans"] = pair_span_diagnostics(nlp, pairs, component)
                        stdout.write(format_span_line(record["spans"]) + "\n")
                with Path(loss_log).open("a", encoding="utf8") as file_:
                    file_.write(srsly.json_dumps(record) + "\n")

        return log_step, finalize_console

    return setup


def format_span_line(spans: Dict[str, Dict[str, float]]) -> str:
    """One console line: mass on illegal / O and argmax agreement per distribution."""
    parts = []
    for source, stats in spans.items():
        if stats.get("spans"):
            parts.append(
                f"{source}: P(illegal) {stats['illegal_target']:.2f}/{stats['illegal_translation']:.2f}, "
                f"P(O) {stats['outside_target']:.2f}/{stats['outside_translation']:.2f}, "
                f"agree {stats['argmax_agree']:.2f}"
            )
    return "  spans on pairs (target/translation) " + "; ".join(parts)
