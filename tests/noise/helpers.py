"""Shared helpers of the noise tests: images, noising through the engine, standard errors."""

from __future__ import annotations

import math

import numpy as np

from noisecli.image.engine import image_info, noise_image
from noisecli.noise import NOISES, Noise
from noisecli.noise.base import Prepared, Span
from noisecli.ranges import value_range
from noisecli.rng.keys import file_key, output_random

IMAGE_NOISES = [cls for cls in NOISES if "image" in cls.media]


def flat(value: float, dtype: str, rows: int = 1000, width: int = 1000, channels: int = 1):
    """A flat image at ``value`` on the [0, 1] scale (rounded to the dtype's levels)."""
    full = value_range(dtype)[2]
    level = value * full
    if np.dtype(dtype).kind == "u":
        level = round(level)
    return np.full((rows, width, channels), level, dtype=dtype)


def run(
    noise: Noise, image: np.ndarray, seed: int = 1, chunk_rows: int = 256, rel: str = "x.png"
) -> np.ndarray:
    """The engine's output for one image, as the pipeline would write it."""
    rnd = output_random(seed, file_key(rel, 0))
    out, _ = noise_image(image, noise, rnd, chunk_rows)
    return out


def added_noise(noise: Noise, image: np.ndarray) -> np.ndarray:
    """``output - input`` through the engine, float64 on the [0, 1] scale."""
    full = value_range(image.dtype)[2]
    return (run(noise, image).astype(np.float64) - image) / full


def unclipped(noise: Noise, image: np.ndarray, seed: int = 1) -> tuple[np.ndarray, Prepared]:
    """``noise.apply`` on the whole float32 image before the engine's clip, and its params.

    Used to measure a noise's constant where clipping to the range would bias the estimate.
    """
    info = image_info(image)
    rnd = output_random(seed, file_key("x.png", 0))
    prepared = noise.prepare(info, rnd)
    chunk = image.astype(np.float32).reshape(image.shape[0], image.shape[1], -1)
    return noise.apply(chunk, Span(), info, prepared), prepared


# Standard errors (large n, central limit theorem):
#   sample mean:      SE = sigma / sqrt(n)
#   sample variance:  Var(s²) = (mu4 - sigma⁴) / n, so SE(s²) = sigma² sqrt((kurtosis - 1) / n)
#   sample std:       by the delta method, SE(s) = SE(s²) / (2 sigma)
#                                             = sigma sqrt((kurtosis - 1) / (4n))
#   a proportion p:   SE = sqrt(p (1 - p) / n)
# kurtosis = mu4 / sigma⁴: 3 for a normal, 9/5 for a uniform.
NORMAL_KURTOSIS = 3.0
UNIFORM_KURTOSIS = 1.8


def se_mean(sigma: float, n: int) -> float:
    return sigma / math.sqrt(n)


def se_var(variance: float, n: int, kurtosis: float = NORMAL_KURTOSIS) -> float:
    return variance * math.sqrt((kurtosis - 1.0) / n)


def se_std(sigma: float, n: int, kurtosis: float = NORMAL_KURTOSIS) -> float:
    return sigma * math.sqrt((kurtosis - 1.0) / (4.0 * n))


def se_prop(p: float, n: int) -> float:
    return math.sqrt(p * (1.0 - p) / n)


def lsb_variance(dtype: str) -> float:
    """Variance rounding to the dtype's levels adds: step²/12 (Sheppard), on the [0, 1] scale."""
    if np.dtype(dtype).kind != "u":
        return 0.0
    return (1.0 / value_range(dtype)[2]) ** 2 / 12.0
