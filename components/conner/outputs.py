"""Output files that never replace an input and never appear half-written.

Every script that writes goes through this module:

* :func:`refuse_overwriting_inputs` stops, before any work, when an output
  path is an input (after resolving links and relative paths), a folder
  that holds one, or lies inside an input folder such as a model
  (otherwise ``convert.py s.txt s.txt`` would replace its source);
* :func:`atomic_output` and :func:`atomic_output_dir` write into a hidden
  temporary sibling and rename it onto the output only once it is complete
  (``os.replace``), so a run that fails or is killed (SIGKILL included)
  leaves the previous output, or none, never a truncated one. The temporary
  name ends in ``.part``, so readers that pool ``*.spacy`` files skip it.
"""
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

PathLike = Union[str, Path]


class OutputError(ValueError):
    """An output path that would destroy an input."""


def _resolved(path: PathLike) -> Path:
    return Path(path).expanduser().resolve()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a == b or os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:  # one of them does not exist
        return False


def refuse_overwriting_inputs(
    outputs: Iterable[Optional[PathLike]], inputs: Iterable[Optional[PathLike]]
) -> None:
    """Raise :class:`OutputError` if an output is an input, a folder above one, or inside one.

    ``None`` entries (optional paths not given) are ignored. Outputs are also
    checked against each other: two outputs on one path would lose one.
    """
    outs = [(o, _resolved(o)) for o in outputs if o is not None]
    ins = [(i, _resolved(i)) for i in inputs if i is not None]
    for name, out in outs:
        for input_name, source in ins:
            if _same_file(out, source):
                raise OutputError(f"output {name} is the input {input_name}: refusing to overwrite it")
            if out in source.parents:
                raise OutputError(f"output {name} holds the input {input_name}: refusing to replace it")
            if source in out.parents:
                raise OutputError(f"output {name} is inside the input {input_name}: refusing to write there")
    for i, (name, out) in enumerate(outs):
        for other_name, other in outs[i + 1 :]:
            if _same_file(out, other):
                raise OutputError(f"outputs {name} and {other_name} are the same file")


def _temporary_sibling(path: Path, directory: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = f".{path.name}.", ".part"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=path.parent))
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(handle)
    return Path(name)


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary file path; on success it becomes ``path`` in one rename.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    temporary = _temporary_sibling(path, directory=False)
    try:
        yield temporary
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_output_dir(path: PathLike) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces the folder ``path``.

    A folder cannot be renamed onto a non-empty one, so the old folder is
    first moved aside and removed after the new one is in place: a kill in
    between leaves no output folder, never a mix of old and new files.
    """
    path = Path(path)
    temporary = _temporary_sibling(path, directory=True)
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())  # mkdtemp makes it 0700
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(temporary, path)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _umask() -> int:
    """The process umask (read by setting it and back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
