"""The random-number kernels alone, one thread: ns per sample, each compiled path vs the twin.

Cases: ``add_normal`` on a uint8 1920x1080x3 image (per channel and mono), on the same image as
float32, on int16 stereo audio (60 s at 48 kHz), the bare variates, and beside them the numpy
one-liner ``np.clip(x + np.random.randn(*x.shape)*25, 0, 255).astype(np.uint8)``. Every case
runs ``--reps`` times, the paths alternating, and the median is printed. Also: the cost of
``Stream.derive`` / ``child`` and, through the compiled path, tail counts of ``--tails`` normals
beyond 4, 5 and 6 sigma against their expectations.

Usage: ``.venv/bin/python bench/rng_kernel.py [--reps 7] [--tails 1000000000] [--clock cpu]``
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from noisecli.rng import kernels
from noisecli.rng.philox import Stream

STD = 25.0


def cases(
    using: kernels.Backend, isa: str | None = None
) -> dict[str, tuple[Callable[[], object], int]]:
    s = Stream.derive(7, b"bench.png", "gaussian")
    img = np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    out = np.empty_like(img)
    imgf = img.astype(np.float32) / np.float32(255)
    outf = np.empty_like(imgf)
    audio = (np.random.default_rng(2).normal(0, 3000, (48000 * 60, 2))).astype(np.int16)
    outa = np.empty_like(audio)
    z = np.empty(img.size, np.float32)
    w = np.empty(img.size, np.uint32)

    def c(fn: Callable[..., Any], *args: Any, **kw: Any) -> Callable[[], object]:
        if isa is None:
            return lambda: fn(*args, **kw, using=using)

        def on_isa() -> object:
            assert kernels._MOD is not None
            kernels._MOD.set_isa(isa)  # each compiled code path in turn (same bytes)
            return fn(*args, **kw, using=using)

        return on_isa

    return {
        "add_normal uint8 1920x1080x3": (c(kernels.add_normal, img, out, s, 0, STD), img.size),
        "add_normal uint8 mono (repeat=3)": (
            c(kernels.add_normal, img, out, s, 0, STD, repeat=3),
            img.size,
        ),
        "add_normal float32 1920x1080x3": (
            c(kernels.add_normal, imgf, outf, s, 0, 0.1),
            imgf.size,
        ),
        "add_normal int16 audio 60 s stereo": (
            c(kernels.add_normal, audio, outa, s, 0, 300.0),
            audio.size,
        ),
        "add_uniform uint8 1920x1080x3": (
            c(kernels.add_uniform, img, out, s, 0, STD),
            img.size,
        ),
        "normal (float32 out)": (c(kernels.normal, s, 0, z.size, z), z.size),
        "bits (uint32 out)": (c(kernels.bits, s, 0, w.size, w), w.size),
    }


def one_liner() -> tuple[Callable[[], object], int]:
    img = np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    return (
        lambda: np.clip(img + np.random.randn(*img.shape) * STD, 0, 255).astype(np.uint8),
        img.size,
    )


CLOCK = time.perf_counter


def timed(fn: Callable[[], object]) -> float:
    t = CLOCK()
    fn()
    return CLOCK() - t


def tail_counts(n: int) -> None:
    if kernels.COMPILED is None:
        print("tail counts: compiled kernel not built, skipped")
        return
    s = Stream.derive(99, b"", "tails")
    chunk = 1 << 24
    buf = np.empty(chunk, np.float32)
    counts = np.zeros(3, np.int64)
    t = time.perf_counter()
    for a in range(0, n, chunk):
        m = min(chunk, n - a)
        z = np.abs(kernels.normal(s, a, m, buf[:m], using=kernels.COMPILED))
        counts += [(z > 4).sum(), (z > 5).sum(), (z > 6).sum()]
    dt = time.perf_counter() - t
    print(f"\ntail counts of {n:.0e} normals (compiled, {dt:.1f} s):")
    for c, k in zip(counts, (4, 5, 6), strict=True):
        p = 2 * stats.norm.sf(k)
        mu, sd = n * p, math.sqrt(n * p * (1 - p))
        print(f"  |z| > {k}: {c:>10d}  expected {mu:12.1f} +- {sd:8.1f}  ({(c - mu) / sd:+.2f} sd)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--tails", type=int, default=10**9, help="0 to skip")
    ap.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: this thread's CPU time (steadier on a shared machine)",
    )
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.thread_time if args.clock == "cpu" else time.perf_counter

    print(f"kernels.ACTIVE = {kernels.ACTIVE}")
    paths: list[tuple[str, kernels.Backend]] = []
    isas: dict[str, str | None] = {"numpy": None}
    if kernels.COMPILED is not None and kernels._MOD is not None:
        for isa in kernels._MOD.available():
            paths.append((isa, kernels.COMPILED))
            isas[isa] = isa
    paths.append(("numpy", kernels.NUMPY))
    table = {name: cases(b, isas[name]) for name, b in paths}
    names = list(next(iter(table.values())))
    ol_fn, ol_n = one_liner()
    results: dict[tuple[str, str], list[float]] = {}
    for case in names:
        for _, (fn, _n) in ((p, table[p][case]) for p, _ in paths):
            fn()  # warm-up
        for _ in range(args.reps):
            for p, _ in paths:
                fn, n = table[p][case]
                results.setdefault((case, p), []).append(timed(fn) / n * 1e9)
            if case == names[0]:
                results.setdefault(("one-liner", "numpy"), []).append(timed(ol_fn) / ol_n * 1e9)
    header = f"{'case':38s}" + "".join(f"{p:>12s}" for p, _ in paths)
    print(f"\nns per sample, median of {args.reps} ({args.clock} clock, one thread)\n{header}")
    for case in names:
        row = "".join(f"{statistics.median(results[(case, p)]):12.2f}" for p, _ in paths)
        print(f"{case:38s}{row}")
    if kernels._MOD is not None:
        kernels._MOD.set_isa(kernels._MOD.available()[0])
    ol = statistics.median(results[("one-liner", "numpy")])
    print(f"{'numpy one-liner randn (float64), uint8':38s}{ol:12.2f}")

    d = min(timeit.repeat(lambda: Stream.derive(7, b"dir/photo_0001.png", "gaussian"),
                          number=20000, repeat=5)) / 20000 * 1e6  # fmt: skip
    s = Stream.derive(7, b"x", "y")
    ch = min(timeit.repeat(lambda: s.child("mono"), number=20000, repeat=5)) / 20000 * 1e6
    print(f"\nStream.derive {d:.2f} us, Stream.child {ch:.2f} us")
    if args.tails:
        tail_counts(args.tails)


if __name__ == "__main__":
    main()
