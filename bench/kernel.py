"""The noise alone, in one thread: nanoseconds per sample.

On one uint8 1920x1080x3 image (and its float32 copy), and on 10 s of 48 kHz stereo int16
audio, compared side by side (alternating, medians) with the numpy one-liner, numpy's
Generator, cv2.randn and the add of a pre-generated field.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from noisecli.audio.mix import noise_samples
from noisecli.image.engine import noise_image
from noisecli.noise import Gaussian, Poisson, White
from noisecli.noise.level import Level
from noisecli.rng import kernels as rng_kernels
from noisecli.rng.keys import file_key, output_random

STD = 25.0
OURS = {
    "gaussian": "noisecli gaussian, uint8",
    "float": "noisecli gaussian, float32 image",
    "white": "noisecli white --level -30 dBFS, int16 stereo audio",
    "poisson": "noisecli poisson (photons 100), uint8",
}


def _image(noise: object, img: np.ndarray, seed: int) -> np.ndarray:
    out, _ = noise_image(img, noise, output_random(seed, file_key("k.png", 0)))  # type: ignore[arg-type]
    return out


def kernels(img: np.ndarray) -> dict[str, tuple[Callable[[int], object], int]]:
    """name -> (function of a seed, samples it noises)."""
    fixed = np.empty(img.shape, np.int16)
    cv2.randn(fixed.reshape(img.shape[0], -1), 0.0, STD)
    as_float = img.astype(np.float32) / np.float32(255.0)
    audio = (np.arange(48000 * 10 * 2, dtype=np.int64).reshape(-1, 2) % 2001 - 1000).astype(
        np.int16
    )
    gaussian = Gaussian(std=Level.fixed(STD))
    poisson = Poisson(photons=Level.fixed(100.0))

    def generator(seed: int) -> np.ndarray:
        field = np.random.default_rng(seed).standard_normal(img.shape, dtype=np.float32)
        field *= STD
        return cv2.add(img, field, dtype=cv2.CV_8U)

    def randn(seed: int) -> np.ndarray:
        field = np.empty(img.shape, np.int16)
        cv2.setRNGSeed(seed + 1)
        cv2.randn(field.reshape(img.shape[0], -1), 0.0, STD)
        return cv2.add(img, field, dtype=cv2.CV_8U)

    n = img.size
    return {
        OURS["gaussian"]: (lambda seed: _image(gaussian, img, seed), n),
        OURS["float"]: (lambda seed: _image(gaussian, as_float, seed), n),
        OURS["white"]: (
            lambda seed: noise_samples(audio, White(), sample_rate=48000, seed=seed, level=-30),
            audio.size,
        ),
        OURS["poisson"]: (lambda seed: _image(poisson, img, seed), n),
        "numpy one-liner (np.random.randn, float64), uint8": (
            lambda seed: np.clip(img + np.random.randn(*img.shape) * STD, 0, 255).astype(np.uint8),
            n,
        ),
        "numpy Generator float32 + cv2.add, uint8": (generator, n),
        "cv2.randn + cv2.add, one shot, uint8": (randn, n),
        "cv2.add of a pre-generated field, uint8": (
            lambda seed: cv2.add(img, fixed, dtype=cv2.CV_8U),
            n,
        ),
    }


def measure(img: np.ndarray, reps: int) -> dict[str, float]:
    """Median ns per sample of each kernel; the kernels alternate within every repetition."""
    cv2.setNumThreads(1)
    funcs = kernels(img)
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for rep in range(reps + 1):  # the first round warms up and is not counted
        for name, (func, _) in funcs.items():
            start = time.perf_counter()
            func(rep)
            elapsed = time.perf_counter() - start
            if rep:
                times[name].append(elapsed)
    return {name: statistics.median(t) / funcs[name][1] * 1e9 for name, t in times.items()}


if __name__ == "__main__":
    import sys
    from pathlib import Path

    source = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent.parent / "samples")
    path = Path(source)
    if path.is_dir():
        path = next(p for p in sorted(path.rglob("*.jpg")))
    img = cv2.resize(cv2.imread(str(path)), (1920, 1080))
    print(f"kernel: {rng_kernels.ACTIVE}")
    for name, ns in measure(img, 7).items():
        print(f"{ns:8.2f} ns/sample  {name}")
