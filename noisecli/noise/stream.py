"""Audio noises are endless streams of samples, mixed in at a level the caller chooses.

An :class:`AudioNoise` draws its per-output parameters in ``prepare`` and returns a fresh
:class:`NoiseStream` as the prepared state. The stream hands out consecutive blocks of
``(frames, channels)`` float64 samples; cutting the stream into other block sizes never
changes a value, so files come out byte-identical whatever ``--chunk``. Levels (SNR,
dBFS) are not a noise's business: ``noisecli.audiomix`` measures the stream and scales it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from noisecli.noise.base import Media, MediaInfo, Noise, Prepared, flag_param

MONO = flag_param("mono", "the same noise on every channel (default: independent per channel)")


class NoiseStream(ABC):
    """Consecutive blocks of one output's noise, ``(frames, channels)`` float32 or float64."""

    channels: int

    @abstractmethod
    def read(self, frames: int, rng: np.random.Generator) -> np.ndarray:
        """The next ``frames`` frames; random draws (if any) come from ``rng`` in order."""

    def mean_power(self, frames: int, rng: np.random.Generator) -> float | None:
        """Mean square of the first ``frames`` frames of a fresh stream, if it can be had
        without producing them (None otherwise); the stream must not be read afterwards."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files held by the stream."""


class AudioNoise(Noise):
    """Base of the audio noises: ``prepare`` returns ``Prepared(params, NoiseStream)``."""

    media: ClassVar[tuple[Media, ...]] = ("audio",)

    @staticmethod
    def stream(prepared: Prepared) -> NoiseStream:
        """The stream held by a prepared output."""
        state = prepared.state
        if not isinstance(state, NoiseStream):
            raise TypeError("an audio noise's prepared state must be a NoiseStream")
        return state

    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        """``chunk + n`` with ``n`` the next frames of the stream at its own level."""
        chunk += self.stream(prepared).read(len(chunk), rng).astype(chunk.dtype, copy=False)
        return chunk


class Reblocker:
    """Serves any number of frames from a source that produces fixed-size blocks.

    Whatever sizes are asked for, the source is called the same way, so anything it
    computes (filters, resampling, file reads) is independent of the caller's block size.
    """

    def __init__(
        self, produce: Callable[[], np.ndarray], channels: int, dtype: type = np.float64
    ) -> None:
        self._produce = produce
        self._block: np.ndarray = np.empty((0, channels), dtype)
        self._pos = 0
        self.channels = channels

    def read(self, frames: int) -> np.ndarray:
        out = np.empty((frames, self.channels), self._block.dtype)
        filled = 0
        while filled < frames:
            if self._pos == len(self._block):
                self._block = self._produce()
                self._pos = 0
            take = min(frames - filled, len(self._block) - self._pos)
            out[filled : filled + take] = self._block[self._pos : self._pos + take]
            filled += take
            self._pos += take
        return out
