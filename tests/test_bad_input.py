"""Corrupt, truncated, empty and non-image files among good ones: reported, run goes on."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import read_image, run_exe, synthetic_image, tree_digest, write_image


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for i in range(3):
        write_image(root / f"good{i}.png", synthetic_image(32, 48, seed=i))
    write_image(root / "good.jpg", synthetic_image(32, 48, seed=9))
    jpeg = (root / "good.jpg").read_bytes()
    png = (root / "good0.png").read_bytes()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (root / "truncated.png").write_bytes(png[: len(png) // 2])
    (root / "empty.png").write_bytes(b"")
    (root / "text.jpg").write_text("this is not an image\n")
    (root / "corrupt.png").write_bytes(png[:16] + b"\x00" * (len(png) - 16))
    # a valid PNG with a .jpg name is decoded by content
    (root / "wrong_ext.jpg").write_bytes(png)
    return root


BAD = {
    "truncated.jpg": "truncated JPEG",
    "truncated.png": "truncated PNG",
    "empty.png": "empty file",
    "text.jpg": "unknown file signature",
    "corrupt.png": "PNG",
}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bad_files_fail_alone(mixed: Path, tmp_path: Path, jobs: str) -> None:
    before = tree_digest(mixed)
    out = tmp_path / f"out{jobs}"
    proc = run_exe("image", str(mixed), "-o", str(out), "--seed", "1", "-j", jobs)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "Traceback" not in err
    for name, reason in BAD.items():
        line = next(line for line in err.splitlines() if name in line)
        assert str(mixed / name) in line and reason in line, line
        assert not (out / name).exists()
    assert "5 written, 0 skipped, 5 failed" in err
    for name in ("good0.png", "good1.png", "good2.png", "good.jpg", "wrong_ext.jpg"):
        assert read_image(out / name).shape == (32, 48, 3)
    with open(out / "metadata.csv", newline="") as fh:
        assert sorted(r["file_name"] for r in csv.DictReader(fh)) == sorted(
            ["good0.png", "good1.png", "good2.png", "good.jpg", "wrong_ext.jpg"]
        )
    assert tree_digest(mixed) == before


def test_fail_fast_stops_the_run(mixed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_exe("image", str(mixed), "-o", str(out), "-j", "1", "--fail-fast")
    assert proc.returncode == 1
    assert b"stopping: --fail-fast" in proc.stderr and b"stopped early" in proc.stderr
    # sorted order: corrupt.png is the first file and fails; nothing after it runs
    assert not any(p.suffix in (".png", ".jpg") for p in out.rglob("*"))


def test_unwritable_format_is_a_per_file_error(tmp_path: Path) -> None:
    write_image(tmp_path / "in" / "deep.png", synthetic_image(8, 8, dtype="uint16"))
    write_image(tmp_path / "in" / "ok.png", synthetic_image(8, 8))
    proc = run_exe("image", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--format", "jpg")
    assert proc.returncode == 1
    assert b"deep.png: JPG cannot store uint16 images" in proc.stderr
    assert (tmp_path / "out" / "ok.jpg").is_file()
