"""Smoke test on the bundled samples/: every file keeps its look apart from the noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import read_image, run_exe, synthetic_image, write_image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_samples_keep_depth_channels_size_and_alpha(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_exe("image", str(SAMPLES), "-o", str(out), "--seed", "7", "--std", "25")
    assert proc.returncode == 0, proc.stderr
    sources = sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".jpg", ".png"))
    assert len(sources) >= 5
    for src in sources:
        rel = src.relative_to(SAMPLES)
        before, after = read_image(src), read_image(out / rel)
        assert after.shape == before.shape and after.dtype == before.dtype, rel
        diff = after.astype(np.float64) - before.astype(np.float64)
        if before.ndim == 3 and before.shape[2] == 4:
            assert np.array_equal(after[..., 3], before[..., 3]), rel
            diff = diff[..., :3]
        scale = 257.0 if before.dtype == np.uint16 else 1.0
        # noise is visible: clipping and JPEG re-encoding lower the measured σ somewhat
        assert 8 < diff.std() / scale < 30, (rel, diff.std() / scale)


def test_float_tiff_stays_float_in_range(tmp_path: Path) -> None:
    src = write_image(tmp_path / "in" / "f.tif", synthetic_image(40, 30, dtype="float32"))
    proc = run_exe("image", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    out = read_image(tmp_path / "out" / "f.tif")
    assert out.dtype == np.float32 and out.shape == (40, 30, 3)
    assert out.min() >= 0 and out.max() <= 1
    assert 0.07 < np.std(out - read_image(src)) < 0.11  # 25/255 ≈ 0.098 before clipping
