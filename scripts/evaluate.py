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
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import spacy
import srsly
import typer
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab
from tqdm import tqdm

from conner.consistency.diagnostics import pair_span_diagnostics, sample_pairs
from conner.files.docbins import read_doc_bin
from conner.files.outputs import atomic_output, refuse_overwriting_inputs
from conner.consistency.pairs import bare_copy
from conner.files import saved_files


def iob2_tags(doc: Doc) -> List[str]:
    """IOB2 tags of ``doc.ents`` (the unambiguous scheme seqeval reads)."""
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ != "O" and t.ent_iob_ else "O" for t in doc]


def tag_docs(nlp: Language, gold: List[Doc], batch_size: int) -> List[Doc]:
    """Run ``nlp`` over copies of the gold docs' words."""
    inputs = (bare_copy(doc, nlp.vocab) for doc in gold)
    return list(tqdm(nlp.pipe(inputs, batch_size=batch_size), total=len(gold), unit="sent", leave=False))


def score(gold: List[Doc], predicted: List[Doc]) -> Dict:
    """Micro P/R/F1 and per-type scores, as fractions."""
    y_true = [iob2_tags(d) for d in gold]
    y_pred = [iob2_tags(d) for d in predicted]
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    per_type = {
        label: {"p": row["precision"], "r": row["recall"], "f": row["f1-score"], "support": int(row["support"])}
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


def parse_test_sets(specs: Iterable[str]) -> List[Tuple[str, Path]]:
    """``NAME=PATH`` pairs, e.g. ``de=corpus/de_test.spacy``."""
    pairs = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"expected NAME=PATH, got {spec!r}", param_hint="'TEST_SETS...'")
        pairs.append((name, Path(path)))
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise typer.BadParameter(f"each test set needs its own name; {', '.join(repeated)} repeated",
                                 param_hint="'TEST_SETS...'")
    return pairs


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


def label_warning(name: str, path: Path, gold: List[Doc], predicted: List[Doc], model_labels: Set[str]) -> Optional[str]:
    """Why a test set scores 0 whatever the model does, or None."""
    gold_labels = {ent.label_ for doc in gold for ent in doc.ents}
    if not gold_labels:
        return f"{name} ({path}) has no gold entity: its scores are 0 by construction"
    labels = model_labels | {ent.label_ for doc in predicted for ent in doc.ents}
    if not gold_labels & labels:
        return (f"the gold labels of {name} ({path}: {', '.join(sorted(gold_labels))}) and the model's "
                f"({', '.join(sorted(labels)) or 'none'}) do not overlap: its scores are 0 by construction")
    return None


def load_pipeline(model: str, gpu_id: int) -> Language:
    """``spacy.load(model)`` on ``gpu_id``; a one-line ValueError where that fails."""
    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:  # no GPU (ValueError), or no such device (CUDA's own errors)
            raise ValueError(f"--gpu-id {gpu_id}: {' '.join(str(err).split())}") from None
    return saved_files.load_pipeline(model)


def main(
    model: str = typer.Argument(..., help="Trained pipeline (path or package name)"),
    test_sets: List[str] = typer.Argument(..., help="NAME=PATH.spacy, one per test set"),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="JSON file to write"),
    system: str = typer.Option("", help="Name shown in the report (defaults to the model path)"),
    batch_size: int = typer.Option(1000, min=1, help="nlp.pipe batch size: large, so that the transformer can group sentences by length"),
    gpu_id: int = typer.Option(-1, min=-1, help="GPU id, -1 for CPU"),
    pairs: Optional[Path] = typer.Option(None, exists=True, help="Conjugate pairs: summarise span distributions on a sample"),
    pairs_sample: int = typer.Option(300, min=1, help="Pairs in that fixed sample"),
) -> None:
    model_path = Path(model)
    sets = parse_test_sets(test_sets)
    inputs = [path for _, path in sets] + [pairs, model_path if model_path.exists() else None]
    try:
        refuse_overwriting_inputs([output], inputs)
        doc_bins = {name: read_test_set(path) for name, path in sets}
        # Pair Docs are copied onto the pipeline's vocab when scored: any vocab reads them.
        pair_sample = sample_pairs(pairs, Vocab(), pairs_sample) if pairs is not None else None
        nlp = load_pipeline(model, gpu_id)
    except ValueError as err:  # OutputError, DamagedFileError, PairError, DocBinError are ValueErrors
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1)
    model_labels = entity_labels(nlp)
    results: Dict[str, Dict] = {}
    for name, path in sets:
        gold = list(doc_bins[name].get_docs(nlp.vocab))
        start = time.perf_counter()
        predicted = tag_docs(nlp, gold, batch_size)
        results[name] = score(gold, predicted)
        results[name]["seconds"] = round(time.perf_counter() - start, 2)
        print(f"{system or model} {name}: F1 {100 * results[name]['f']:.2f} ({len(gold)} sentences)")
        warning = label_warning(name, path, gold, predicted, model_labels)
        if warning is not None:
            typer.echo(f"Warning: {warning}", err=True)
    report = {"system": system or str(model), "model": str(model), "protocol": training_protocol(nlp), "results": results}
    if pair_sample is not None and "conner" in nlp.pipe_names:
        report["spans"] = pair_span_diagnostics(nlp, pair_sample)
        report["spans"]["pairs"] = str(pairs)
        for source, stats in report["spans"].items():
            if isinstance(stats, dict) and stats.get("spans"):
                print(f"{system or model} spans ({source}): P(illegal) {stats['illegal_target']:.3f}/"
                      f"{stats['illegal_translation']:.3f}, agree {stats['argmax_agree']:.3f}")
    with atomic_output(output) as temporary:
        srsly.write_json(temporary, report)


if __name__ == "__main__":
    typer.run(main)
