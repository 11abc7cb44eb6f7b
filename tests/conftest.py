"""Shared fixtures: generated images and datasets, and helpers to run the CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

NOISECLI_EXE = Path(sys.executable).parent / "noisecli"


def synthetic_image(
    height: int, width: int, channels: int = 3, dtype: str = "uint8", seed: int = 0
) -> np.ndarray:
    """A deterministic natural-looking image: smooth gradients plus a few shapes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    planes = []
    for _ in range(channels):
        fx, fy = rng.uniform(0.5, 3.0, 2)
        phase = rng.uniform(0, 2 * np.pi)
        plane = 0.5 + 0.35 * np.sin(
            fx * 2 * np.pi * xx / width + fy * 2 * np.pi * yy / height + phase
        )
        planes.append(plane)
    img = np.stack(planes, axis=-1)
    for _ in range(3):
        cy, cx = rng.integers(0, height), rng.integers(0, width)
        r = rng.integers(max(2, min(height, width) // 10), max(3, min(height, width) // 4))
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        img[mask] = rng.uniform(0.05, 0.95, channels)
    if dtype == "float32":
        out = img.astype(np.float32)
    else:
        top = np.iinfo(np.dtype(dtype)).max
        out = np.rint(img * top).astype(dtype)
    return out[:, :, 0] if channels == 1 else out


def write_image(path: Path, array: np.ndarray, params: list[int] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix, array, params or [])
    assert ok, path
    path.write_bytes(buf.tobytes())
    return path


def read_image(path: Path) -> np.ndarray:
    array = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert array is not None, path
    return array


def tree_digest(root: Path, pattern: str = "*") -> dict[str, str]:
    """sha256 of every file under root (relative posix path -> hex), manifest excluded."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob(pattern))
        if p.is_file() and p.name != "metadata.csv"
    }


@pytest.fixture
def dataset(tmp_path: Path) -> Callable[..., Path]:
    """Make a small image tree: photos/{a.jpg,b.png,...}, nested dirs, a text file."""

    def make(count: int = 6, size: tuple[int, int] = (48, 64), name: str = "data") -> Path:
        root = tmp_path / name
        for i in range(count):
            sub = root / ("nested/deeper" if i % 3 == 2 else "nested" if i % 3 == 1 else "")
            img = synthetic_image(*size, channels=3, seed=i)
            ext = ".jpg" if i % 2 == 0 else ".png"
            write_image(sub / f"img{i:03d}{ext}", img)
        (root / "notes.txt").parent.mkdir(parents=True, exist_ok=True)
        (root / "notes.txt").write_text("not an image\n")
        return root

    return make


def run_exe(
    *args: str, input: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed ``noisecli`` executable."""
    env = dict(os.environ)
    return subprocess.run(
        [str(NOISECLI_EXE), *args], input=input, capture_output=True, timeout=timeout, env=env
    )


def run_among_hostile(
    media: str, root: Path, out: Path, bad: dict[str, str], good: list[str]
) -> str:
    """Run ``noisecli MEDIA root -o out -j 2`` over good and bad files and check the contract:
    each bad file reported with its path and reason and given no output, the good ones all
    written and listed in the manifest, exit code 1, no traceback. Returns stderr."""
    import csv
    import time

    started = time.monotonic()
    proc = run_exe(media, str(root), "-o", str(out), "--seed", "1", "-j", "2", timeout=120)
    assert time.monotonic() - started < 60  # a FIFO among the inputs did not hang the run
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "internal error" not in err
    for name, reason in bad.items():
        lines = [line for line in err.splitlines() if f"{name}:" in line]
        assert lines and reason in lines[0], (name, lines)
        assert not (out / name).exists()
    assert f"{len(good)} written, 0 skipped, {len(bad)} failed" in err
    with open(out / "metadata.csv", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        assert sorted(r["file_name"] for r in csv.DictReader(fh)) == sorted(good)
    return err
