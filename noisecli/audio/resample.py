"""Rational-rate resampling of an endless stream, in fixed blocks.

The filter is the one ``scipy.signal.resample_poly`` designs (a Kaiser-windowed sinc,
β = 5, cut-off at the lower Nyquist rate, ``10·max(up, down)`` taps on each side, gain
``up``), applied with the same zero-phase alignment: output ``m`` sits at input time
``lead + m·down/up``, where the first ``lead`` input frames only prime the filter.
Each block of ``M`` outputs (a multiple of ``up``) consumes exactly ``M·down/up`` new input
frames, so every block is computed the same way and the stream has no seams.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

BLOCK = 8192  # outputs per block, rounded up to a multiple of ``up``
KAISER_BETA = 5.0
_TWO_PI_HI = 6.283185307179586  # 2π split in two doubles, for an exact-enough reduction
_TWO_PI_LO = 2.4492935982947064e-16


def _sin(x: float) -> float:
    """sin(x) from + − × ÷ only (reduced to [-π, π], then its Taylor series)."""
    k = round(x / _TWO_PI_HI)
    r = (x - k * _TWO_PI_HI) - k * _TWO_PI_LO
    term, total, n = r, r, 1
    while abs(term) > 1e-18:
        term *= -r * r / ((n + 1) * (n + 2))
        total += term
        n += 2
    return total


def _bessel_i0(x: float) -> float:
    """The modified Bessel function I0(x) = Σ ((x/2)^k / k!)², summed to double precision."""
    q = x * x / 4.0
    term, total, k = 1.0, 1.0, 0
    while term > total * 1e-17:
        k += 1
        term *= q / (k * k)
        total += term
    return total


def lowpass_taps(count: int, cutoff: float, beta: float) -> list[float]:
    """``scipy.signal.firwin(count, cutoff, window=("kaiser", beta))`` computed from basic
    operations only, so the taps (and the resampled noise) are the same on every CPU:
    ``h[n] = c·sinc(c·m)·w[n]``, ``m = n - (count-1)/2``, Kaiser ``w``, scaled to unit DC gain."""
    centre = (count - 1) / 2.0
    i0_beta = _bessel_i0(beta)
    taps = []
    for n in range(count):
        m = n - centre
        x = math.pi * cutoff * m
        sinc = 1.0 if m == 0 else _sin(x) / x
        ratio = 2.0 * n / (count - 1) - 1.0 if count > 1 else 0.0
        window = _bessel_i0(beta * math.sqrt(max(0.0, 1.0 - ratio * ratio))) / i0_beta
        taps.append(cutoff * sinc * window)
    total = math.fsum(taps)
    return [t / total for t in taps]


def _ratio(rate_in: int, rate_out: int) -> tuple[int, int, int]:
    """(up, down, half filter length in upsampled samples)."""
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    return up, down, 10 * max(up, down)


def lead_frames(rate_in: int, rate_out: int) -> int:
    """Input frames the stream reads before the centre of output 0."""
    up, _, half = _ratio(rate_in, rate_out)
    return -(-half // up)


class StreamResampler:
    """Resample ``pull(n) -> (n, channels)`` from ``rate_in`` to ``rate_out``."""

    def __init__(
        self, rate_in: int, rate_out: int, channels: int, pull: Callable[[int], np.ndarray]
    ) -> None:
        self.up, self.down, half = _ratio(rate_in, rate_out)
        taps = np.array(lowpass_taps(2 * half + 1, 1.0 / max(self.up, self.down), KAISER_BETA))
        self.lead = lead_frames(rate_in, rate_out)
        # output j of a block starts its sum j·down - pad samples into the upsampled input
        self._first = -(-(half + self.lead * self.up) // self.down)
        pad = self._first * self.down - half - self.lead * self.up
        self._taps = np.concatenate([np.zeros(pad), taps * self.up])
        self.block = -(-BLOCK // self.up) * self.up
        self._step = self.block // self.up * self.down
        last = (self._first + self.block - 1) * self.down - pad
        self._span = last // self.up + 1
        self._pull = pull
        self._buffer = pull(self._span)
        self.channels = channels

    def produce(self) -> np.ndarray:
        """The next ``block`` output frames."""
        from scipy import signal

        out = signal.upfirdn(self._taps, self._buffer, self.up, self.down, axis=0)
        block = np.asarray(out[self._first : self._first + self.block])
        self._buffer = np.concatenate([self._buffer[self._step :], self._pull(self._step)])
        return block
