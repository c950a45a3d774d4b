"""Convert a CoNLL NER file (or a member of a zip archive) to a spaCy DocBin.

One Doc per sentence, entities read as conlleval.pl reads them (see
``conner.prepare.conll``). ``--format`` reads other inputs: ``jsonl``
(BasqueGLUE's JSON lines), ``iob2`` (UniversalNER), ``text`` (one sentence
per line, tokenized by spaCy's tokenizer for ``--lang``; unlabeled only) or
``paragraphs`` (one paragraph per line, split into sentences; unlabeled only),
each a file or a folder of files (``conner.prepare.readers``).
``--label-map FROM=TO`` renames labels; ``iob2`` maps OTH to MISC by default.
``--unlabeled`` ignores the tag column entirely and leaves ``doc.ents``
unset, so the labels of files like ConNER's ``unlabel.txt`` can
never reach training. ``--fraction`` keeps a fixed-seed random sample of the
sentences (the paper's low-resource setting uses 5%). The report (sentences,
tokens, entities per label, repairs by kind, document markers dropped) is
printed and, with ``--report``, written as JSON. The language code is
checked before the file is read; a file with no sentence (empty, or only
``-DOCSTART-`` lines) stops with an error and writes nothing; outputs never
replace the input and appear only once complete (``conner.files.outputs``).

    conner convert assets/conll2002.zip -o corpus/es_test.spacy \
        --lang es --member esp.testb --report reports/es_test.json
"""

import codecs
import random
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import spacy
import srsly
import typer
from spacy.tokens import DocBin
from tqdm import tqdm
from wasabi import msg

from ..files.outputs import atomic_output, refuse_overwriting_inputs
from ..prepare.conll import SCHEMES, Sentence, sentence_to_doc
from ..prepare.languages import require_language
from ..prepare.readers import (
    FORMATS,
    label_map_for,
    no_sentence_error,
    read_sentences,
    relabel,
)
from .app import app
from .options import LANG_HELP, output_option


def sample_sentences(sentences: Sequence[Sentence], fraction: float, seed: int) -> List[Sentence]:
    """A fixed-seed random ``fraction`` of the sentences, in file order."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if fraction == 1.0:
        return list(sentences)
    # At least one sentence, so that a tiny fraction never writes an empty corpus.
    n_keep = max(1, round(fraction * len(sentences))) if sentences else 0
    keep = sorted(random.Random(seed).sample(range(len(sentences)), n_keep))
    return [sentences[i] for i in keep]


def summarize(sentences: Sequence[Sentence]) -> Dict:
    """Sentence, token and per-label entity counts of what is written."""
    entities: Dict[str, int] = {}
    for sentence in sentences:
        for _, _, label in sentence.spans or []:
            entities[label] = entities.get(label, 0) + 1
    return {
        "sentences": len(sentences),
        "tokens": sum(len(s.words) for s in sentences),
        "entities": dict(sorted(entities.items())),
    }


def write_docbin(sentences: Sequence[Sentence], lang: str, output_path: Path) -> None:
    """Write one Doc per sentence; user data is kept for the extension attributes."""
    vocab = spacy.blank(lang).vocab
    doc_bin = DocBin(store_user_data=True)
    # Large files (Dutch train, 200k+ tokens) take a while: show progress.
    for sentence in tqdm(sentences, desc=f"writing {output_path.name}", unit="sent", leave=False):
        doc_bin.add(sentence_to_doc(vocab, sentence))
    with atomic_output(output_path) as temporary:
        doc_bin.to_disk(temporary)


def convert(
    input_path: Path,
    output_path: Path,
    lang: str = "xx",
    scheme: str = "auto",
    member: Optional[str] = None,
    encoding: str = "utf-8",
    unlabeled: bool = False,
    fraction: float = 1.0,
    seed: int = 0,
    limit: int = 0,
    input_format: str = "conll",
    label_map: Sequence[str] = (),
) -> Dict:
    """Convert one file and return its report; a file without sentences is an error."""
    member = member or None  # an empty --member: a plain file (project.yml's target_member)
    mapping = label_map_for(input_format, label_map)  # checked before the input is read
    sentences, file_report = read_sentences(
        input_path,
        input_format,
        member=member,
        lang=lang,
        scheme=scheme.upper() if scheme != "auto" else scheme,
        encoding=encoding,
        labeled=not unlabeled,
    )
    if not sentences:
        raise no_sentence_error(input_path, member, file_report)
    mapping = {} if unlabeled else mapping
    sentences, relabeled = relabel(sentences, mapping)
    kept = sample_sentences(sentences, fraction, seed)
    if limit > 0:
        kept = kept[:limit]
    write_docbin(kept, lang, output_path)
    report: Dict[str, Any] = {
        "input": str(input_path),
        "member": member,
        "output": str(output_path),
        "lang": lang,
        "encoding": encoding,
        "labeled": not unlabeled,
    }
    # A CoNLL report keeps the keys it always had.
    if input_format != "conll":
        report["format"] = input_format
    if mapping:
        report["label_map"] = mapping
        report["relabeled"] = dict(sorted(relabeled.items()))
    report.update(
        fraction=fraction,
        seed=seed,
        limit=limit,
        read=file_report.to_dict(),
        written=summarize(kept),
    )
    return report


# Option checks: a bad value stops the run before the input is read.


def check_scheme(value: str) -> str:
    if value != "auto" and value.upper() not in SCHEMES:
        raise typer.BadParameter(f"expected auto or one of {', '.join(SCHEMES)}, got {value!r}")
    return value


def check_encoding(value: str) -> str:
    try:
        info = codecs.lookup(value)
    except (LookupError, ValueError):
        raise typer.BadParameter(f"unknown encoding {value!r}") from None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib: bytes-to-bytes codecs
        raise typer.BadParameter(f"{value!r} is not a text encoding")
    return value


def check_fraction(value: float) -> float:
    if not 0.0 < value <= 1.0:
        raise typer.BadParameter(f"must be in (0, 1], got {value}")
    return value


@app.command("convert")
def convert_cli(
    input_path: Path = typer.Argument(
        ...,
        exists=True,
        help="CoNLL file or zip archive; for the other formats a file or a folder of files",
    ),
    output_path: Path = output_option("Output .spacy file", dir_okay=False),
    lang: str = typer.Option("xx", "--lang", help=LANG_HELP),
    scheme: str = typer.Option(
        "auto", "--scheme", callback=check_scheme, help=f"auto or one of {', '.join(SCHEMES)}"
    ),
    member: Optional[str] = typer.Option(
        None, "--member", help="File inside a zip archive, e.g. esp.train"
    ),
    encoding: str = typer.Option(
        "utf-8", "--encoding", callback=check_encoding, help="e.g. utf-8 or latin-1"
    ),
    unlabeled: bool = typer.Option(False, "--unlabeled", help="Ignore tags; leave doc.ents unset"),
    fraction: float = typer.Option(
        1.0, "--fraction", callback=check_fraction, help="Fraction of sentences to keep, in (0, 1]"
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of the --fraction sample"),
    limit: int = typer.Option(
        0, "--limit", min=0, help="Keep at most this many sentences (0: all)"
    ),
    report_path: Optional[Path] = typer.Option(
        None, "--report", dir_okay=False, help="JSON report"
    ),
    input_format: str = typer.Option(
        "conll",
        "--format",
        help=f"Input format: {', '.join(FORMATS)} (text: one sentence a line; paragraphs: one paragraph a line, split into sentences; both with --unlabeled)",
    ),
    label_map: List[str] = typer.Option(
        [],
        "--label-map",
        help="FROM=TO, repeatable: rename entity labels (iob2 maps OTH=MISC unless a map is given; OTH=OTH keeps it)",
    ),
):
    """Convert CoNLL (or JSONL, IOB2, plain text) to a DocBin, one Doc per sentence."""
    try:
        # Checked before the file is read: a typo must not cost a long read.
        require_language(lang)
        refuse_overwriting_inputs([output_path, report_path], [input_path])
        report = convert(
            input_path,
            output_path,
            lang,
            scheme,
            member,
            encoding,
            unlabeled,
            fraction,
            seed,
            limit,
            input_format=input_format,
            label_map=label_map,
        )
    except ValueError as err:
        # Format errors name the file and line; a traceback adds nothing.
        msg.fail(str(err), exits=1)
    msg.good(
        f"Wrote {report['written']['sentences']} of {report['read']['sentences']} "
        f"sentences to {output_path}"
    )
    if not unlabeled and not report["written"]["entities"]:
        msg.warn(
            f"{report['written']['sentences']} sentences and not one entity: "
            "is the last column the tag? (--unlabeled for raw text)"
        )
    # Written before printing, so a closed stdout pipe cannot lose it.
    if report_path is not None:
        with atomic_output(report_path) as temporary:
            srsly.write_json(temporary, report)
    print(srsly.json_dumps(report, indent=2))
