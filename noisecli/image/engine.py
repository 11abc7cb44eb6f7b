"""The chunk engine: noise float chunks, clip to the output range, cast back.

Both the batch pipeline and :func:`noisecli.add_noise` run every array through
:class:`ChunkNoiser`: a file's image via :func:`noise_image` (8-bit levels, the dtype's full
scale), an array's samples via :func:`noise_rows` on the ``(rows, width, channels)`` views
``noisecli.api.augment`` makes of them (the array's own units, see there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise import Noise
from noisecli.noise.base import MediaInfo, NativeKernel, Prepared, Span
from noisecli.ranges import clip_to_range, dtype_name, value_range
from noisecli.rng.keys import OutputRandom

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


# dtypes whose values float32 does not hold exactly: their chunks are noised in float64
WIDE_DTYPES = frozenset({"float64", "int32", "uint32", "int64", "uint64"})


def work_dtype(dtype: str) -> type[np.floating[Any]]:
    """The float type chunks of ``dtype`` are noised in: float32, float64 for wide types."""
    return np.float64 if dtype in WIDE_DTYPES else np.float32


class ChunkNoiser:
    """Applies one noise to consecutive chunks of one output and keeps its statistics.

    Chunks are whole rows (frames) in output order; each chunk's :class:`Span` is the flat
    index of its first value and pixel, which addresses the noise stream. ``check=False``
    skips ``noise.check`` (the caller checked this ``info`` already).
    """

    def __init__(
        self,
        noise: Noise,
        info: MediaInfo,
        rnd: OutputRandom,
        *,
        check: bool = True,
        scratch: np.ndarray | None = None,
    ) -> None:
        if check:
            noise.check(info)
        prepared = noise.prepare(info, rnd)
        self._setup(noise, info, prepared, noise.native_kernel(info, prepared), scratch)

    @classmethod
    def prepared_with(
        cls,
        noise: Noise,
        info: MediaInfo,
        prepared: Prepared,
        kernel: NativeKernel | None,
        scratch: np.ndarray | None = None,
    ) -> ChunkNoiser:
        """A noiser of an output already prepared (and checked), with its kernel."""
        self = cls.__new__(cls)
        self._setup(noise, info, prepared, kernel, scratch)
        return self

    def _setup(
        self,
        noise: Noise,
        info: MediaInfo,
        prepared: Prepared,
        kernel: NativeKernel | None,
        scratch: np.ndarray | None,
    ) -> None:
        # scratch: bytes reused by the chunks that need a contiguous copy (fresh arrays of a
        # few hundred KB each cost page faults); may be handed on to the next output's noiser
        self.scratch = scratch
        self.noise = noise
        self.info = info
        self.prepared = prepared
        self.stats = NoiseStats()
        self._integer = np.dtype(info.dtype).kind in "ui"
        self._work = work_dtype(info.dtype)
        self.kernel = kernel
        self._span = Span()

    def _next_span(self, chunk: np.ndarray) -> Span:
        span = self._span
        values = chunk.size
        self._span = Span(span.value + values, span.pixel + values // max(1, chunk.shape[-1]))
        return span

    def __call__(self, chunk: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Noise the next chunk in the output's dtype, into ``out`` if given (else new).

        ``chunk`` and ``out`` may be strided views; ``out`` may have another dtype than
        ``info.dtype`` (the result is cast to it).
        """
        span = self._next_span(chunk)
        if self.kernel is not None:
            return self._native(chunk, out, span)
        work = chunk.astype(self._work, copy=True)
        work = self.noise.apply(work, span, self.info, self.prepared)
        work, clipped = clip_to_range(work, self.info.lo, self.info.hi, self._integer)
        self._count(work.size, clipped)
        if out is None:
            return work.astype(self.info.dtype, copy=False)
        out[...] = work
        return out

    def _native(self, chunk: np.ndarray, out: np.ndarray | None, span: Span) -> np.ndarray:
        """The noise's own fast path; it needs contiguous arrays of ``info.dtype``.

        A strided chunk is copied into the scratch buffer and noised there in place."""
        assert self.kernel is not None
        dtype = np.dtype(self.info.dtype)
        if chunk.dtype != dtype or not chunk.flags.c_contiguous:
            work = self._buffer(chunk.shape, dtype)
            gather(work, chunk)
            self._count(work.size, self.kernel(work, work, span))
            if out is None:
                return np.array(work)
            gather(out, work)
            return out
        direct = out is not None and out.flags.c_contiguous and out.dtype == dtype
        dst = out if direct and out is not None else np.empty_like(chunk)
        self._count(chunk.size, self.kernel(chunk, dst, span))
        if out is None or direct:
            return dst
        gather(out, dst)
        return out

    def _buffer(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        """A C-contiguous array of ``shape`` and ``dtype`` in the scratch bytes."""
        nbytes = math.prod(shape) * dtype.itemsize
        if self.scratch is None or self.scratch.nbytes < nbytes:
            self.scratch = np.empty(nbytes, np.uint8)
        view: np.ndarray = self.scratch[:nbytes].view(dtype).reshape(shape)
        return view

    def _count(self, values: int, clipped: int) -> None:
        self.stats.values += values
        self.stats.clipped += clipped


def gather(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` (cast to ``dst``'s dtype), channel by channel when either is a
    ``(rows, width, channels)`` view of a CHW image: numpy copies such a view one value at a
    time, a channel plane at a time it streams (about 6x faster)."""
    if src.ndim == 3 and src.shape[2] > 1:
        planar = (abs(a.strides[2]) > abs(a.strides[1]) for a in (dst, src))
        if any(planar):
            for c in range(src.shape[2]):
                dst[:, :, c] = src[:, :, c]
            return
    dst[...] = src


def noise_rows(noiser: ChunkNoiser, view: np.ndarray, out: np.ndarray, chunk_rows: int) -> None:
    """Noise ``view`` (rows, width, channels) into ``out`` (same shape, any strides and
    dtype) in bands of ``chunk_rows`` rows, in order."""
    rows = view.shape[0]
    if rows <= chunk_rows:
        noiser(view, out)
        return
    for start in range(0, rows, chunk_rows):
        band = slice(start, start + chunk_rows)
        noiser(view[band], out[band])


def image_layout(array: np.ndarray) -> tuple[np.ndarray, int]:
    """View an image as ``(H, W, C)`` and return it with its number of colour channels.

    Two or four channels mean the last one is alpha, which is never noised.
    """
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise UsageError(f"an image must be HxW or HxWxC with C in 1..4, got shape {array.shape}")
    if dtype_name(array.dtype) not in SUPPORTED_IMAGE_DTYPES:
        raise UsageError(
            f"image dtype {array.dtype} is not supported (use {', '.join(SUPPORTED_IMAGE_DTYPES)})"
        )
    channels = array.shape[2]
    return array, channels - 1 if channels in (2, 4) else channels


def image_info(array: np.ndarray) -> MediaInfo:
    """The :class:`MediaInfo` of an image array (any layout accepted by ``image_layout``)."""
    _, colour = image_layout(array)
    lo, hi, full = value_range(array.dtype, "image")
    return MediaInfo("image", dtype_name(array.dtype), tuple(array.shape), colour, lo, hi, full)


def noise_image(
    array: np.ndarray,
    noise: Noise,
    rnd: OutputRandom,
    chunk_rows: int = DEFAULT_IMAGE_CHUNK_ROWS,
) -> tuple[np.ndarray, ChunkNoiser]:
    """Noise an image in row bands of ``chunk_rows``; alpha is copied bit for bit."""
    if chunk_rows < 1:
        raise UsageError(f"chunk size must be at least 1 row, got {chunk_rows}")
    view, colour = image_layout(array)
    noiser = ChunkNoiser(noise, image_info(array), rnd)
    out = np.empty_like(view)
    if colour < view.shape[2]:
        out[:, :, colour:] = view[:, :, colour:]
    noise_rows(noiser, view[:, :, :colour], out[:, :, :colour], chunk_rows)
    return out.reshape(array.shape), noiser
