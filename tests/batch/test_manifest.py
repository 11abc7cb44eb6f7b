"""OUT/metadata.csv: only a run that wrote something creates or changes it; its rows."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from noisecli.batch.job import FileResult, Job
from noisecli.batch.manifest import COLUMNS, Manifest, params_json
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


def test_params_are_written_as_json_dumps_writes_them() -> None:
    cases: list[dict[str, Any]] = [
        {},
        {"mean": 0.0, "mono": False, "std": 25.0, "unit": "8-bit levels"},
        {"b": float("nan"), "a": float("inf"), "c": -float("inf"), "d": -0.0, "e": 5e-324},
        {"z": 'é"\\\n\t\u2028\x00', "y": True, "x": 3, "w": -(2**70), "v": 1e22},
        {1: 2},
        {"k": [1, 2]},
        {"k": None},
    ]
    for params in cases:
        assert params_json(params) == json.dumps(params, sort_keys=True)


def _result(dst: str, params: dict[str, Any] | None = None) -> FileResult:
    job = Job("in/x.png", dst, "x.png", 1)
    return FileResult(job, "written", params=params or {"std": 2.5}, clipped_fraction=1 / 3)


@pytest.mark.parametrize(
    ("root", "dst"),
    [
        ("out", "out/a/b.png"),
        ("out/", "out/a/b.png"),
        ("./out", "out/a/b.png"),
        ("out/../out", "out/../out/a/b.png"),
        (".", "a/b.png"),
        ("/", "/b.png"),
        ("out", "out/a/.hidden/b.png"),
        ("out", "out/./a/b.png"),
        ("out", "elsewhere/b.png"),
        ("out", os.path.abspath("out/a/b.png")),
    ],
)
def test_row_names_are_paths_relative_to_out(root: str, dst: str) -> None:
    row = Manifest(root, 3, "gaussian").row(_result(dst))
    assert list(row) == list(COLUMNS)
    assert row["file_name"] == Path(os.path.relpath(dst, Path(root))).as_posix()
    assert row == {
        "file_name": row["file_name"],
        "source": "in/x.png",
        "copy": "1",
        "noise": "gaussian",
        "params": '{"std": 2.5}',
        "seed": "3",
        "clipped_fraction": "0.333333",
    }


def test_rows_of_another_layout_are_read_by_column_name(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"x")
    (out / "b.png").write_bytes(b"x")
    (out / "metadata.csv").write_text(
        "seed,file_name,extra\n1,b.png,z,spare\n\n2,a.png\n3\n4,gone.png,\n"
    )
    manifest = Manifest(str(out), 9, "gaussian")
    manifest.open()
    manifest.add(_result(str(out / "c.png")))
    (out / "c.png").write_bytes(b"x")
    manifest.close()
    assert manifest.error is None
    got = rows(out)
    assert [r["file_name"] for r in got] == ["a.png", "b.png", "c.png"]
    assert [r["seed"] for r in got] == ["2", "1", "9"]
    assert got[0]["source"] == "" and got[2]["source"] == "in/x.png"


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
    (out / "metadata.csv").write_text(",".join(COLUMNS) + "\n")

    def unreadable(self: Manifest, found: object) -> Iterator[tuple[str, str]]:
        raise PermissionError(13, "Permission denied")
        yield from ()

    monkeypatch.setattr(Manifest, "_existing", unreadable)
    manifest = Manifest(str(out), 1, "gaussian")
    manifest.open()
    manifest.close()
    assert manifest.error is None  # nothing written: nothing read, nothing to report
    manifest = Manifest(str(out), 1, "gaussian")
    manifest.open()
    manifest.add(_result(str(out / "a.png")))
    manifest.add(_result(str(out / "b.png")))
    manifest.close()
    assert manifest.error == f"cannot write {out / 'metadata.csv'}: Permission denied"


def test_only_the_rows_of_earlier_runs_are_checked_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of earlier runs stay only while their file exists; the rows this run appends
    name files it has just written and are not looked up again when the file is sorted."""
    from noisecli.batch import manifest as module

    out = tmp_path / "out"
    out.mkdir()
    for name in ("old1.png", "old3.png"):
        (out / name).write_bytes(b"x")
    first = Manifest(str(out), 1, "gaussian")
    first.open()
    for name in ("old3.png", "gone.png", "old1.png"):  # unsorted, and one file gone
        first.add(_result(str(out / name)))
    first._fh.close()  # type: ignore[union-attr]  # left unsorted, as by a killed run
    checked: list[str] = []
    real = module._is_file

    def spy(path: str) -> bool:
        checked.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(module, "_is_file", spy)
    second = Manifest(str(out), 2, "gaussian")
    second.open()
    for name in ("new2.png", "new0.png"):
        (out / name).write_bytes(b"y")
        second.add(_result(str(out / name)))
    second.close()
    assert second.error is None
    assert [r["file_name"] for r in rows(out)] == ["new0.png", "new2.png", "old1.png", "old3.png"]
    assert {r["seed"] for r in rows(out) if r["file_name"].startswith("new")} == {"2"}
    assert "gone.png" in checked and not [n for n in checked if n.startswith("new")]
