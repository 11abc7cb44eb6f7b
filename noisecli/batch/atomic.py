"""Atomic output: write to a temp file beside the destination, rename when complete."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from noisecli.errors import DiskFullError, OutputError

TEMP_SUFFIX = ".noisecli-tmp"


def temp_path_for(dst: Path) -> Path:
    """A hidden, unique temp name in the destination's directory."""
    return dst.with_name(f".{dst.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def is_temp_file(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _os_error(exc: OSError, dst: Path) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DiskFullError(f"no space left on device while writing {dst}")
    reason = exc.strerror or str(exc)
    return OutputError(f"cannot write {dst}: {reason}")


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
    try:
        yield tmp
        os.replace(tmp, dst)
    except OSError as exc:
        _discard(tmp)
        raise _os_error(exc, dst) from exc
    except BaseException:
        _discard(tmp)
        raise


def write_bytes_atomic(dst: Path, data: bytes) -> None:
    """Write ``data`` to ``dst`` atomically."""
    with atomic_output(dst) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


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
