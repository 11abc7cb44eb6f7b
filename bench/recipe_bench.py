"""What a recipe of two image steps costs next to its steps alone: one 1920x1080x3 uint8 image.

A recipe runs its steps on one float32 working copy of each band and rounds, clips and
casts once at the end, so it should cost what its two steps cost apart minus the one
clip-and-cast pass it saves::

    ratio = recipe(A, B) / (A + B - pass)     target <= 1.0 (within noise)

``pass`` is the engine's float path around a noise that adds nothing (copy to float32,
round, clip, cast back, in the same bands). A and B alone run as the CLI runs them (their
compiled kernel when they have one); the ``A (apply)`` and ``B (apply)`` rows are the same
steps alone on the float path, which is what a recipe step runs, so the second ratio,
``recipe / (A_apply + B_apply - pass)``, shows what the recipe itself adds (its copies).

One thread (set before numpy loads), medians (and minima) over repetitions, the variants
alternating in a rotated order so that a busy machine slows each of them alike.

Usage: ``python bench/recipe_bench.py [--reps 15] [--pairs gaussian+uniform,gaussian+salt-pepper]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import ClassVar  # noqa: E402

import numpy as np  # noqa: E402

from noisecli.image.engine import noise_image  # noqa: E402
from noisecli.noise import Noise, get_noise  # noqa: E402
from noisecli.noise.base import MediaInfo, Prepared, Span  # noqa: E402
from noisecli.noise.recipe import Recipe  # noqa: E402
from noisecli.rng import kernels  # noqa: E402
from noisecli.rng.keys import OutputRandom, file_key, output_random  # noqa: E402

STEPS: dict[str, dict[str, str]] = {
    "gaussian": {"std": "10"},
    "uniform": {"std": "5"},
    "salt-pepper": {"amount": "0.02"},
    "speckle": {"std": "0.1"},
    "poisson": {"photons": "100"},
}


@dataclass(frozen=True)
class Nothing(Noise):
    """Adds nothing: what the engine's float path costs around a noise."""

    name: ClassVar[str] = "nothing"

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        return Prepared({})

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        return chunk


def image() -> np.ndarray:
    """A smooth 1920x1080 RGB picture with edges (no decoder needed)."""
    yy, xx = np.mgrid[0:1080, 0:1920]
    planes = [(xx * 255 // 1919 + c * 40 + yy // 9) % 256 for c in range(3)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def timer(img: np.ndarray, noise: Noise) -> Callable[[int], float]:
    def run(rep: int) -> float:
        rnd = output_random(7, file_key("bench.png", rep))
        start = time.perf_counter()
        noise_image(img, noise, rnd)
        return time.perf_counter() - start

    return run


def measure(variants: dict[str, Callable[[int], float]], reps: int) -> dict[str, list[float]]:
    names = list(variants)
    times: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # warm-up: tables, caches, first allocations
        variants[name](0)
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(variants[name](rep + 1))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--pairs", default="gaussian+uniform,gaussian+salt-pepper")
    args = ap.parse_args()
    img = image()
    print(f"image 1920x1080x3 uint8, one thread, kernel {kernels.ACTIVE}, {args.reps} reps")
    print(f"{'':<34}{'median ms':>10}{'min ms':>9}")
    for pair in args.pairs.split(","):
        a_name, b_name = pair.split("+")
        a = get_noise(a_name).from_options(STEPS[a_name])
        b = get_noise(b_name).from_options(STEPS[b_name])
        variants = {
            f"A {a_name}": timer(img, a),
            f"B {b_name}": timer(img, b),
            f"A {a_name} (apply)": timer(img, Recipe([a, Nothing()])),
            f"B {b_name} (apply)": timer(img, Recipe([b, Nothing()])),
            "pass (copy, clip, cast)": timer(img, Nothing()),
            f"recipe {a_name} + {b_name}": timer(img, Recipe([a, b])),
        }
        times = measure(variants, args.reps)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        for name, values in times.items():
            print(f"  {name:<32}{med[name]:>10.2f}{min(values) * 1e3:>9.2f}")
        ma, mb, aa, ab, cp, r = med.values()
        print(f"  ratio recipe / (A + B - pass)            {r / (ma + mb - cp):.3f}")
        print(f"  ratio recipe / (A_apply + B_apply - pass) {r / (aa + ab - cp):.3f}")


if __name__ == "__main__":
    main()
