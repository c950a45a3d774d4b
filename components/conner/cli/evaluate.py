"""Entity-level evaluation with seqeval on pre-tokenized test sets.

Each test DocBin is tagged by the pipeline on its own tokens (never
re-tokenized, never cut at a sub-word limit), then scored with seqeval's
conlleval-compatible micro P/R/F1 and per-type scores.

Options, test sets and pairs are checked before the pipeline is loaded: a
test set that is missing, not a DocBin or empty, and a broken pairs file,
stop the run with one line naming the file (exit 1). A test set without a
gold entity, or whose gold labels share none with the pipeline's (PERSON/GPE
against PER/LOC), scores 0 by construction: it is scored, with a warning.
"""

import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import srsly
import typer
from seqeval.metrics import (
    classification_report,
    f1_score,
    precision_score,
    recall_score,
)
from seqeval.metrics.sequence_labeling import get_entities
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from tqdm import tqdm

from ..consistency.diagnostics import pair_span_diagnostics, sample_pairs
from ..consistency.pairs import bare_copy
from ..files.docbins import read_doc_bin
from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..inference.pipelines import load_pipeline, pipe_by_words
from .app import app
from .options import (
    batch_size_option,
    gpu_id_option,
    int8_option,
    output_option,
    parse_test_sets,
    test_option,
)


def iob2_tags(doc: Doc) -> List[str]:
    """IOB2 tags of ``doc.ents`` (the unambiguous scheme seqeval reads)."""
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ != "O" and t.ent_iob_ else "O" for t in doc]


def tag_docs(nlp: Language, gold: List[Doc], batch_size: int) -> List[Doc]:
    """Run ``nlp`` over copies of the gold docs' words."""
    inputs = (bare_copy(doc, nlp.vocab) for doc in gold)
    return list(
        tqdm(pipe_by_words(nlp, inputs, batch_size), total=len(gold), unit="sent", leave=False)
    )


def score(gold: List[Doc], predicted: List[Doc]) -> Dict:
    """Micro P/R/F1 and per-type scores, as fractions."""
    y_true = [iob2_tags(d) for d in gold]
    y_pred = [iob2_tags(d) for d in predicted]
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    # Predictions per type, which precision alone does not give when it is 0.
    predicted_counts = Counter(label for tags in y_pred for label, _, _ in get_entities(tags))
    per_type = {
        label: {
            "p": row["precision"],
            "r": row["recall"],
            "f": row["f1-score"],
            "support": int(row["support"]),
            "predicted": predicted_counts[label],
        }
        for label, row in report.items()
        if not label.endswith(" avg")
    }
    return {
        "p": precision_score(y_true, y_pred, zero_division=0),
        "r": recall_score(y_true, y_pred, zero_division=0),
        "f": f1_score(y_true, y_pred, zero_division=0),
        "per_type": per_type,
        "sentences": len(gold),
    }


def training_protocol(nlp: Language) -> Dict:
    """What the pipeline was trained with, read from its own config, so that
    reports of the same system and protocol can be grouped across seeds."""
    config = nlp.config.interpolate()
    training = config.get("training", {})
    conner = config.get("components", {}).get("conner", {})
    return {
        "seed": config.get("system", {}).get("seed"),
        "max_steps": training.get("max_steps"),
        "pairs_per_batch": (training.get("batcher") or {}).get("pairs_per_batch"),
        "alpha": conner.get("alpha"),
        "beta": conner.get("beta"),
        "train": config.get("paths", {}).get("train"),
        "dev": config.get("paths", {}).get("dev"),
        "pairs": config.get("paths", {}).get("pairs"),
        "encoder": config.get("paths", {}).get("encoder"),
        "transitions": conner.get("transitions", "constrained"),
        "token_distribution": conner.get("token_distribution"),
        "freeze_embeddings": (config.get("initialize", {}).get("after_init") or {}).get("freeze"),
    }


def read_test_set(path: Path) -> DocBin:
    """The DocBin of a test set; ValueError naming it if it is missing, not a DocBin or empty."""
    doc_bin = read_doc_bin(path)
    if not len(doc_bin):
        raise ValueError(f"{path}: holds no sentence; nothing to evaluate")
    return doc_bin


def entity_labels(nlp: Language) -> Set[str]:
    """The labels of the pipeline's components that set ``doc.ents``."""
    labels: Set[str] = set()
    for name, pipe in nlp.pipeline:
        if "doc.ents" in nlp.get_pipe_meta(name).assigns:
            labels.update(getattr(pipe, "labels", ()) or ())
    return labels


def label_warning(
    name: str, path: Path, gold: List[Doc], predicted: List[Doc], model_labels: Set[str]
) -> Optional[str]:
    """Why a test set scores 0 whatever the model does, or None."""
    gold_labels = {ent.label_ for doc in gold for ent in doc.ents}
    if not gold_labels:
        return f"{name} ({path}) has no gold entity: its scores are 0 by construction"
    labels = model_labels | {ent.label_ for doc in predicted for ent in doc.ents}
    if not gold_labels & labels:
        return (
            f"the gold labels of {name} ({path}: {', '.join(sorted(gold_labels))}) and the model's "
            f"({', '.join(sorted(labels)) or 'none'}) do not overlap: its scores are 0 by construction"
        )
    return None


@app.command("evaluate")
def evaluate_cli(
    model: str = typer.Argument(..., help="Trained pipeline (path or package name)"),
    test_sets: List[str] = test_option(),
    output: Path = output_option("JSON report to write", dir_okay=False),
    system: str = typer.Option("", help="Name shown in the report (defaults to the model path)"),
    batch_size: int = batch_size_option(),
    gpu_id: int = gpu_id_option(),
    int8: bool = int8_option(),
    pairs: Optional[Path] = typer.Option(
        None, exists=True, help="Conjugate pairs: summarise span distributions on a sample"
    ),
    pairs_sample: int = typer.Option(300, min=1, help="Pairs in that fixed sample"),
) -> None:
    """Score a pipeline on gold test sets (entity-level micro F1, seqeval)."""
    model_path = Path(model)
    sets = parse_test_sets(test_sets)
    inputs = [path for _, path in sets] + [pairs, model_path if model_path.exists() else None]
    try:
        refuse_overwriting_inputs([output], inputs)
        doc_bins = {name: read_test_set(path) for name, path in sets}
        # Pair Docs are copied onto the pipeline's vocab when scored: any vocab reads them.
        pair_sample = sample_pairs(pairs, Vocab(), pairs_sample) if pairs is not None else None
        nlp = load_pipeline(model, gpu_id, int8)
    except (
        ValueError
    ) as err:  # OutputError, DamagedFileError, PairError, DocBinError are ValueErrors
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    model_labels = entity_labels(nlp)
    results: Dict[str, Dict] = {}
    for name, path in sets:
        gold = list(doc_bins[name].get_docs(nlp.vocab))
        start = time.perf_counter()
        predicted = tag_docs(nlp, gold, batch_size)
        results[name] = score(gold, predicted)
        results[name]["seconds"] = round(time.perf_counter() - start, 2)
        print(
            f"{system or model} {name}: F1 {100 * results[name]['f']:.2f} ({len(gold)} sentences)"
        )
        warning = label_warning(name, path, gold, predicted, model_labels)
        if warning is not None:
            typer.echo(f"Warning: {warning}", err=True)
    report: Dict[str, Any] = {
        "system": system or str(model),
        "model": str(model),
        "protocol": training_protocol(nlp),
        "results": results,
    }
    if pair_sample is not None and "conner" in nlp.pipe_names:
        report["spans"] = pair_span_diagnostics(nlp, pair_sample)
        report["spans"]["pairs"] = str(pairs)
        for source, stats in report["spans"].items():
            if isinstance(stats, dict) and stats.get("spans"):
                print(
                    f"{system or model} spans ({source}): P(illegal) {stats['illegal_target']:.3f}/"
                    f"{stats['illegal_translation']:.3f}, agree {stats['argmax_agree']:.3f}"
                )
    with atomic_output(output) as temporary:
        srsly.write_json(temporary, report)
