"""Shared helpers of the array API tests: standard errors and a few data sets."""

from __future__ import annotations

import math

import numpy as np

N = 10**6  # values in the statistical tests: SE(σ̂) = σ/√(2N) = 0.07% of σ


def se_std(sigma: float, n: int) -> float:
    """Standard error of the sample standard deviation of n normal values."""
    return sigma / math.sqrt(2.0 * n)


def se_mean(sigma: float, n: int) -> float:
    return sigma / math.sqrt(n)


def float01(shape: tuple[int, ...] = (64, 48, 3), seed: int = 0) -> np.ndarray:
    """A float32 image on [0, 1] away from its ends."""
    return np.random.default_rng(seed).uniform(0.2, 0.8, shape).astype(np.float32)


def standardized(shape: tuple[int, ...] = (64, 48, 3), seed: int = 0) -> np.ndarray:
    """Zero-mean unit-variance float32 data, as after normalisation."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def uint8_image(shape: tuple[int, ...] = (64, 48, 3), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(30, 220, shape, dtype=np.uint8)
