"""Audio noises are endless streams of samples, mixed in at a level the caller chooses.

An :class:`AudioNoise` draws its per-output parameters in ``prepare`` and returns a fresh
:class:`NoiseStream` as the prepared state. The stream hands out consecutive blocks of
``(frames, channels)`` float64 samples; cutting the stream into other block sizes never
changes a value, so files come out byte-identical whatever ``--chunk``. Levels (SNR,
dBFS) are not a noise's business: ``noisecli.audio.mix`` measures the stream and scales it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from noisecli.noise.base import MediaInfo, Noise, Prepared, Span, flag_param
from noisecli.ranges import Media

MONO = flag_param("mono", "the same noise on every channel (default: independent per channel)")


class NoiseStream(ABC):
    """Consecutive blocks of one output's noise, ``(frames, channels)`` float32 or float64."""

    channels: int

    @abstractmethod
    def read(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames (a stream's values depend only on their position)."""

    def add_into(
        self, x: np.ndarray, out: np.ndarray, gain: float, lo: float, hi: float
    ) -> int | None:
        """``out = clip(rint(x + gain·n))`` for the next ``len(x)`` frames of integer samples
        ``x``, in one fused pass computing exactly what ``read`` and the mixer's float32
        arithmetic would (``gain`` taken as float32); returns the clipped count. None, with
        nothing consumed, when the stream has no such pass (then the caller reads)."""
        return None

    def mean_power(self, frames: int, keep: bool = False) -> float | None:
        """Mean square of the first ``frames`` frames of a fresh stream, if it can be had
        without producing them (None otherwise); the stream must not be read afterwards.
        With ``keep`` the stream may hold on to values it made on the way (:meth:`kept`)."""
        return None

    def kept(self) -> np.ndarray | None:
        """Values the last ``mean_power(keep=True)`` made and kept (read-only), which a
        later pass over an equal stream may take (:meth:`reuse`); None if none."""
        return None

    def reuse(self, kept: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Take values from ``kept`` (:meth:`kept` of an equal stream) instead of making
        them again; a stream without such values ignores it."""

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
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        """``chunk + n`` with ``n`` the next frames of the stream at its own level."""
        chunk += self.stream(prepared).read(len(chunk)).astype(chunk.dtype, copy=False)
        return chunk
