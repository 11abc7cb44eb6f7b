"""Atomic writes of bytes: whole files or none, folders made on demand, clear errors."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from noisecli.batch import atomic
from noisecli.batch.atomic import TEMP_SUFFIX, write_bytes_atomic
from noisecli.batch.storage import write_bytes
from noisecli.errors import DiskFullError, OutputError


def _names(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_bytes_land_whole_in_new_folders(tmp_path: Path) -> None:
    write_bytes(str(tmp_path / "a" / "b" / "x.png"), b"1234" * 10000)
    write_bytes_atomic(tmp_path / "y.png", memoryview(b"abc").tobytes())
    assert (tmp_path / "a/b/x.png").read_bytes() == b"1234" * 10000
    assert (tmp_path / "y.png").read_bytes() == b"abc"
    write_bytes(str(tmp_path / "y.png"), b"")  # replaced, even by nothing
    assert (tmp_path / "y.png").read_bytes() == b""
    assert _names(tmp_path) == ["a", "a/b", "a/b/x.png", "y.png"]


def test_a_relative_name_is_written_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_bytes_atomic("plain.png", b"x")
    assert _names(tmp_path) == ["plain.png"]


def test_failures_leave_no_temp_file_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OutputError, match=r"cannot write .*file/x\.png"):
        write_bytes(str(tmp_path / "file" / "x.png"), b"x")
    (tmp_path / "dir" / "inside").mkdir(parents=True)  # rename over a non-empty folder fails
    with pytest.raises(OutputError, match=r"cannot write .*dir"):
        write_bytes(str(tmp_path / "dir"), b"x")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "write", full)
    with pytest.raises(DiskFullError, match="no space left"):
        write_bytes(str(tmp_path / "new.png"), b"x")
    monkeypatch.undo()
    assert not [n for n in _names(tmp_path) if n.endswith(TEMP_SUFFIX)]
    assert _names(tmp_path) == ["dir", "dir/inside", "file"]


def test_an_interrupted_write_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_bytes(str(tmp_path / "x.png"), b"x")
    assert os.listdir(tmp_path) == []


def test_temp_files_that_keep_an_extension_are_ours(tmp_path: Path) -> None:
    """A writer that picks its format by extension writes ``.x.png.<hex>.noisecli-tmp.png``;
    such files, like the plain ones, are removed as stale and never planned as inputs."""
    names = [".x.png.1a2b3c4d.noisecli-tmp.png", ".y.wav.0f0f0f0f.noisecli-tmp", ".z.png"]
    assert [atomic.is_temp_file(n) for n in names] == [True, True, False]
    assert not atomic.is_temp_file("x.noisecli-tmp.png")  # not hidden: a user's file
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert atomic.remove_stale_temp_files(tmp_path) == 2
    assert _names(tmp_path) == [".z.png"]


def test_a_file_writer_gets_a_temp_path_with_the_extension(tmp_path: Path) -> None:
    seen: list[str] = []

    def write(tmp: str) -> None:
        seen.append(os.path.basename(tmp))
        Path(tmp).write_bytes(b"data")

    atomic.write_file_atomic(str(tmp_path / "new" / "out.jpg"), ".png", write)
    assert (tmp_path / "new" / "out.jpg").read_bytes() == b"data"
    assert len(seen) == 2  # the first try found no folder; it was made and the write redone
    assert seen[-1].startswith(".out.jpg.") and seen[-1].endswith(TEMP_SUFFIX + ".png")

    def broken(tmp: str) -> None:
        Path(tmp).write_bytes(b"part")
        raise ValueError("encoder failed")

    with pytest.raises(ValueError, match="encoder failed"):
        atomic.write_file_atomic(str(tmp_path / "new" / "bad.png"), ".png", broken)
    assert _names(tmp_path) == ["new", "new/out.jpg"]
