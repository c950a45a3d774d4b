"""Reading the files of a saved pipeline with errors that name the file.

spaCy and spacy-transformers read a pipeline's files and hand their bytes
to the deserializers, so a damaged file surfaced as an error about the bytes
("Unpack failed: incomplete input", "index out of bounds on dimension 1")
or as a missing label set ("mismatched structure"), naming no file. Here
every file that ``conner`` and the transformer write (``cfg``, ``model``) is
checked as it is read: missing, empty, truncated or corrupt files raise
:class:`DamagedFileError`, one line that names the file and says what is
wrong, e.g. ``training/x/model-best/conner/model: truncated or corrupt
(Unpack failed: incomplete input); re-save or re-train the pipeline``.

The ``conner`` component reads its files through :func:`read_json_object`
and :func:`load_model_file`. The transformer component is spacy-transformers'
own; :mod:`conner.transformer.adapter` wraps its ``from_disk`` with these
checks so that its files are named too. Pipelines that load cleanly load
exactly as before.
"""

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, Union

import srsly

if TYPE_CHECKING:
    from spacy.language import Language

PathLike = Union[str, Path]
ADVICE = "re-save or re-train the pipeline"
DETAIL_CHARS = 200


class DamagedFileError(ValueError):
    """A file of a saved pipeline that is missing, empty, truncated or corrupt."""

    def __init__(self, path: PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; {ADVICE}")


def detail(err: BaseException) -> str:
    """The first line of an error, shortened: what goes in the parentheses."""
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 3] + "..."


def read_file(path: PathLike) -> bytes:
    """The bytes of ``path``; :class:`DamagedFileError` if it is missing or empty."""
    path = Path(path)
    if not path.exists():
        raise DamagedFileError(path, "missing")
    if path.is_dir():
        raise DamagedFileError(path, "a folder, not a file")
    data = path.read_bytes()
    if not data:
        raise DamagedFileError(path, "empty (0 bytes)")
    return data


def read_json_object(path: PathLike) -> Dict:
    """The JSON object (a dict) in ``path``, as ``srsly.read_json`` reads it."""
    data = read_file(path)
    try:
        value = srsly.json_loads(data.decode("utf8"))
    except ValueError as err:  # UnicodeDecodeError is one
        raise DamagedFileError(path, f"truncated or corrupt (not JSON: {detail(err)})") from None
    if not isinstance(value, dict):
        raise DamagedFileError(path, f"corrupt (JSON {type(value).__name__}, not an object)")
    return value


def _is_out_of_memory(err: BaseException) -> bool:
    # Memory errors say nothing about the file (torch's has no common base to import).
    return isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError"


@contextmanager
def naming_damaged(path: PathLike) -> Iterator[None]:
    """Turn an error raised while deserializing ``path``'s contents into a
    :class:`DamagedFileError` that names it."""
    try:
        yield
    except DamagedFileError:
        raise
    except Exception as err:
        if _is_out_of_memory(err):
            raise
        raise DamagedFileError(path, f"truncated or corrupt ({detail(err)})") from err


def load_model_file(model, path: PathLike) -> None:
    """``model.from_bytes`` of the file at ``path``, naming it if it is damaged."""
    data = read_file(path)
    with naming_damaged(path):
        model.from_bytes(data)


def load_pipeline(model: str) -> "Language":
    """``spacy.load(model)``, where a failure is one line: a
    :class:`DamagedFileError` naming the file, or a ValueError for a name
    that is neither an installed package nor a pipeline folder."""
    import spacy

    try:
        return spacy.load(model)
    except DamagedFileError:
        raise
    except OSError as err:  # spaCy's E050: neither a package nor a pipeline folder
        raise ValueError(" ".join(str(err).split())) from None
