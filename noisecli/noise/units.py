"""Units shared by the image noises: 8-bit levels, percent of full scale, the [0, 1] scale."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from noisecli.noise.base import MediaInfo, NativeKernel, Span
from noisecli.rng import kernels
from noisecli.rng.philox import Stream

EIGHT_BIT = 255.0


def to_native(level: float, percent: bool, full_scale: float) -> float:
    """Convert a value in 8-bit levels (or percent of full scale) to the chunk's units."""
    if percent:
        return level / 100.0 * full_scale
    return level / EIGHT_BIT * full_scale


def unit_intensity(chunk: np.ndarray, info: MediaInfo) -> np.ndarray:
    """``chunk / full_scale`` clipped to ``[0, 1]`` as a new float32 array (NaN becomes 0).

    The scale on which photon counts and the ImageNet-C constants are defined.
    """
    x: np.ndarray = np.divide(chunk, np.float32(info.full_scale), dtype=np.float32)
    np.nan_to_num(x, copy=False, nan=0.0)
    np.clip(x, 0.0, 1.0, out=x)
    return x


def field_shape(chunk: np.ndarray, mono: bool) -> tuple[int, ...]:
    """Shape of a noise field for ``chunk``: one value per pixel with ``mono``, else per value."""
    return (*chunk.shape[:-1], 1) if mono else tuple(chunk.shape)


def field_start(span: Span, mono: bool) -> int:
    """The stream position of a chunk's first field value: its first pixel with ``mono``."""
    return span.pixel if mono else span.value


def normal_field(stream: Stream, span: Span, chunk: np.ndarray, mono: bool) -> np.ndarray:
    """N(0, 1) float32 of the chunk's positions (value ``j`` from stream word ``j``)."""
    shape = field_shape(chunk, mono)
    return stream.normal(field_start(span, mono), math.prod(shape)).reshape(shape)


def uniform_field(stream: Stream, span: Span, chunk: np.ndarray, mono: bool) -> np.ndarray:
    """U[0, 1) float32 (24-bit) of the chunk's positions (value ``j`` from stream word ``j``)."""
    shape = field_shape(chunk, mono)
    return stream.uniform(field_start(span, mono), math.prod(shape)).reshape(shape)


class FusedAdd(Protocol):
    """``add_normal`` / ``add_uniform`` of :mod:`noisecli.rng.kernels`."""

    def __call__(
        self,
        x: np.ndarray,
        out: np.ndarray,
        stream: Stream,
        start: int,
        scale: float,
        offset: float,
        lo: float | None,
        hi: float | None,
        repeat: int,
        /,
    ) -> int: ...


def fused_kernel(
    add: FusedAdd, info: MediaInfo, stream: Stream, mono: bool, scale: float, offset: float
) -> NativeKernel | None:
    """A native kernel ``y = clip(x + (scale·v + offset))`` from a fused add of the
    random-number layer, for the dtypes it takes; NaN handled as ``clip_to_range`` does."""
    if np.dtype(info.dtype) not in kernels.DTYPES:
        return None
    repeat = info.channels if mono else 1
    lo, hi = info.lo, info.hi
    floating = np.dtype(info.dtype).kind == "f"

    def kernel(src: np.ndarray, dst: np.ndarray, span: Span) -> int:
        start = field_start(span, mono)
        clipped = add(src, dst, stream, start, scale, offset, lo, hi, repeat)
        if floating:  # NaN becomes lo and counts as clipped
            nan = np.isnan(dst)
            if nan.any():
                dst[nan] = lo
                clipped += int(np.count_nonzero(nan))
        return clipped

    return kernel
