"""The chunk engine: noise float32 chunks, clip to the output range, cast back.

Both the batch pipeline and :func:`noisecli.add_noise` run every array through
:class:`ChunkNoiser`, so a file and an in-memory array get the same bytes for the same seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise import Noise, get_noise
from noisecli.noise.base import (
    Media,
    MediaInfo,
    Prepared,
    clip_to_range,
    output_generators,
    stream_key,
    value_range,
)

SUPPORTED_IMAGE_DTYPES = ("uint8", "uint16", "float32")
DEFAULT_IMAGE_CHUNK_ROWS = 256


@dataclass
class NoiseStats:
    """Counts for one output: values noised and values clipped."""

    values: int = 0
    clipped: int = 0

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.values if self.values else 0.0


class ChunkNoiser:
    """Applies one noise to consecutive chunks of one output and keeps its statistics."""

    def __init__(
        self,
        noise: Noise,
        info: MediaInfo,
        params_rng: np.random.Generator,
        noise_rng: np.random.Generator,
    ) -> None:
        noise.check(info)
        self.noise = noise
        self.info = info
        self.rng = noise_rng
        self.prepared: Prepared = noise.prepare(info, params_rng)
        self.stats = NoiseStats()
        self._integer = np.dtype(info.dtype).kind in "ui"
        self.kernel = noise.native_kernel(info, self.prepared, noise_rng)

    def __call__(self, chunk: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Noise one chunk in the output's dtype, into ``out`` if given (else a new array)."""
        if self.kernel is not None:
            return self._native(chunk, out)
        work = chunk.astype(np.float32, copy=True)
        work = self.noise.apply(work, self.rng, self.info, self.prepared)
        work, clipped = clip_to_range(work, self.info.lo, self.info.hi, self._integer)
        self._count(work.size, clipped)
        result = work.astype(self.info.dtype, copy=False)
        if out is None:
            return result
        out[...] = result
        return out

    def _native(self, chunk: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        """The noise's own fast path; it needs contiguous arrays."""
        assert self.kernel is not None
        src = np.ascontiguousarray(chunk)
        direct = out is not None and out.flags.c_contiguous
        dst = out if direct and out is not None else np.empty_like(src)
        self._count(src.size, self.kernel(src, dst))
        if out is None or direct:
            return dst
        out[...] = dst
        return out

    def _count(self, values: int, clipped: int) -> None:
        self.stats.values += values
        self.stats.clipped += clipped


def image_layout(array: np.ndarray) -> tuple[np.ndarray, int]:
    """View an image as ``(H, W, C)`` and return it with its number of colour channels.

    Two or four channels mean the last one is alpha, which is never noised.
    """
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise UsageError(f"an image must be HxW or HxWxC with C in 1..4, got shape {array.shape}")
    if array.dtype.name not in SUPPORTED_IMAGE_DTYPES:
        raise UsageError(
            f"image dtype {array.dtype} is not supported (use {', '.join(SUPPORTED_IMAGE_DTYPES)})"
        )
    channels = array.shape[2]
    return array, channels - 1 if channels in (2, 4) else channels


def image_info(array: np.ndarray) -> MediaInfo:
    """The :class:`MediaInfo` of an image array (any layout accepted by ``image_layout``)."""
    _, colour = image_layout(array)
    lo, hi, full = value_range(array.dtype, "image")
    return MediaInfo("image", array.dtype.name, tuple(array.shape), colour, lo, hi, full)


def noise_image(
    array: np.ndarray,
    noise: Noise,
    params_rng: np.random.Generator,
    noise_rng: np.random.Generator,
    chunk_rows: int = DEFAULT_IMAGE_CHUNK_ROWS,
) -> tuple[np.ndarray, ChunkNoiser]:
    """Noise an image in row bands of ``chunk_rows``; alpha is copied bit for bit."""
    if chunk_rows < 1:
        raise UsageError(f"chunk size must be at least 1 row, got {chunk_rows}")
    view, colour = image_layout(array)
    noiser = ChunkNoiser(noise, image_info(array), params_rng, noise_rng)
    out = np.empty_like(view)
    if colour < view.shape[2]:
        out[:, :, colour:] = view[:, :, colour:]
    for start in range(0, view.shape[0], chunk_rows):
        rows = slice(start, start + chunk_rows)
        noiser(view[rows, :, :colour], out[rows, :, :colour])
    return out.reshape(array.shape), noiser


def resolve_noise(noise: str | Noise, media: Media, params: Mapping[str, Any]) -> Noise:
    """A Noise instance from a name plus parameters, or the instance itself."""
    if isinstance(noise, Noise):
        if params:
            raise UsageError("pass parameters either in the Noise instance or as keywords")
        return noise
    return get_noise(noise, media).from_options(params)


def add_noise(
    array: np.ndarray,
    noise: str | Noise = "gaussian",
    *,
    seed: int | None = None,
    chunk: int | None = None,
    sample_rate: int | None = None,
    **params: Any,
) -> np.ndarray:
    """Return a noisy copy of an image array or of audio samples, same shape and dtype.

    ``noise`` is a registered name (``"gaussian"``, ``"pink"``) or a Noise instance;
    ``params`` are the noise's parameters as numbers or as the CLI's text (``std=25``,
    ``std="5:50"``, ``std="10%"``). Audio is ``(frames,)`` or ``(frames, channels)`` with a
    ``sample_rate`` and takes ``snr``, ``level`` (dBFS), ``on_clip`` and ``no_clip``, e.g.
    ``add_noise(x, "pink", snr=10, sample_rate=16000, seed=1)``. ``chunk`` is rows (image)
    or frames (audio). The same ``seed`` always gives the same result, whatever ``chunk``.
    Without a seed, fresh entropy is used.
    """
    seed_value = np.random.SeedSequence().entropy if seed is None else seed
    if sample_rate is not None:
        from noisecli.audiomix import AUDIO_OPTION_NAMES, noise_samples

        options = {k: params.pop(k) for k in AUDIO_OPTION_NAMES if k in params}
        audio_noise = resolve_noise(noise, "audio", params)
        return noise_samples(
            array,
            audio_noise,
            sample_rate=sample_rate,
            seed=int(seed_value),  # type: ignore[arg-type]
            chunk=chunk,
            **options,
        )
    if isinstance(noise, str) and "image" not in get_noise(noise).media:
        raise UsageError(f"noise {noise!r} is for audio: pass sample_rate= with the samples")
    inst = resolve_noise(noise, "image", params)
    array = np.asarray(array)
    params_rng, noise_rng = output_generators(int(seed_value), stream_key("", 0))  # type: ignore[arg-type]
    out, _ = noise_image(array, inst, params_rng, noise_rng, chunk or DEFAULT_IMAGE_CHUNK_ROWS)
    return out
