"""Coloured Gaussian noise: white noise through a power-law filter, as an endless stream.

The power spectral density of a colour falls or rises by ``exponent · 3.01`` dB per octave
(``S(f) ∝ f^exponent``): white 0, pink -1, brown -2, blue +1, violet +2. All colours share
one pink filter ``H`` (seven real poles and zeros, within 0.05 dB of ``1/f`` in power from
1e-4·fs up to Nyquist; derived by ``bench/design_pink_filter.py``): a colour of exponent
``k`` is white noise through ``H^-k`` (``1/H`` for blue and violet, whose zeros become poles
inside the unit circle), scaled by ``c`` so that the stream has unit variance:
``n = c · (H^-k * w)``, ``w ~ N(0, 1)`` per output (per channel unless ``mono``) from the
counter-based stream of :mod:`noisecli.rng` (value ``j`` from word ``j``).

The filter runs in second-order sections with their state carried from block to block
(``scipy.signal.sosfilt`` with ``zi``), so the stream has no seams and any cut of it gives
the same values as one pass. Each stream first runs its filter over ``WARMUP`` frames, so
that the noise is stationary from the first sample instead of rising from silence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, Param, Prepared
from noisecli.noise.stream import MONO, AudioNoise, NoiseStream
from noisecli.rng import kernels
from noisecli.rng.keys import OutputRandom
from noisecli.rng.philox import Stream
from noisecli.rng.power import normal_mean_square

_FUSED_DTYPES = (np.dtype(np.int16),)

PINK_POLES = (
    -0.662594573005,
    0.257459031925,
    0.761025179624,
    0.940910263551,
    0.986451749902,
    0.996982382894,
    0.999470402866,
)
PINK_ZEROS = (
    -0.688236650360,
    -0.020341583676,
    0.555735992739,
    0.879180555960,
    0.971583704996,
    0.993576803851,
    0.998628418828,
)
WARMUP = 32768  # frames: over 17 time constants of the slowest pole
IMPULSE = 1 << 18  # frames of impulse response summed for the unit-variance gain


def _sections(zeros: tuple[float, ...], poles: tuple[float, ...]) -> np.ndarray:
    """Second-order sections of real zeros and poles, paired in order, from + − × only:
    ``(1, -(z1+z2), z1·z2, 1, -(p1+p2), p1·p2)``; an odd one out is first order."""
    rows = []
    for i in range(0, len(zeros), 2):
        z, p = zeros[i : i + 2], poles[i : i + 2]
        if len(z) == 2:
            rows.append((1.0, -(z[0] + z[1]), z[0] * z[1], 1.0, -(p[0] + p[1]), p[0] * p[1]))
        else:
            rows.append((1.0, -z[0], 0.0, 1.0, -p[0], 0.0))
    return np.array(rows)


@cache
def colour_filter(exponent: int) -> tuple[np.ndarray, float] | None:
    """(second-order sections, unit-variance gain) of ``H^-exponent``; None for white.

    The sections come from the poles and zeros by basic arithmetic and the gain from an
    exactly rounded sum (``math.fsum``), so both are the same bits on every CPU.
    """
    if exponent == 0:
        return None
    from scipy import signal

    zeros, poles = (PINK_ZEROS, PINK_POLES) if exponent < 0 else (PINK_POLES, PINK_ZEROS)
    times = abs(exponent)
    sos = _sections(zeros * times, poles * times)
    impulse = np.zeros(IMPULSE)
    impulse[0] = 1.0
    response = signal.sosfilt(sos, impulse)
    return sos, 1.0 / math.sqrt(math.fsum((response * response).tolist()))


class ColourStream(NoiseStream):
    """Filtered Gaussian noise for ``channels`` channels (one shared column if ``mono``).

    White value ``(frame f, column c)`` of ``width`` columns is the normal of stream word
    ``f·width + c``; the filter warms up on a child stream (``"warmup"``). White is served
    as float32, the filtered colours as float64.
    """

    def __init__(self, exponent: int, channels: int, mono: bool, stream: Stream) -> None:
        self.channels = channels
        self._width = 1 if mono else channels
        self._filter = colour_filter(exponent)
        self._zi: np.ndarray | None = None
        self._stream = stream
        self._pos = 0
        self._kept: np.ndarray | None = None

    def _kept_at(self, count: int) -> np.ndarray | None:
        """The next ``count`` white values from the kept ones, if they hold them."""
        kept = self._kept
        if kept is None or self._pos + count > kept.size:
            return None
        return kept[self._pos : self._pos + count]

    def _white(self, frames: int) -> np.ndarray:
        count = frames * self._width
        white = self._kept_at(count)
        if white is None:
            white = self._stream.normal(self._pos, count)
        self._pos += count
        return white.reshape(frames, self._width)

    def _filtered(self, white: np.ndarray) -> np.ndarray:
        if self._filter is None:
            return white
        from scipy import signal

        sos, gain = self._filter
        if self._zi is None:
            self._zi = np.zeros((len(sos), 2, self._width))
        out, self._zi = signal.sosfilt(sos, white.astype(np.float64), axis=0, zi=self._zi)
        out *= gain
        return np.asarray(out)

    def read(self, frames: int) -> np.ndarray:
        if self._filter is not None and self._zi is None:
            warmup = self._stream.child("warmup").normal(0, WARMUP * self._width)
            self._filtered(warmup.reshape(WARMUP, self._width))
        block = self._filtered(self._white(frames))
        if self._width != self.channels:
            return np.broadcast_to(block, (frames, self.channels))
        return block

    def add_into(
        self, x: np.ndarray, out: np.ndarray, gain: float, lo: float, hi: float
    ) -> int | None:
        """White only: the fused add of :func:`noisecli.rng.kernels.add_normal` (a mono
        column repeats over the channels); the filtered colours return None."""
        if self._filter is not None or x.dtype not in _FUSED_DTYPES:
            return None
        repeat = self.channels // self._width
        count = len(x) * self._width
        kept = self._kept_at(count)
        if kept is not None:
            clipped = kernels.add_values(x, out, kept, gain, lo=lo, hi=hi, repeat=repeat)
        else:
            clipped = kernels.add_normal(
                x, out, self._stream, self._pos, gain, lo=lo, hi=hi, repeat=repeat
            )
        self._pos += count
        return clipped

    def mean_power(self, frames: int, keep: bool = False) -> float | None:
        """White only: the exact power of its first ``frames`` frames, summed in integers
        (:func:`noisecli.rng.power.normal_mean_square`); with ``keep`` the values summed
        are also kept, for the mix."""
        if self._filter is not None or frames <= 0:
            return None
        count = frames * self._width
        if not keep:
            return normal_mean_square(self._stream, 0, count)
        white = np.empty(count, np.float32)
        power = normal_mean_square(self._stream, 0, count, out=white)
        white.flags.writeable = False
        self._kept = white
        return power

    def kept(self) -> np.ndarray | None:
        return self._kept

    def reuse(self, kept: np.ndarray) -> None:
        if self._filter is None:
            self._kept = kept


@dataclass(frozen=True)
class ColourNoise(AudioNoise):
    """Shared body of the five colours; a subclass only names itself and its exponent."""

    exponent: ClassVar[int] = 0
    cli_params: ClassVar[tuple[Param, ...]] = (MONO,)

    mono: bool = False

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        params: dict[str, float | str | bool] = {"colour": self.name, "mono": self.mono}
        stream = ColourStream(self.exponent, info.channels, self.mono, rnd.stream)
        return Prepared(params, stream)
