"""Derive the pink-noise filter used by noisecli's coloured noises (prints the constants).

The filter has seven real poles and seven real zeros. Starting from the classic interleaved
layout (poles log-spaced in frequency, each zero half-way to the next pole, mapped to the
z-plane with z = exp(-2π f)), the positions are refined by least squares so that
20·log10|H| follows -10·log10(f) + c, i.e. a power spectrum falling 3.01 dB per octave,
from 1e-4·fs up to Nyquist. A first L2 fit is followed by a fit of the cubed error, which
pushes the result towards equal ripple. Run: ``python bench/design_pink_filter.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

ORDER = 7
LOWEST = 1e-4  # lowest frequency of the 1/f range, as a fraction of the sample rate
GRID = np.geomspace(LOWEST, 0.5, 800)


def log_magnitude(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """20·log10|H(e^{j2πf})| for poles tanh(v[:K]) and zeros tanh(v[K:])."""
    poles, zeros = np.tanh(v[:ORDER]), np.tanh(v[ORDER:])
    e = np.exp(-2j * np.pi * f)[:, None]
    num = np.abs(1 - zeros[None, :] * e).prod(axis=1)
    den = np.abs(1 - poles[None, :] * e).prod(axis=1)
    return np.asarray(20 * np.log10(num / den))


def deviation(v: np.ndarray) -> np.ndarray:
    """Departure from a -3.01 dB/octave power spectrum, with the best constant removed."""
    d = log_magnitude(v, GRID) + 10 * np.log10(GRID)
    return np.asarray(d - d.mean())


def design() -> tuple[np.ndarray, np.ndarray]:
    fp = np.geomspace(LOWEST * 0.7, 0.3, ORDER)
    fz = fp * np.sqrt(fp[1] / fp[0])
    v0 = np.arctanh(np.concatenate([np.exp(-2 * np.pi * fp), np.exp(-2 * np.pi * fz)]))
    first = optimize.least_squares(deviation, v0)
    second = optimize.least_squares(lambda v: deviation(v) ** 3, first.x)
    return np.sort(np.tanh(second.x[:ORDER])), np.sort(np.tanh(second.x[ORDER:]))


def main() -> None:
    poles, zeros = design()
    v = np.arctanh(np.concatenate([poles, zeros]))
    print("PINK_POLES = (" + ", ".join(f"{p:.12f}" for p in poles) + ")")
    print("PINK_ZEROS = (" + ", ".join(f"{z:.12f}" for z in zeros) + ")")
    print(f"largest deviation from 1/f, 1e-4·fs..fs/2: {np.abs(deviation(v)).max():.3f} dB")
    for fs in (16000, 48000):
        f = np.linspace(200, 0.4 * fs, 4000) / fs
        slope = np.polyfit(np.log2(f), log_magnitude(v, f), 1)[0]
        print(f"slope 200 Hz..0.4·fs at {fs} Hz: {slope:.3f} dB/octave")


if __name__ == "__main__":
    main()
