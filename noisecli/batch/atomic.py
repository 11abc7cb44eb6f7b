"""Atomic output: write to a temp file beside the destination, rename when complete."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from noisecli.errors import DiskFullError, OutputError

TEMP_SUFFIX = ".noisecli-tmp"
# a new temp file: never an existing one, not inherited by child processes
_CREATE = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def _temp_name(name: str, extension: str = "") -> str:
    return f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}{extension}"


def temp_path_for(dst: Path) -> Path:
    """A hidden, unique temp name in the destination's directory."""
    return dst.with_name(_temp_name(dst.name))


def is_temp_file(name: str) -> bool:
    """A temp file of ours: ``.<name>.<hex>.noisecli-tmp``, or the same with an extension
    (for a writer that picks its format by the name's extension)."""
    if not name.startswith("."):
        return False
    return name.endswith(TEMP_SUFFIX) or os.path.splitext(name)[0].endswith(TEMP_SUFFIX)


def _os_error(exc: OSError, dst: Path | str) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DiskFullError(f"no space left on device while writing {dst}")
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {dst}: {reason}")


@contextmanager
def _removed_on_failure(tmp: Path | str, dst: Path | str) -> Iterator[None]:
    """Delete ``tmp`` when the block fails; an OS error is raised as an ``OutputError``
    (a ``DiskFullError`` for a full disk) naming ``dst``."""
    try:
        yield
    except OSError as exc:
        _discard(tmp)
        raise _os_error(exc, dst) from exc
    except BaseException:
        _discard(tmp)
        raise


@contextmanager
def atomic_output(dst: Path) -> Iterator[Path]:
    """Yield a temp path to write; on success rename it to ``dst``, on any failure delete it.

    ``dst`` never exists in a partial state: readers see the old file or the whole new one.
    """
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, dst) from exc
    tmp = temp_path_for(dst)
    with _removed_on_failure(tmp, dst):
        yield tmp
        os.replace(tmp, dst)


def write_bytes_atomic(dst: Path | str, data: bytes) -> None:
    """Write ``data`` to ``dst`` atomically.

    :func:`atomic_output` for bytes in memory, at the cost of a few system calls: strings
    rather than Paths, and the folder made only when the temp file cannot be created.
    """
    target = os.fspath(dst)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, _temp_name(name))
    try:
        try:
            fd = os.open(tmp, _CREATE, 0o666)
        except FileNotFoundError:
            if not folder:
                raise
            os.makedirs(folder, exist_ok=True)
            fd = os.open(tmp, _CREATE, 0o666)
    except OSError as exc:
        raise _os_error(exc, target) from exc
    with _removed_on_failure(tmp, target):
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, target)


def write_file_atomic(dst: str, extension: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` to a hidden temp path beside ``dst`` ending in ``extension``, then
    rename it to ``dst``; the temp file is removed on any failure, which propagates. The
    folder is made if ``write`` fails and it is missing (then ``write`` runs again)."""
    folder, name = os.path.split(dst)
    tmp = os.path.join(folder, _temp_name(name, extension))
    with _removed_on_failure(tmp, dst):
        try:
            write(tmp)
        except Exception:
            _discard(tmp)
            if not folder or os.path.isdir(folder):
                raise
            os.makedirs(folder, exist_ok=True)
            write(tmp)
        os.replace(tmp, dst)


def _discard(path: Path | str) -> None:
    with suppress(OSError):  # already gone, or not ours to remove
        os.unlink(path)


def remove_stale_temp_files(root: Path) -> int:
    """Delete temp files left by a killed run under ``root``; return how many."""
    removed = 0
    if not root.is_dir():
        return 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if is_temp_file(name):
                _discard(Path(dirpath) / name)
                removed += 1
    return removed
