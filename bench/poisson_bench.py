"""Poisson (shot) noise on one uint8 1920x1080x3 image, one thread: nanoseconds per sample.

Rows: the uint8 table path (numpy twin; and the C loop through ctypes when a shared object
of ``noisecli/rng/_poisson.c`` is found), its parts (stream words, lookup), the general
:func:`noisecli.rng.poisson.poisson`, and numpy's ``Generator.poisson`` on the same rates.
Medians and minima over repetitions, kernels alternating. Build the C object with::

    gcc -O3 -ffp-contract=off -shared -fPIC noisecli/rng/_poisson.c -o /tmp/noisecli_poisson.so

Usage: ``python bench/poisson_bench.py [--photons 100] [--reps 5] [--so PATH] [--general]``
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from noisecli.rng import kernels
from noisecli.rng.philox import Stream
from noisecli.rng.poisson import poisson, poisson_u8, u8_tables

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SO = os.environ.get("NOISECLI_POISSON_SO", "/tmp/noisecli_poisson.so")


def image() -> np.ndarray:
    """A photo from samples/ resized to 1920x1080 (a smooth synthetic image without cv2)."""
    try:
        import cv2

        cv2.setNumThreads(1)
        img = cv2.imread(str(ROOT / "samples" / "photos" / "chelsea.jpg"))
        if img is not None:
            out: np.ndarray = cv2.resize(img, (1920, 1080), interpolation=cv2.INTER_CUBIC)
            return np.ascontiguousarray(out)
    except ImportError:
        pass
    yy, xx = np.mgrid[0:1080, 0:1920]
    planes = [(xx * 255 // 1919 + c * 40 + yy // 9) % 256 for c in range(3)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def load_c(path: str) -> Callable[..., int] | None:
    if not Path(path).exists():
        return None
    fn = ctypes.CDLL(path).noisecli_poisson_u8
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_size_t]
    return fn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photons", type=float, default=100.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--so", default=DEFAULT_SO, help="shared object of _poisson.c")
    ap.add_argument("--general", action="store_true", help="also time the general poisson()")
    args = ap.parse_args()

    img = image()
    k = args.photons
    stream = Stream.derive(1, b"bench", "poisson")
    out = np.empty_like(img)
    flat_x = img.reshape(-1)
    flat_out = out.reshape(-1)
    lam = (img.astype(np.float64) / 255.0) * k

    t0 = time.perf_counter()
    u8_tables.cache_clear()
    upper, guide = u8_tables(k)
    build_ms = (time.perf_counter() - t0) * 1e3
    words = stream.bits(0, img.size)
    c_fn = load_c(args.so)

    def c_lookup(seed: int) -> None:
        assert c_fn is not None
        c_fn(
            upper.ctypes.data, guide.ctypes.data, words.ctypes.data,
            flat_x.ctypes.data, flat_out.ctypes.data, img.size,
        )  # fmt: skip

    def c_total(seed: int) -> None:
        assert c_fn is not None
        w = stream.bits(0, img.size)
        c_fn(
            upper.ctypes.data, guide.ctypes.data, w.ctypes.data,
            flat_x.ctypes.data, flat_out.ctypes.data, img.size,
        )  # fmt: skip

    def numpy_gen(seed: int) -> None:
        n = np.random.default_rng(seed).poisson(lam)
        np.clip(np.rint(n * (255.0 / k)), 0, 255, out=lam_tmp)
        out[...] = lam_tmp

    lam_tmp = np.empty_like(lam)
    funcs: dict[str, Callable[[int], object]] = {
        "poisson_u8, numpy twin (words + lookup)": lambda s: poisson_u8(stream, 0, img, k, out),
        f"stream words alone ({kernels.ACTIVE})": lambda s: stream.bits(0, img.size),
        "numpy Generator.poisson alone": lambda s: np.random.default_rng(s).poisson(lam),
        "numpy Generator.poisson + rint/clip to uint8": numpy_gen,
    }
    if c_fn is not None:
        funcs["poisson_u8, C lookup alone (words given)"] = c_lookup
        funcs["poisson_u8, C lookup + stream words"] = c_total
    if args.general:
        funcs["general poisson() (numpy, 53-bit inversion/PTRS)"] = lambda s: poisson(
            stream, 0, lam
        )

    times: dict[str, list[float]] = {name: [] for name in funcs}
    for rep in range(args.reps + 1):  # round 0 warms up
        for name, fn in funcs.items():
            t = time.perf_counter()
            fn(rep)
            if rep:
                times[name].append(time.perf_counter() - t)
    print(f"image {img.shape} uint8, photons={k:g}, {img.size} samples, one thread")
    print(f"table build (once per photons): {build_ms:.1f} ms")
    if c_fn is None:
        print(f"C loop: not built ({args.so} absent)")
    print("  median      min   ns/sample")
    for name, ts in times.items():
        med, best = statistics.median(ts) / img.size * 1e9, min(ts) / img.size * 1e9
        print(f"{med:8.2f} {best:8.2f}   {name}")


if __name__ == "__main__":
    main()
