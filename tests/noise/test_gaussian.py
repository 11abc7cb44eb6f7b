"""Statistics of the Gaussian noise at 10^6 samples; tolerances from standard errors.

For n independent N(0, σ²) samples: SE(mean) = σ/√n and SE(std) ≈ σ/√(2n). At n = 10^6 and
σ = 25 these are 0.025 and 0.018 levels, so the 1 % tolerance on σ (0.25) is ~14 SE and the
mean tolerance of 5 SE is 0.125 levels. Rounding to integers adds variance 1/12 (σ grows by
0.0017 levels), far inside the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from noisecli.noise import Gaussian
from tests.noise.helpers import run

N_SIDE = 1000  # 10^6 values per channel


def add_noise(img: np.ndarray, noise: str, seed: int, **params: object) -> np.ndarray:
    """The engine as files run it: ``std`` and ``mean`` in 8-bit levels at every bit depth
    (arrays through ``noisecli.add_noise`` take their own units: tests/api)."""
    assert noise == "gaussian"
    return run(Gaussian.from_options(params), img, seed=seed)


def _flat(dtype: str, channels: int = 3) -> np.ndarray:
    value = {"uint8": 128, "uint16": 128 * 257, "float32": 0.5}[dtype]
    return np.full((N_SIDE, N_SIDE, channels), value, dtype=dtype)


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_sigma_within_one_percent_and_mean_preserved(dtype: str) -> None:
    img = _flat(dtype, channels=1)
    scale = {"uint8": 1.0, "uint16": 257.0, "float32": 1 / 255}[dtype]
    noisy = add_noise(img, "gaussian", std=25, seed=11).astype(np.float64) / scale
    diff = noisy - img.astype(np.float64) / scale
    sigma = diff.std()
    assert abs(sigma - 25) < 0.25, sigma
    se_mean = 25 / np.sqrt(diff.size)
    assert abs(diff.mean()) < 5 * se_mean, diff.mean()


def test_percent_is_relative_to_full_scale() -> None:
    img = _flat("uint16", channels=1)
    noisy = add_noise(img, "gaussian", std="10%", seed=3).astype(np.float64)
    sigma = (noisy - img).std() / 65535
    assert abs(sigma - 0.10) < 0.001, sigma


def test_mean_parameter_shifts_the_image() -> None:
    img = _flat("float32", channels=1)
    noisy = add_noise(img, "gaussian", std=10, mean=5, seed=4).astype(np.float64)
    diff = (noisy - 0.5) * 255
    assert abs(diff.mean() - 5) < 5 * 10 / np.sqrt(diff.size)


def test_channels_are_independent_by_default_and_shared_with_mono() -> None:
    img = _flat("float32")
    per_channel = add_noise(img, "gaussian", std=25, seed=5) - img
    corr = np.corrcoef(per_channel[..., 0].ravel(), per_channel[..., 1].ravel())[0, 1]
    # correlation of independent samples: SE ≈ 1/√n = 0.001; 5 SE
    assert abs(corr) < 0.005
    mono = add_noise(img, "gaussian", std=25, seed=5, mono=True) - img
    assert np.array_equal(mono[..., 0], mono[..., 1])
    assert np.array_equal(mono[..., 1], mono[..., 2])
    assert abs(mono.std() * 255 - 25) < 0.25


def test_tails_are_gaussian() -> None:
    """Fractions beyond 1, 2 and 3 σ match the normal distribution (binomial SE, 5 SE)."""
    img = _flat("float32", channels=1)
    z = ((add_noise(img, "gaussian", std=25, seed=9) - img) * 255 / 25).ravel().astype(np.float64)
    n = z.size
    for k, p in ((1, 0.3173105), (2, 0.0455003), (3, 0.0026998)):
        frac = np.mean(np.abs(z) > k)
        assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n), (k, frac)
