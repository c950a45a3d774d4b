import io

import spacy
import srsly

from conner.training.loggers import console_logger_with_losses


def test_all_loss_terms_are_logged_at_each_evaluation(tmp_path):
    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    path = tmp_path / "logs" / "losses.jsonl"
    log_step, finalize = console_logger_with_losses(loss_log=path)(
        nlp, io.StringIO(), io.StringIO()
    )
    info = {
        "epoch": 0,
        "step": 100,
        "score": 0.5,
        "other_scores": {},
        "words": 1000,
        "seconds": 1,
        "losses": {"sentencizer": 3.0, "conner_nll": 2.0, "conner_drop": 0.1, "conner_trans": 0.05},
        "checkpoints": [],
    }
    log_step(info)
    log_step(None)  # steps between evaluations write nothing
    log_step({**info, "step": 200})
    finalize()
    records = list(srsly.read_jsonl(path))
    assert [r["step"] for r in records] == [100, 200]
    assert records[0]["losses"] == {
        "sentencizer": 3.0,
        "conner_nll": 2.0,
        "conner_drop": 0.1,
        "conner_trans": 0.05,
    }
