"""Reading DocBin files with errors that name the file.

``DocBin().from_disk`` of a text file, a truncated file or a folder fails
with zlib's or msgpack's words ("incorrect header check"), naming no file;
:func:`read_doc_bin` says which file is not a DocBin.
"""

from pathlib import Path
from typing import List, Union

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .saved_files import detail

PathLike = Union[str, Path]


class DocBinError(ValueError):
    """A file that is missing or is not a spaCy DocBin."""


def read_doc_bin(path: PathLike) -> DocBin:
    """The DocBin at ``path`` (user data kept); :class:`DocBinError` naming it otherwise."""
    path = Path(path)
    if not path.exists():
        raise DocBinError(f"{path}: no such file")
    if path.is_dir():
        raise DocBinError(f"{path}: a folder, not a DocBin file")
    try:
        return DocBin(store_user_data=True).from_disk(path)
    except Exception as err:  # zlib.error, msgpack's ValueErrors, KeyError of a foreign msgpack map
        if isinstance(err, MemoryError):
            raise
        # The first sentence: spaCy's E1014 goes on about converting v2 JSON.
        raise DocBinError(f"{path}: not a spaCy DocBin ({detail(err).split('. ')[0]})") from None


def read_docs(path: PathLike, vocab: Vocab) -> List[Doc]:
    """The Docs of the DocBin at ``path``; :class:`DocBinError` naming it if it is not one."""
    doc_bin = read_doc_bin(path)
    try:
        return list(doc_bin.get_docs(vocab))
    except Exception as err:
        if isinstance(err, MemoryError):
            raise
        raise DocBinError(f"{path}: a damaged spaCy DocBin ({detail(err)})") from None
