"""Noise on arrays in the training loop, one thread: noisecli against numpy and torch.

Measured side by side in one run, contenders alternating (order rotated each round), medians:

- a 256x32x32x3 uint8 NHWC batch and a 64x3x224x224 float32 NCHW batch in [0, 1]: an
  ``Augmenter`` call against the numpy one-liner ``np.clip(x + np.random.randn(*x.shape) * s,
  lo, hi).astype(x.dtype)`` and, when torch imports, ``x + torch.randn_like(x) * s`` (one
  torch thread; uint8: float conversion, add, clamp, cast back; float32: add and clamp);
  targets: noisecli at least 3x faster than the one-liner, at most 1.5x torch's time;
- the per-call overhead on one 32x32x3 uint8 image: the median of ``aug(x, key=i)`` over
  ``--calls`` calls minus the median of the noise kernel alone on the same array
  (``kernels.backend().add``, interleaved call by call); target at most 20 µs;
- ``add_noise`` on one 32x32x3 uint8 image against the numpy Generator one-liner
  ``np.clip(x + rng.normal(0, s, x.shape), 0, 255).astype(np.uint8)`` (target at most 1.5x
  its time), and on a 1920x1080x3 uint8 image against the randn one-liner (target at least
  10x faster; the Generator one-liner is printed beside it).

Usage: ``.venv/bin/python bench/arrays_bench.py [--reps 9] [--calls 10000] [--quick]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the thread limits must be set before numpy loads
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from noisecli import Augmenter, add_noise  # noqa: E402
from noisecli.rng import kernels  # noqa: E402
from noisecli.rng.keys import SampleRandom, sample_key_bytes  # noqa: E402

U8_STD = 20.0  # levels of uint8
F32_STD = 0.1  # on [0, 1]


def load_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def alternate(contenders: dict[str, Callable[[int], object]], reps: int) -> dict[str, float]:
    """Median seconds per call of each contender, run in rotated order each round."""
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # warm-up: first-call costs, page faults of the outputs
        contenders[name](0)
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            contenders[name](r + 1)
            times[name].append(time.perf_counter() - t0)
    return {n: statistics.median(ts) for n, ts in times.items()}


def numpy_one_liner(x: np.ndarray, s: float, lo: float, hi: float) -> Callable[[int], object]:
    def run(_: int) -> np.ndarray:
        return np.clip(x + np.random.randn(*x.shape) * s, lo, hi).astype(x.dtype)

    return run


def batch_rows(torch: Any, reps: int) -> list[tuple[str, dict[str, float], str]]:
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    f32 = rng.random((64, 3, 224, 224), dtype=np.float32)
    aug_u8 = Augmenter(std=U8_STD, seed=1, layout="NHWC")
    aug_f32 = Augmenter(std=F32_STD, seed=1, layout="NCHW", data_range=(0, 1))
    u8_runs: dict[str, Callable[[int], object]] = {
        "noisecli": lambda i: aug_u8(u8, key=i),
        "numpy one-liner": numpy_one_liner(u8, U8_STD, 0, 255),
    }
    f32_runs: dict[str, Callable[[int], object]] = {
        "noisecli": lambda i: aug_f32(f32, key=i),
        "numpy one-liner": numpy_one_liner(f32, F32_STD, 0, 1),
    }
    if torch is not None:
        tu8, tf32 = torch.from_numpy(u8), torch.from_numpy(f32)

        def torch_u8(_: int) -> object:
            f = tu8.float()
            f += torch.randn_like(f) * U8_STD
            return f.clamp_(0, 255).to(torch.uint8).numpy()

        def torch_f32(_: int) -> object:
            return (tf32 + torch.randn_like(tf32) * F32_STD).clamp_(0, 1).numpy()

        u8_runs["torch"] = torch_u8
        f32_runs["torch"] = torch_f32
    return [
        ("256x32x32x3 uint8 NHWC", alternate(u8_runs, reps), "σ 20 levels"),
        ("64x3x224x224 float32 NCHW", alternate(f32_runs, max(3, reps // 2)), "σ 0.1, [0, 1]"),
    ]


def overhead(calls: int) -> tuple[float, float]:
    """Median µs of ``aug(x, key=i)`` and of the kernel alone, interleaved call by call."""
    x = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    out = np.empty_like(x)
    aug = Augmenter(std=U8_STD, seed=1)
    backend = kernels.backend()
    sample = SampleRandom(1)
    streams = [sample.stream(sample_key_bytes((i,)), "noise") for i in range(calls)]
    variate = kernels._NORMAL
    aug(x, key=0)
    t_aug, t_kernel = [], []
    clock = time.perf_counter
    for i in range(calls):
        t0 = clock()
        aug(x, key=i)
        t1 = clock()
        backend.add(variate, x, out, streams[i], 0, U8_STD, 0.0, 0.0, 255.0, 1)
        t2 = clock()
        t_aug.append(t1 - t0)
        t_kernel.append(t2 - t1)
    return statistics.median(t_aug) * 1e6, statistics.median(t_kernel) * 1e6


def single_image(calls: int) -> tuple[float, float]:
    """Median µs of add_noise and of the Generator one-liner on one 32x32x3 uint8 image."""
    x = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    rng = np.random.default_rng(3)
    add_noise(x, std=U8_STD, seed=0)
    t_ours, t_gen = [], []
    clock = time.perf_counter
    for i in range(calls):
        t0 = clock()
        add_noise(x, std=U8_STD, seed=i)
        t1 = clock()
        np.clip(x + rng.normal(0, U8_STD, x.shape), 0, 255).astype(np.uint8)
        t2 = clock()
        t_ours.append(t1 - t0)
        t_gen.append(t2 - t1)
    return statistics.median(t_ours) * 1e6, statistics.median(t_gen) * 1e6


def full_hd(reps: int) -> dict[str, float]:
    x = np.random.default_rng(4).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    rng = np.random.default_rng(5)
    return alternate(
        {
            "noisecli add_noise": lambda i: add_noise(x, std=U8_STD, seed=i),
            "numpy one-liner": numpy_one_liner(x, U8_STD, 0, 255),
            "numpy Generator one-liner": lambda i: np.clip(
                x + rng.normal(0, U8_STD, x.shape), 0, 255
            ).astype(np.uint8),
        },
        reps,
    )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9, help="rounds per batch comparison")
    ap.add_argument("--calls", type=int, default=10_000, help="calls per per-call median")
    ap.add_argument("--quick", action="store_true", help="3 rounds, 2000 calls")
    args = ap.parse_args()
    reps, calls = (3, 2000) if args.quick else (args.reps, args.calls)
    torch = load_torch()
    print(f"noise kernel: {kernels.ACTIVE}; torch: {torch.__version__ if torch else 'absent'}")
    print(f"one thread; medians over {reps} rounds (per call: {calls} calls)\n")

    for label, medians, what in batch_rows(torch, reps):
        ours = medians["noisecli"]
        print(f"{label} ({what})")
        for name, t in medians.items():
            print(f"  {name:<18} {t * 1e3:9.2f} ms   {t / ours:5.2f}x noisecli's time")
        speedup = medians["numpy one-liner"] / ours
        ok = verdict(speedup >= 3)
        print(f"  noisecli {speedup:.1f}x faster than the one-liner (>= 3): {ok}")
        if "torch" in medians:
            ratio = ours / medians["torch"]
            print(f"  noisecli {ratio:.2f}x torch's time (<= 1.5): {verdict(ratio <= 1.5)}")
        print()

    t_aug, t_kernel = overhead(calls)
    extra = t_aug - t_kernel
    print("one 32x32x3 uint8 image, per call")
    print(f"  aug(x, key=i)      {t_aug:8.2f} µs")
    print(f"  kernel alone       {t_kernel:8.2f} µs")
    print(f"  overhead           {extra:8.2f} µs (<= 20): {verdict(extra <= 20)}")
    t_ours, t_gen = single_image(calls)
    ratio = t_ours / t_gen
    print(f"  add_noise          {t_ours:8.2f} µs")
    print(f"  Generator 1-liner  {t_gen:8.2f} µs")
    print(f"  add_noise {ratio:.2f}x the one-liner's time (<= 1.5): {verdict(ratio <= 1.5)}\n")

    hd = full_hd(max(3, reps // 2))
    ours = hd["noisecli add_noise"]
    print("one 1920x1080x3 uint8 image")
    for name, t in hd.items():
        print(f"  {name:<26} {t * 1e3:8.2f} ms   {t / ours:5.2f}x noisecli's time")
    speedup = hd["numpy one-liner"] / ours
    print(f"  noisecli {speedup:.1f}x faster than the one-liner (>= 10): {verdict(speedup >= 10)}")


if __name__ == "__main__":
    main()
