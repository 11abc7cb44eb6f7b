"""Reference pipelines the benchmark compares noisecli with, each a process pool like noisecli's.

    python bench/floors.py MODE SRC_DIR DST_DIR [--jobs 2] [--std 25] [--quality 95]

MODE is one of:
  clean     cv2.imread + cv2.imwrite: the decode+encode floor
  fixed     the same plus one pre-generated noise field (no random numbers at all): the
            floor of any noising tool, since a noisy image costs more to encode
  oneliner  np.clip(img + np.random.randn(*img.shape) * std, 0, 255): the common recipe
  albu      albumentations GaussNoise (run with the Python of a separate environment)

Workers run OpenCV with one thread, as noisecli's do.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import cv2
import numpy as np

Transform = Callable[[np.ndarray], np.ndarray]
_state: dict[str, Any] = {}


def _fixed_field(shape: tuple[int, ...], std: float) -> np.ndarray:
    """One rounded N(0, std²) field of the images' shape, made once before the workers start."""
    field = np.empty(shape, np.int16)
    cv2.setRNGSeed(1)
    cv2.randn(field.reshape(shape[0], -1), 0.0, std)
    return field


def transform(mode: str, std: float, shape: tuple[int, ...] = (0,)) -> Transform:
    if mode == "clean":
        return lambda img: img
    if mode == "fixed":
        field = _fixed_field(shape, std)

        def add_fixed(img: np.ndarray) -> np.ndarray:
            return cv2.add(img, field, dtype=cv2.CV_8U)  # the corpus has one image shape

        return add_fixed
    if mode == "oneliner":
        return lambda img: np.clip(img + np.random.randn(*img.shape) * std, 0, 255).astype(np.uint8)
    if mode == "albu":
        import albumentations as A  # only in the separate benchmark environment

        noise = A.GaussNoise(std_range=(std / 255, std / 255), p=1.0)
        return lambda img: noise(image=img)["image"]
    raise SystemExit(f"unknown mode {mode!r}")


def _init(mode: str, std: float, quality: int) -> None:
    cv2.setNumThreads(1)
    np.random.seed(os.getpid())  # the one-liner's global generator differs per worker
    _state["fn"] = _state.get("fn") or transform(mode, std)
    _state["quality"] = quality


def _one(job: tuple[str, str]) -> None:
    src, dst = job
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    params = [cv2.IMWRITE_JPEG_QUALITY, _state["quality"]] if dst.endswith(".jpg") else []
    if img is None or not cv2.imwrite(dst, _state["fn"](img), params):
        raise OSError(f"cannot process {src}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode")
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--std", type=float, default=25.0)
    parser.add_argument("--quality", type=int, default=95)
    args = parser.parse_args()
    args.dst.mkdir(parents=True, exist_ok=True)
    jobs = [
        (str(p), str(args.dst / p.name))
        for p in sorted(args.src.iterdir())
        if p.suffix in (".jpg", ".png")
    ]
    if args.mode == "fixed":  # generated in the parent, shared by the forked workers
        shape = cv2.imread(jobs[0][0], cv2.IMREAD_UNCHANGED).shape
        _state["fn"] = transform(args.mode, args.std, shape)
    with get_context("fork").Pool(args.jobs, _init, (args.mode, args.std, args.quality)) as pool:
        for _ in pool.imap_unordered(_one, jobs):
            pass


if __name__ == "__main__":
    main()
