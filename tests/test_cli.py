"""The `image` command through CliRunner and through the installed executable."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from noisecli.cli import main
from tests.conftest import read_image, run_exe, synthetic_image, tree_digest, write_image


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def manifest_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "metadata.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_basic_run_writes_mirrored_tree_and_manifest(dataset: Any, tmp_path: Path) -> None:
    root = dataset(6)
    out = tmp_path / "out"
    before = tree_digest(root)
    result = invoke("image", str(root), "-o", str(out), "--std", "25", "--seed", "7", "-j", "2")
    assert result.exit_code == 0, result.output
    assert "6 written, 0 skipped, 0 failed" in result.output and "seed 7" in result.output
    written = tree_digest(out)
    assert set(written) == {k for k in before if k != "notes.txt"}
    assert tree_digest(root) == before  # inputs untouched
    rows = manifest_rows(out)
    assert [r["file_name"] for r in rows] == sorted(written)
    assert list(rows[0]) == [
        "file_name",
        "source",
        "copy",
        "noise",
        "params",
        "seed",
        "clipped_fraction",
    ]
    assert {r["seed"] for r in rows} == {"7"} and {r["noise"] for r in rows} == {"gaussian"}
    assert json.loads(rows[0]["params"])["std"] == 25.0


def test_range_copies_suffix_and_drawn_sigma(dataset: Any, tmp_path: Path) -> None:
    root = dataset(2)
    out = tmp_path / "out"
    result = invoke(
        "image",
        str(root),
        "-o",
        str(out),
        "--std",
        "5:40",
        "--copies",
        "3",
        "--suffix",
        "_noisy",
        "--seed",
        "1",
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""  # -q: nothing but errors
    names = sorted(r["file_name"] for r in manifest_rows(out))
    expected = [f"img000_noisy_n{c}.jpg" for c in range(3)]
    expected += [f"nested/img001_noisy_n{c}.png" for c in range(3)]
    assert names == sorted(expected)
    sigmas = [json.loads(r["params"])["std"] for r in manifest_rows(out)]
    assert all(5 <= s <= 40 for s in sigmas) and len(set(sigmas)) == 6
    copies = [read_image(out / f"nested/img001_noisy_n{c}.png") for c in range(3)]
    assert not np.array_equal(copies[0], copies[1])


def test_percent_mono_and_format(dataset: Any, tmp_path: Path) -> None:
    root = dataset(2)
    out = tmp_path / "out"
    result = invoke(
        "image",
        str(root),
        "-o",
        str(out),
        "--std",
        "10%",
        "--mono",
        "--format",
        "png",
        "--seed",
        "2",
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "img000.png",
        "nested/img001.png",
    ]
    params = json.loads(manifest_rows(out)[0]["params"])
    assert params["mono"] is True and params["unit"] == "%"
    # mono: the noise (away from clipping) is the same in every channel
    src = read_image(root / "nested/img001.png").astype(int)
    diff = read_image(out / "nested/img001.png").astype(int) - src
    inside = np.all((src > 80) & (src < 175), axis=-1)
    assert inside.sum() > 50
    assert np.array_equal(diff[inside][:, 0], diff[inside][:, 1])


def test_existing_outputs_are_kept_without_overwrite(dataset: Any, tmp_path: Path) -> None:
    root = dataset(2)
    out = tmp_path / "out"
    assert invoke("image", str(root), "-o", str(out), "--seed", "1").exit_code == 0
    first = tree_digest(out)
    again = invoke("image", str(root), "-o", str(out), "--seed", "2")
    assert again.exit_code == 1 and "output exists" in again.output
    assert tree_digest(out) == first
    skip = invoke("image", str(root), "-o", str(out), "--seed", "2", "--skip-existing")
    assert skip.exit_code == 0 and "0 written, 2 skipped" in skip.output
    over = invoke("image", str(root), "-o", str(out), "--seed", "2", "--overwrite")
    assert over.exit_code == 0 and tree_digest(out) != first
    assert len(manifest_rows(out)) == 2  # rewritten files replace their rows


def test_dry_run_writes_nothing(dataset: Any, tmp_path: Path) -> None:
    root = dataset(3)
    out = tmp_path / "out"
    result = invoke("image", str(root), "-o", str(out), "--dry-run", "--copies", "2")
    assert result.exit_code == 0
    assert result.output.count(" -> ") == 6
    assert not out.exists()


def test_verbose_lists_ignored_and_written(dataset: Any, tmp_path: Path) -> None:
    root = dataset(2)
    result = invoke("image", str(root), "-o", str(tmp_path / "o"), "-v", "--seed", "1")
    assert "ignored (not an image file): " in result.output and "notes.txt" in result.output
    assert result.output.count("written: ") == 2


def test_no_manifest(dataset: Any, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert invoke("image", str(dataset(1)), "-o", str(out), "--no-manifest").exit_code == 0
    assert not (out / "metadata.csv").exists() and len(list(out.iterdir())) == 1


def test_usage_errors_exit_2(dataset: Any, tmp_path: Path) -> None:
    root = dataset(1)
    cases = [
        ["--std", "-3"],
        ["--std", "abc"],
        ["--std", "nan"],
        ["--noise", "nope"],
        ["--overwrite", "--skip-existing"],
        ["--format", "gif"],
        ["-j", "0"],
        ["--quality", "200"],
    ]
    for extra in cases:
        result = invoke("image", str(root), "-o", str(tmp_path / "o"), *extra)
        assert result.exit_code == 2, (extra, result.output)
        assert "Traceback" not in result.output
    missing = invoke("image", str(tmp_path / "missing"), "-o", str(tmp_path / "o"))
    assert missing.exit_code == 2 and "input not found" in missing.output


def test_without_seed_a_seed_is_drawn_printed_recorded_and_reproduces(
    dataset: Any, tmp_path: Path
) -> None:
    root = dataset(2)
    first = invoke("image", str(root), "-o", str(tmp_path / "a"))
    seed = manifest_rows(tmp_path / "a")[0]["seed"]
    assert f"seed {seed}" in first.output
    invoke("image", str(root), "-o", str(tmp_path / "b"), "--seed", seed)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_help_has_examples() -> None:
    text = invoke("image", "--help").output
    assert "Examples:" in text and "noisecli image - -o - < in.png > out.png" in text
    assert "--std" in text and "8-bit levels" in text


def test_noises_lists_gaussian() -> None:
    text = invoke("noises").output
    assert "gaussian" in text and "--std" in text


# ---- through the installed executable ----------------------------------------------


def test_installed_executable_runs_a_folder(dataset: Any, tmp_path: Path) -> None:
    root = dataset(3)
    out = tmp_path / "out"
    proc = run_exe("image", str(root), "-o", str(out), "--seed", "3", "-j", "2")
    assert proc.returncode == 0, proc.stderr
    assert b"3 written" in proc.stderr
    assert len(manifest_rows(out)) == 3


def test_stdin_to_stdout(tmp_path: Path) -> None:
    src = write_image(tmp_path / "in.png", synthetic_image(30, 40, seed=1))
    proc = run_exe("image", "-", "-o", "-", "--seed", "5", "--std", "20", input=src.read_bytes())
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out.png"
    out.write_bytes(proc.stdout)
    noisy = read_image(out)
    assert noisy.shape == (30, 40, 3)
    again = run_exe("image", "-", "-o", "-", "--seed", "5", "--std", "20", input=src.read_bytes())
    assert again.stdout == proc.stdout
    to_jpg = run_exe("image", "-", "-o", "-", "--format", "jpg", "-q", input=src.read_bytes())
    assert to_jpg.stdout.startswith(b"\xff\xd8\xff") and to_jpg.stderr == b""


def test_stdin_garbage_is_a_clear_error() -> None:
    proc = run_exe("image", "-", "-o", "-", input=b"not an image")
    assert proc.returncode == 1 and proc.stdout == b""
    assert b"unknown file signature" in proc.stderr and b"Traceback" not in proc.stderr


def test_python_dash_m_and_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "noisecli", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "noisecli" in proc.stdout
    assert "noise kernel: compiled" in proc.stdout or "noise kernel: numpy" in proc.stdout
    forced = subprocess.run(
        [sys.executable, "-m", "noisecli", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "NOISECLI_PURE": "1"},
    )
    assert "(noise kernel: numpy)" in forced.stdout


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from noisecli.cli import main;"
        "CliRunner().invoke(main, ['image', '--help']);"
        "print(sorted(m for m in ('cv2', 'soundfile', 'scipy', 'dask') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
