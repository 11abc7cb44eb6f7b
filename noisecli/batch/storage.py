"""Where files live: local paths (the default) or fsspec URLs (s3://, gs://, memory://...).

Local paths use the OS directly and need no fsspec. URLs are read and written by whoever
processes the file (a cluster worker); an object appears only when complete, because it
is uploaded in one piece from a local temp file once that file is whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from noisecli.batch.atomic import atomic_output, write_bytes_atomic
from noisecli.errors import InputError, OutputError, UsageError

LOCAL_SCHEME = "file://"


def is_url(path: str) -> bool:
    """True for ``proto://...`` other than ``file://`` (which is a local path)."""
    return "://" in path and not path.startswith(LOCAL_SCHEME)


def local(path: str) -> str:
    """``file:///a/b`` -> ``/a/b``; anything else unchanged."""
    return path[len(LOCAL_SCHEME) :] if path.startswith(LOCAL_SCHEME) else path


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of a URL and the path inside it."""
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with the distributed extra
        raise UsageError(f"{url}: URLs need fsspec (pip install 'noisecli[distributed]')") from exc
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"{url}: {exc}") from None
    return fs, path


def full_url(fs: Any, path: str) -> str:
    """A path inside ``fs`` as a URL again."""
    return str(fs.unstrip_protocol(path))


def join(root: str, rel: str) -> str:
    """``root/rel`` for a local directory or a URL prefix."""
    if is_url(root):
        return root.rstrip("/") + "/" + rel
    return str(Path(root) / rel)


def exists(path: str) -> bool:
    if is_url(path):
        fs, inner = filesystem(path)
        return bool(fs.exists(inner))
    return os.path.lexists(path)


def read_url(url: str) -> bytes:
    """The whole object at ``url``; a missing one is an InputError."""
    fs, inner = filesystem(url)
    try:
        return bytes(fs.cat_file(inner))
    except FileNotFoundError:
        raise InputError("no such file") from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc}") from None


@contextmanager
def local_input(path: str) -> Iterator[str]:
    """A local file holding ``path``'s content: itself, or a temp copy of a URL."""
    if not is_url(path):
        yield path
        return
    fs, inner = filesystem(path)
    folder = tempfile.mkdtemp(prefix="noisecli-in-")
    try:
        copy = os.path.join(folder, os.path.basename(inner) or "input")
        try:
            fs.get_file(inner, copy)
        except FileNotFoundError:
            raise InputError("no such file") from None
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def output_file(dst: str) -> Iterator[Path]:
    """A local temp path to write; on success it becomes ``dst`` whole, else it is removed."""
    if not is_url(dst):
        with atomic_output(Path(dst)) as tmp:
            yield tmp
        return
    fs, inner = filesystem(dst)
    folder = tempfile.mkdtemp(prefix="noisecli-out-")
    try:
        tmp = Path(folder) / (os.path.basename(inner) or "output")
        yield tmp
        try:
            parent = inner.rsplit("/", 1)[0]
            if parent and parent != inner:
                fs.makedirs(parent, exist_ok=True)
            fs.put_file(str(tmp), inner)
        except OSError as exc:
            raise OutputError(f"cannot write {dst}: {exc}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_bytes(dst: str, data: bytes) -> None:
    """Write ``data`` to a local path atomically, or upload it to a URL in one piece."""
    if not is_url(dst):
        write_bytes_atomic(dst, data)
        return
    with output_file(dst) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
