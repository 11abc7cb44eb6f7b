"""The fast integer Gaussian path: exact against a reference, Gaussian, worker-independent.

Statistical tolerances (n = 10^6 samples, fixed seeds):
- Kolmogorov–Smirnov: under H0, √n·D follows the Kolmogorov distribution, whose 0.999
  quantile is 1.95; so D < 1.95/√n is a test at level 0.001.
- Integer noise plus an independent uniform dither U(-½, ½) has a piecewise-constant density
  whose CDF equals Φ(x/σ) at every half-integer and interpolates it linearly in between; the
  gap is at most max|φ'|/8 = 0.242/(8σ²) = 5·10⁻⁵ at σ = 25, far below 1.95/√n = 2·10⁻³.
- Tail fractions: binomial SE √(p(1-p)/n); we allow 5 SE.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from scipy import stats

from noisecli.api.arrays import add_noise
from noisecli.image.engine import ChunkNoiser, image_info, noise_image
from noisecli.noise import Gaussian
from noisecli.noise.base import output_generators, stream_key
from noisecli.rng.normal_tiles import SEED_HIGH, rows_per_tile, seeded_normal
from tests.conftest import synthetic_image

N = 10**6
KS_LIMIT = 1.95 / np.sqrt(N)


def _noise(img: np.ndarray, chunk: int = 256, **params: object) -> tuple[np.ndarray, int]:
    p, n = output_generators(7, stream_key("a.png", 0))
    out, noiser = noise_image(img, Gaussian.from_options(params or {"std": 25}), p, n, chunk)
    return out, noiser.stats.clipped


def _reference(img: np.ndarray, std: float, mean: float = 0.0) -> tuple[np.ndarray, int]:
    """What the fast path must produce: per tile, re-seed, draw, add, clip (no mono)."""
    lo, hi = 0, np.iinfo(img.dtype).max
    noise_dtype = np.int16 if img.dtype == np.uint8 else np.int32
    view = img if img.ndim == 3 else img[:, :, None]
    _, rng = output_generators(7, stream_key("a.png", 0))
    rows = rows_per_tile(view.shape[1] * view.shape[2])
    scale = hi / 255
    total = np.empty(view.shape, np.int64)
    for start in range(0, view.shape[0], rows):
        tile = view[start : start + rows]
        seed = int(rng.integers(1, SEED_HIGH, dtype=np.int64))
        field = seeded_normal(seed, tile.shape, noise_dtype, mean * scale, std * scale)
        total[start : start + rows] = tile.astype(np.int64) + field
    clipped = int(np.count_nonzero((total < lo) | (total > hi)))
    return np.clip(total, lo, hi).astype(img.dtype).reshape(img.shape), clipped


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((40, 3000, 3), "uint8"),
        ((33, 500), "uint8"),
        ((25, 2500, 3), "uint16"),
        ((9, 70), "uint16"),
    ],
)
def test_matches_reference_bytes_and_clipped_count(shape: tuple[int, ...], dtype: str) -> None:
    img = synthetic_image(*shape[:2], channels=shape[2] if len(shape) == 3 else 1, dtype=dtype)
    img[:3] = 0  # force clipping at both ends
    img[-3:] = np.iinfo(dtype).max
    out, clipped = _noise(img, chunk=5, std=40, mean=3)
    expected, expected_clipped = _reference(img, std=40, mean=3)
    assert np.array_equal(out, expected)
    assert clipped == expected_clipped > 0


@pytest.mark.parametrize("mono", [False, True])
def test_chunk_size_never_changes_the_bytes_across_many_tiles(mono: bool) -> None:
    img = synthetic_image(60, 4000, seed=5)  # 10 rows per tile: bands cut tiles everywhere
    assert rows_per_tile(4000 * 3) == 10
    whole, clipped = _noise(img, chunk=10_000, mono=mono)
    for chunk in (1, 3, 7, 64):
        assert (_noise(img, chunk=chunk, mono=mono)[0] == whole).all(), chunk
        assert _noise(img, chunk=chunk, mono=mono)[1] == clipped


def test_independent_of_opencv_generator_state_and_thread() -> None:
    img = synthetic_image(64, 3000, seed=1)
    first = add_noise(img, std=25, seed=3, chunk=7)
    cv2.setRNGSeed(12345)
    cv2.randn(np.empty((100, 100), np.float32), 0, 1)
    assert np.array_equal(add_noise(img, std=25, seed=3, chunk=50), first)
    results: list[np.ndarray] = []
    thread = threading.Thread(target=lambda: results.append(add_noise(img, std=25, seed=3)))
    thread.start()
    thread.join()
    assert np.array_equal(results[0], first)


def test_generator_is_standard_normal_by_kolmogorov_smirnov() -> None:
    z = seeded_normal(987654321, (1000, 1000), np.float32, 0.0, 1.0).ravel().astype(np.float64)
    result = stats.kstest(z, "norm")
    assert result.statistic < KS_LIMIT, result
    # the integer tiles are exactly the rounded continuous draws
    ints = seeded_normal(987654321, (1000, 1000), np.int16, 0.0, 25.0)
    floats = seeded_normal(987654321, (1000, 1000), np.float32, 0.0, 25.0)
    assert np.array_equal(ints, np.rint(floats).astype(np.int16))


def test_uint8_noise_is_gaussian_by_kolmogorov_smirnov_and_tails() -> None:
    img = np.full((1000, 1000), 128, np.uint8)  # clipping only beyond ±5.1 σ
    noise = _noise(img, std=25)[0].astype(np.float64) - 128
    dither = np.random.default_rng(0).uniform(-0.5, 0.5, noise.shape)
    result = stats.kstest((noise + dither).ravel(), "norm", args=(0.0, 25.0))
    assert result.statistic < KS_LIMIT, result
    flat = np.abs(noise.ravel())
    for k in (1, 2, 3, 4):
        m = np.floor(25 * k)  # |rint(σZ)| > m  <=>  |σZ| > m + ½
        p = 2 * stats.norm.sf((m + 0.5) / 25)
        frac = np.count_nonzero(flat > m) / N
        assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / N), (k, frac, p)


def test_every_channel_gets_its_own_noise_of_the_right_sigma() -> None:
    img = np.full((500, 700, 3), 128, np.uint8)  # 350,000 values per channel
    diff = _noise(img, std=25)[0].astype(np.float64) - 128
    n = 500 * 700
    for c in range(3):
        # SE(std) ≈ σ/√(2n) = 0.03; the 1 % tolerance (0.25) is 8 SE
        assert abs(diff[..., c].std() - 25) < 0.25, c
    corr = np.corrcoef(diff[..., 0].ravel(), diff[..., 1].ravel())[0, 1]
    assert abs(corr) < 5 / np.sqrt(n)  # SE of a null correlation is 1/√n
    mono = _noise(img, std=25, mono=True)[0]
    assert np.array_equal(mono[..., 0], mono[..., 2])
    assert abs(mono[..., 0].astype(np.float64).std() - 25) < 0.25


def test_uint16_noise_has_the_right_sigma_and_tails() -> None:
    img = np.full((400, 500), 32768, np.uint16)  # σ = 25·257 = 6425 in int32 noise
    diff = _noise(img, std=25)[0].astype(np.float64) - 32768
    assert abs(diff.std() - 6425) < 0.01 * 6425  # SE ≈ 6425/√(4·10⁵) = 10, 1 % = 6.4 SE
    assert np.count_nonzero(np.abs(diff) > 3 * 6425) > 0


def test_chunk_noiser_returns_a_new_array_without_out() -> None:
    img = synthetic_image(30, 2500, seed=2)
    expected, clipped = _noise(img, chunk=8)
    p, n = output_generators(7, stream_key("a.png", 0))
    noiser = ChunkNoiser(Gaussian.from_options({"std": 25}), image_info(img), p, n)
    assert noiser.kernel is not None
    bands = [noiser(img[start : start + 8]) for start in range(0, 30, 8)]
    assert np.array_equal(np.concatenate(bands), expected)
    assert noiser.stats.clipped == clipped and noiser.stats.values == img.size


def test_float_images_keep_the_float_path() -> None:
    img = synthetic_image(8, 8, dtype="float32")
    p, n = output_generators(7, stream_key("a.png", 0))
    assert ChunkNoiser(Gaussian(), image_info(img), p, n).kernel is None
