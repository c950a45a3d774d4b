"""Input shards: finding them, naming their outputs and reading them in chunks.

A shard is one file: a DocBin (``.spacy``), JSON lines (``.jsonl``, one
object a line with a string ``"text"``) or plain text (any other suffix, one
document a line). Each is read whole and cut into chunks of at most
``chunk_docs`` documents, the unit of work an engine hands to a worker; a
chunk travels as bytes (a DocBin, or the JSON of its records), so the same
chunk gives the same output on any engine.
"""

import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence

from spacy.tokens import DocBin
from spacy.vocab import Vocab

from ..files.docbins import read_docs
from ..inference.records import read_records

FORMATS = ("spacy", "jsonl", "text")
GLOB_CHARACTERS = "*?["


class ShardError(ValueError):
    """An input shard that cannot be read, or a set of shards that cannot be written."""


@dataclass(frozen=True)
class Shard:
    """An input file and the output file it becomes."""

    path: Path
    output: Path

    @property
    def name(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Chunk:
    """Documents ``first`` .. ``first + docs - 1`` of a shard, as bytes."""

    shard: str
    index: int
    count: int  # chunks in the shard
    first: int
    format: str
    data: bytes

    def to_row(self) -> Dict:
        return {
            "shard": self.shard,
            "chunk": self.index,
            "count": self.count,
            "first": self.first,
            "format": self.format,
            "data": self.data,
        }

    @classmethod
    def from_row(cls, row: Dict) -> "Chunk":
        return cls(
            str(row["shard"]),
            int(row["chunk"]),
            int(row["count"]),
            int(row["first"]),
            str(row["format"]),
            bytes(row["data"]),
        )


def is_pattern(text: str) -> bool:
    """Whether ``text`` is a glob pattern rather than a path."""
    return any(character in text for character in GLOB_CHARACTERS)


def find_shards(inputs: str) -> List[Path]:
    """The files of a folder (recursively, hidden files skipped) or of a glob
    pattern, sorted; :class:`ShardError` when there is none."""
    path = Path(inputs)
    if path.is_dir():
        found = [
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
    elif is_pattern(inputs):
        found = [Path(p) for p in glob.glob(inputs, recursive=True) if Path(p).is_file()]
    elif path.is_file():
        found = [path]
    else:
        raise ShardError(f"{inputs}: no such file, folder or matching pattern")
    if not found:
        raise ShardError(f"{inputs}: no input shard (an empty folder, or nothing matches)")
    return sorted(found)


def pattern_root(inputs: str) -> Path:
    """The folder that output names are taken relative to: the input folder,
    or a pattern's longest leading part without glob characters."""
    path = Path(inputs)
    if path.is_dir():
        return path
    if path.is_file():
        return path.parent
    parts: List[str] = []
    for part in path.parts:
        if is_pattern(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def plan_shards(inputs: str, output_dir: Path, suffix: str) -> List[Shard]:
    """Each input shard with its output: the same relative path under
    ``output_dir``, with ``suffix``. Two inputs that would write one output
    (``a.txt`` and ``a.jsonl``) are a :class:`ShardError` naming both."""
    root = pattern_root(inputs)
    shards: List[Shard] = []
    seen: Dict[Path, Path] = {}
    for path in find_shards(inputs):
        output = output_dir / path.relative_to(root).with_suffix(suffix)
        if output in seen:
            raise ShardError(f"{seen[output]} and {path} would both write {output}; rename one")
        if output.resolve() == path.resolve():
            raise ShardError(f"{path} would be overwritten by its own output; choose another -o")
        seen[output] = path
        shards.append(Shard(path, output))
    return shards


def shard_format(path: Path) -> str:
    """``spacy``, ``jsonl`` or ``text``, by suffix."""
    if path.suffix == ".spacy":
        return "spacy"
    if path.suffix == ".jsonl":
        return "jsonl"
    return "text"


def read_chunks(path: Path, chunk_docs: int, accepts: Sequence[str]) -> List[Chunk]:
    """The documents of the shard at ``path`` in chunks of ``chunk_docs``.

    :class:`ShardError` names the file (and line) of a shard that cannot be
    read, holds no document, is not in its suffix's format, or is in a
    format the job does not take (``accepts``).
    """
    format_ = shard_format(path)
    if format_ not in accepts:
        wanted = ", ".join(accepts)
        raise ShardError(f"{path}: a {format_} shard; this command reads {wanted} shards")
    try:
        if format_ == "spacy":
            docs = read_docs(path, Vocab())
            if not docs:
                raise ShardError(f"{path}: holds no document")
            data = [
                DocBin(docs=docs[i : i + chunk_docs], store_user_data=True).to_bytes()
                for i in range(0, len(docs), chunk_docs)
            ]
        else:
            records = read_records(path)
            data = [
                json.dumps(records[i : i + chunk_docs], ensure_ascii=False).encode("utf8")
                for i in range(0, len(records), chunk_docs)
            ]
    except UnicodeDecodeError as err:
        raise ShardError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ShardError(f"{path}: cannot be read ({err.strerror or err})") from None
    except ShardError:
        raise
    except ValueError as err:  # DocBinError, a bad JSON line, no document: all name the file
        raise ShardError(str(err)) from None
    firsts = [i * chunk_docs for i in range(len(data))]
    return [
        Chunk(str(path), index, len(data), first, format_, chunk)
        for index, (first, chunk) in enumerate(zip(firsts, data))
    ]
