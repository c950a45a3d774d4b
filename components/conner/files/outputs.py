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

No temporary file outlives its run: it is removed when the write fails, and
when the process is stopped by SIGTERM or SIGHUP (a handler removes the
writes in progress, then the process dies of the signal as it would have).
SIGKILL cannot be caught, so each write first removes the temporary files
of earlier writes of the same output whose process is gone: the temporary
name ``.NAME.PID.XXXXXXXX.part`` holds the writer's process id.
"""

import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Dict, Iterable, Iterator, Optional, Set, Union

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
                raise OutputError(
                    f"output {name} is the input {input_name}: refusing to overwrite it"
                )
            if out in source.parents:
                raise OutputError(
                    f"output {name} holds the input {input_name}: refusing to replace it"
                )
            if source in out.parents:
                raise OutputError(
                    f"output {name} is inside the input {input_name}: refusing to write there"
                )
    for i, (name, out) in enumerate(outs):
        for other_name, other in outs[i + 1 :]:
            if _same_file(out, other):
                raise OutputError(f"outputs {name} and {other_name} are the same file")


# tempfile's random part: 8 of these characters.
_RANDOM = "[a-z0-9_]{8}"
# Signals whose default action ends the process and that a handler can catch.
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
# Temporary outputs (files or folders) being written by this process.
_LIVE: Set[Path] = set()
# What signal.getsignal returns and signal.signal takes.
SignalHandler = Union[Callable[[int, Optional[FrameType]], Any], int, signal.Handlers, None]
_PREVIOUS_HANDLERS: Dict[int, SignalHandler] = {}


def _temporary_sibling(path: Path, directory: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    prefix, suffix = f".{path.name}.{os.getpid()}.", ".part"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=path.parent))
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(handle)
    return Path(name)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(path: PathLike) -> None:
    """Remove the temporary siblings of ``path`` (``.NAME.PID.XXXXXXXX.part``,
    the ``.old`` folders of :func:`atomic_output_dir`) whose writer is no
    longer running, and those of older versions (``.NAME.part``,
    ``.NAME.XXXXXXXX.part``), which hold no process id."""
    path = Path(path)
    if not path.parent.is_dir():
        return
    pattern = re.compile(
        rf"\.{re.escape(path.name)}(?:\.(?:(?P<pid>\d+)\.)?{_RANDOM})?\.(?:part|old)"
    )
    for sibling in path.parent.iterdir():
        match = pattern.fullmatch(sibling.name)
        if match is None or (match["pid"] is not None and _running(int(match["pid"]))):
            continue
        _remove(sibling)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _on_stop_signal(signum: int, frame) -> None:
    """Remove the writes in progress, then stop as the signal would have."""
    for temporary in list(_LIVE):
        _remove(temporary)
    _LIVE.clear()
    previous = _PREVIOUS_HANDLERS.get(signum, signal.SIG_DFL)
    _restore_handlers()
    if callable(previous):
        previous(signum, frame)
    else:
        os.kill(os.getpid(), signum)


def _restore_handlers() -> None:
    for signum, previous in _PREVIOUS_HANDLERS.items():
        signal.signal(signum, previous)
    _PREVIOUS_HANDLERS.clear()


def _track(temporary: Path) -> None:
    """Remember a write in progress; the first one installs the signal handlers
    (only the main thread can, and a signal the process ignores stays ignored)."""
    _LIVE.add(temporary)
    if _PREVIOUS_HANDLERS or threading.current_thread() is not threading.main_thread():
        return
    for signum in _STOP_SIGNALS:
        previous = signal.getsignal(signum)
        if previous not in (signal.SIG_IGN, None):
            _PREVIOUS_HANDLERS[signum] = previous
            signal.signal(signum, _on_stop_signal)


def _untrack(temporary: Path) -> None:
    _LIVE.discard(temporary)
    if not _LIVE and threading.current_thread() is threading.main_thread():
        _restore_handlers()


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary file path; on success it becomes ``path`` in one rename.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    temporary = _temporary_sibling(path, directory=False)
    _track(temporary)
    try:
        yield temporary
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        _untrack(temporary)


@contextmanager
def atomic_output_dir(path: PathLike) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces the folder ``path``.

    A folder cannot be renamed onto a non-empty one, so the old folder is
    first moved aside and removed after the new one is in place: a kill in
    between leaves no output folder, never a mix of old and new files.
    """
    path = Path(path)
    temporary = _temporary_sibling(path, directory=True)
    _track(temporary)
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())  # mkdtemp makes it 0700
        old = None
        if path.exists():
            old = Path(
                tempfile.mkdtemp(
                    prefix=f".{path.name}.{os.getpid()}.", suffix=".old", dir=path.parent
                )
            )
            os.replace(path, old / path.name)
        os.replace(temporary, path)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    finally:
        _untrack(temporary)


def _umask() -> int:
    """The process umask (read by setting it and back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask
