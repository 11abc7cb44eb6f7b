"""The noise kernel alone, in one thread: nanoseconds per sample on one uint8 1920x1080x3 image.

Compared side by side (alternating, medians) with the numpy one-liner, numpy's Generator,
cv2.randn and the add of a pre-generated field.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from noisecli.api.arrays import add_noise
from noisecli.noise import Gaussian
from noisecli.noise.base import MediaInfo, NativeKernel, Prepared

STD = 25.0


class FloatGaussian(Gaussian):
    """Gaussian without its integer fast path: the float32 path float images take (a
    Box–Muller field, float add, round, clip)."""

    def native_kernel(
        self, info: MediaInfo, prepared: Prepared, rng: np.random.Generator
    ) -> NativeKernel | None:
        return None


def kernels(img: np.ndarray) -> dict[str, Callable[[int], np.ndarray]]:
    fixed = np.empty(img.shape, np.int16)
    cv2.randn(fixed.reshape(img.shape[0], -1), 0.0, STD)

    def generator(seed: int) -> np.ndarray:
        field = np.random.default_rng(seed).standard_normal(img.shape, dtype=np.float32)
        field *= STD
        return cv2.add(img, field, dtype=cv2.CV_8U)

    def randn(seed: int) -> np.ndarray:
        field = np.empty(img.shape, np.int16)
        cv2.setRNGSeed(seed + 1)
        cv2.randn(field.reshape(img.shape[0], -1), 0.0, STD)
        return cv2.add(img, field, dtype=cv2.CV_8U)

    return {
        "noisecli gaussian (add_noise)": lambda seed: add_noise(img, std=STD, seed=seed),
        "noisecli float32 path (Box–Muller field, as float images take)": lambda seed: add_noise(
            img, FloatGaussian.from_options({"std": STD}), seed=seed
        ),
        "numpy one-liner (np.random.randn, float64)": lambda seed: np.clip(
            img + np.random.randn(*img.shape) * STD, 0, 255
        ).astype(np.uint8),
        "numpy Generator float32 + cv2.add": generator,
        "cv2.randn + cv2.add, one shot": randn,
        "cv2.add of a pre-generated field": lambda seed: cv2.add(img, fixed, dtype=cv2.CV_8U),
    }


def measure(img: np.ndarray, reps: int) -> dict[str, float]:
    """Median ns per sample of each kernel; the kernels alternate within every repetition."""
    cv2.setNumThreads(1)
    funcs = kernels(img)
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for rep in range(reps + 1):  # the first round warms up and is not counted
        for name, func in funcs.items():
            start = time.perf_counter()
            func(rep)
            elapsed = time.perf_counter() - start
            if rep:
                times[name].append(elapsed)
    return {name: statistics.median(t) / img.size * 1e9 for name, t in times.items()}
