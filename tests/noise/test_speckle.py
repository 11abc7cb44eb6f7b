"""Speckle: the noise's standard deviation is std times the intensity."""

from __future__ import annotations

import numpy as np

from noisecli.noise import Speckle
from tests.noise.helpers import run, se_mean, se_std

STD = 0.2
# at 0.4, white is (1/0.4 - 1)/0.2 = 7.5 sigma away: no clipping
LEVELS = (0.1, 0.25, 0.4)
PATCH = 500 * 500


def test_noise_std_proportional_to_intensity() -> None:
    src = np.concatenate([np.full((500, 500, 1), v, np.float32) for v in LEVELS])
    out = run(Speckle.from_options({"std": STD}), src).astype(np.float64)
    for i, level in enumerate(LEVELS):
        noise = out[i * 500 : (i + 1) * 500].ravel() - np.float32(level)
        sigma = STD * level
        assert abs(noise.std() - sigma) <= 4 * se_std(sigma, PATCH), level
        assert abs(noise.mean()) <= 4 * se_mean(sigma, PATCH), level


def test_black_stays_black_and_mono_is_one_factor_per_pixel() -> None:
    src = np.zeros((50, 50, 3), np.uint8)
    assert not run(Speckle(), src).any()
    grey = np.full((100, 100, 3), 0.4, np.float32)
    out = run(Speckle.from_options({"mono": True}), grey)
    assert np.array_equal(out[..., 0], out[..., 2])
    assert not np.array_equal(out[..., 0], grey[..., 0])
