"""Poisson: mean kept, variance x/k on the [0, 1] scale, whatever the image's values."""

from __future__ import annotations

import math

import numpy as np

from noisecli.noise import Poisson
from tests.noise.helpers import lsb_variance, run, se_mean

PHOTONS = 200.0
# levels on the [0, 1] scale; at 0.6 (120 photons) reaching white takes 7 sigma: no clipping
LEVELS = (0.05, 0.2, 0.5, 0.6)
PATCH = 500 * 500


def se_poisson_var(level: float, photons: float, n: int) -> float:
    """SE of the sample variance of Pois(λ)/k, λ = level·k.

    Var(s²) = (μ4 - σ⁴)/n with the Poisson central moments μ4 = λ + 3λ², σ² = λ,
    both divided by k⁴ after the scaling: SE = sqrt((λ + 2λ²)/n) / k².
    """
    lam = level * photons
    return math.sqrt((lam + 2 * lam * lam) / n) / photons**2


def patches(dtype: str, levels: tuple[float, ...]) -> np.ndarray:
    full = 255.0 if dtype == "uint8" else 1.0
    rows = [np.full((500, 500, 1), round(v * full) if dtype == "uint8" else v) for v in levels]
    return np.concatenate(rows).astype(dtype)


def test_mean_kept_and_variance_level_over_photons_on_flat_patches() -> None:
    src = patches("float32", LEVELS)
    out = run(Poisson.from_options({"photons": PHOTONS}), src).astype(np.float64)
    for i, level in enumerate(LEVELS):
        patch = out[i * 500 : (i + 1) * 500].ravel()
        variance = level / PHOTONS
        assert abs(patch.mean() - level) <= 4 * se_mean(math.sqrt(variance), PATCH), level
        assert abs(patch.var() - variance) <= 4 * se_poisson_var(level, PHOTONS, PATCH), level


def test_variance_does_not_depend_on_how_many_values_the_image_has() -> None:
    # two distinct values only: scikit-image would scale by 2 instead of by the photons
    src = patches("uint8", (0.2, 0.8))
    photons = 2000.0
    out = run(Poisson.from_options({"photons": photons}), src).astype(np.float64) / 255
    for i, code in enumerate((51, 204)):
        level = code / 255
        patch = out[i * 500 : (i + 1) * 500].ravel()
        variance = level / photons + lsb_variance("uint8")
        assert abs(patch.mean() - level) <= 4 * se_mean(math.sqrt(variance), PATCH)
        assert abs(patch.var() - variance) <= 4 * se_poisson_var(level, photons, PATCH)


def test_black_stays_black() -> None:
    src = patches("uint16", (0.0,))
    out = run(Poisson.from_options({"photons": 3}), src)
    assert not out.any()
