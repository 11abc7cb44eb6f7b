"""OUT/metadata.csv: only a run that wrote something creates or changes it; its rows."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from noisecli.batch.job import FileResult, Job
from noisecli.batch.manifest import Manifest
from noisecli.cli import main
from noisecli.errors import OutputError
from tests.conftest import tree_digest


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, [*args, "-j", "1"], catch_exceptions=False)


def rows(out: Path) -> list[dict[str, str]]:
    with open(out / "metadata.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    ("flags", "code", "summary"),
    [([], 1, "0 written, 0 skipped, 3 failed"), (["--skip-existing"], 0, "0 written, 3 skipped")],
)
def test_a_run_that_writes_nothing_creates_no_manifest(
    dataset: Any, tmp_path: Path, flags: list[str], code: int, summary: str
) -> None:
    root, out = dataset(3), tmp_path / "out"
    assert invoke("image", str(root), "-o", str(out), "--seed", "1", "--no-manifest").exit_code == 0
    before = tree_digest(out)
    result = invoke("image", str(root), "-o", str(out), "--seed", "2", *flags)
    assert result.exit_code == code, result.output
    assert summary in result.output
    assert not (out / "metadata.csv").exists()
    assert tree_digest(out) == before


@pytest.mark.parametrize("flags", [[], ["--skip-existing"]])
def test_a_run_that_writes_nothing_leaves_the_manifest_as_it_was(
    dataset: Any, tmp_path: Path, flags: list[str]
) -> None:
    root, out = dataset(3), tmp_path / "out"
    assert invoke("image", str(root), "-o", str(out), "--seed", "1").exit_code == 0
    manifest = out / "metadata.csv"
    # a row whose file is gone and an unsorted order: a rewrite would change both
    text = manifest.read_text()
    header, *lines = text.splitlines(keepends=True)
    gone = lines[0].replace(lines[0].split(",")[0], "gone.png", 1)
    manifest.write_text(header + "".join(reversed(lines)) + gone)
    before = manifest.read_bytes()
    stamp = os.stat(manifest).st_mtime_ns
    result = invoke("image", str(root), "-o", str(out), "--seed", "2", *flags)
    assert "0 written" in result.output
    assert manifest.read_bytes() == before
    assert os.stat(manifest).st_mtime_ns == stamp


def test_a_run_that_writes_one_file_merges_with_the_previous_rows(
    dataset: Any, tmp_path: Path
) -> None:
    root, out = dataset(3), tmp_path / "out"
    assert invoke("image", str(root), "-o", str(out), "--seed", "1").exit_code == 0
    first = {r["file_name"]: r for r in rows(out)}
    (out / "img000.jpg").unlink()
    result = invoke("image", str(root), "-o", str(out), "--seed", "5", "--skip-existing")
    assert "1 written, 2 skipped" in result.output
    now = {r["file_name"]: r for r in rows(out)}
    assert sorted(now) == sorted(first) == [r["file_name"] for r in rows(out)]
    assert now["img000.jpg"]["seed"] == "5"
    assert all(now[k] == first[k] for k in now if k != "img000.jpg")


def _result(dst: str) -> FileResult:
    job = Job("in/x.png", dst, "x.png", 1)
    return FileResult(job, "written", params={"std": 2.5}, clipped_fraction=1 / 3)


def test_a_manifest_path_taken_by_a_folder_fails_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "metadata.csv").mkdir(parents=True)
    with pytest.raises(OutputError, match=r"metadata\.csv: Is a directory"):
        Manifest(str(out), 1, "gaussian").open()


def test_a_manifest_that_cannot_be_read_is_reported_once_files_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "metadata.csv").write_text("file_name\n")

    def unreadable(self: Manifest) -> list[str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Manifest, "_read_existing", unreadable)
    manifest = Manifest(str(out), 1, "gaussian")
    manifest.open()
    manifest.close()
    assert manifest.error is None  # nothing written: nothing read, nothing to report
    manifest = Manifest(str(out), 1, "gaussian")
    manifest.open()
    manifest.add(_result(str(out / "a.png")))
    manifest.add(_result(str(out / "b.png")))
    manifest.close()
    assert manifest.error == f"cannot update {out / 'metadata.csv'}: Permission denied"
