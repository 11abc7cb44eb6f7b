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
        from scipy import signal

        self.up, self.down, half = _ratio(rate_in, rate_out)
        taps = signal.firwin(2 * half + 1, 1.0 / max(self.up, self.down), window=("kaiser", 5.0))
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
