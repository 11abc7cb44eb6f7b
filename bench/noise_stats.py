"""Requested vs measured statistics of every image noise (a report, not a test).

Run: .venv/bin/python bench/noise_stats.py   (about ten seconds; 10^6 values per line)

Noise is measured on flat images through the same engine the CLI uses (clipping
included) except for the severity table, which is measured on the noise's output
before the clip so that the constant itself is estimated.
"""

from __future__ import annotations

import math

import numpy as np

from noisecli.image.engine import image_info, noise_image
from noisecli.noise import Noise, get_noise
from noisecli.noise.base import Span
from noisecli.noise.sensor import linear_to_srgb, srgb_to_linear
from noisecli.noise.severity import PRESETS, TARGETS, severity_value
from noisecli.ranges import value_range
from noisecli.rng.keys import OutputRandom, file_key, output_random

SEED = 2024
SIDE = 1000
_streams = iter(range(10**9))  # a fresh stream per measurement: the lines are independent


def generators() -> OutputRandom:
    return output_random(SEED, file_key(f"bench-{next(_streams)}.png", 0))


def noised(noise: Noise, src: np.ndarray) -> np.ndarray:
    """Engine output on the [0, 1] scale, float64."""
    out, _ = noise_image(src, noise, generators())
    return out.astype(np.float64) / value_range(src.dtype)[2]


def grey(level: float, dtype: str = "float32", channels: int = 1) -> np.ndarray:
    full = value_range(dtype)[2]
    value = round(level * full) if dtype != "float32" else level
    return np.full((SIDE, SIDE, channels), value, dtype=dtype)


def line(what: str, requested: str, measured: str) -> None:
    print(f"{what:<52} {requested:>14} {measured:>14}")


def additive() -> None:
    for name in ("gaussian", "uniform"):
        noise = get_noise(name).from_options({"std": 25})
        for dtype in ("uint8", "uint16", "float32"):
            src = grey(0.5, dtype)
            diff = noised(noise, src) - src.astype(np.float64) / value_range(dtype)[2]
            sigma = diff.std() * 255
            line(f"{name} --std 25, {dtype}: sigma (8-bit levels)", "25", f"{sigma:.4f}")
    bound = f"<= {math.sqrt(3) * 25:.4f}"
    line("uniform float32: max |noise| (8-bit levels)", bound, f"{np.abs(diff).max() * 255:.4f}")


def poisson() -> None:
    photons = 200.0
    noise = get_noise("poisson").from_options({"photons": photons})
    for level in (0.05, 0.2, 0.5, 0.6):
        out = noised(noise, grey(level))
        line(f"poisson k=200, x={level}: mean", f"{level:.4f}", f"{out.mean():.5f}")
        line(
            f"poisson k=200, x={level}: variance x/k", f"{level / photons:.3e}", f"{out.var():.3e}"
        )


def salt_pepper() -> None:
    for per_pixel in (False, True):
        options = {"amount": 0.1, "salt_ratio": 0.3, "per_pixel": per_pixel}
        src = grey(0.5, "uint8", channels=3)
        out = noised(get_noise("salt-pepper").from_options(options), src)
        changed = out != src / 255
        unit = changed.any(axis=2) if per_pixel else changed
        salt = (out[changed] == 1.0).mean()
        tag = "per pixel" if per_pixel else "per value"
        line(f"salt-pepper {tag}: replaced fraction", "0.1", f"{unit.mean():.5f}")
        line(f"salt-pepper {tag}: salt among replaced", "0.3", f"{salt:.5f}")
        ends = np.isin(out[changed], (0.0, 1.0)).mean()
        line(f"salt-pepper {tag}: replaced at 0 or 1", "1", f"{ends:.5f}")


def speckle() -> None:
    noise = get_noise("speckle").from_options({"std": 0.2})
    for level in (0.1, 0.25, 0.4):
        out = noised(noise, grey(level))
        line(f"speckle std=0.2, x={level}: std/x", "0.2", f"{(out - level).std() / level:.5f}")


def sensor() -> None:
    shot, read = 0.004, 1e-4
    noise = get_noise("sensor").from_options({"shot": shot, "read": read})
    ys, variances = [], []
    for y in (0.1, 0.25, 0.45, 0.65):
        src = grey(float(linear_to_srgb(np.float32(y))))
        linear = srgb_to_linear(noised(noise, src).astype(np.float32)).astype(np.float64)
        ys.append(y)
        variances.append(linear.var())
        line(
            f"sensor a=0.004 b=1e-4, y={y}: var a*y+b",
            f"{shot * y + read:.4e}",
            f"{linear.var():.4e}",
        )
    a, b = np.polyfit(ys, variances, 1)
    line("sensor: fitted a (slope)", f"{shot:.4e}", f"{a:.4e}")
    line("sensor: fitted b (intercept)", f"{read:.4e}", f"{b:.4e}")
    iso = get_noise("sensor").from_options({"iso_like": "100:12000"})
    info = image_info(grey(0.5))
    rnd = generators()  # one parameter stream, read on
    draws = [iso.prepare(info, rnd).params for _ in range(100_000)]
    log_shot = np.log([float(d["shot"]) for d in draws])
    residual = np.log([float(d["read"]) for d in draws]) - (2.18 * log_shot + 1.20)
    lo, hi = math.log(1e-4), math.log(0.012)
    line("iso-like 100:12000: mean log shot", f"{(lo + hi) / 2:.4f}", f"{log_shot.mean():.4f}")
    line("iso-like: std log shot", f"{(hi - lo) / math.sqrt(12):.4f}", f"{log_shot.std():.4f}")
    line("iso-like: log read residual mean", "0", f"{residual.mean():.4f}")
    line("iso-like: log read residual std", "0.26", f"{residual.std():.4f}")


def severities() -> None:
    src = grey(0.5)
    info = image_info(src)
    for preset in PRESETS:
        for name in TARGETS:
            measured = []
            for severity in range(1, 6):
                noise = get_noise(name).from_options({"severity": severity, "preset": preset})
                rnd = generators()
                prepared = noise.prepare(info, rnd)
                out = noise.apply(src.copy(), Span(), info, prepared).astype(np.float64)
                if name == "poisson":
                    measured.append(0.5 / out.var())
                elif name == "salt-pepper":
                    measured.append((out != 0.5).mean())
                else:
                    measured.append((out - 0.5).std() / (0.5 if name == "speckle" else 1.0))
            table = ", ".join(f"{severity_value(preset, name, s):g}" for s in range(1, 6))
            values = ", ".join(f"{m:.4g}" for m in measured)
            line(f"{preset} {name} severities 1..5", "", "")
            print(f"    table:    {table}\n    measured: {values}")


def main() -> None:
    line("statistic", "requested", "measured")
    additive()
    poisson()
    salt_pepper()
    speckle()
    sensor()
    severities()


if __name__ == "__main__":
    main()
