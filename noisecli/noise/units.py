"""Units shared by the image noises: levels, percent of the data range, the [0, 1] scale.

A level parameter (``std``, ``mean``) is in 8-bit levels for files (``info.level_unit`` is
None: one level is ``full_scale / 255`` at every bit depth) and in the array's own units for
arrays (``level_unit = 1.0``); ``N%`` is a percentage of ``full_scale``, the width of the data
range. Noises defined on ``[0, 1]`` intensities read ``(x - black) / full_scale``.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise.base import MediaInfo, NativeKernel, Span
from noisecli.rng import kernels
from noisecli.rng.philox import Stream

EIGHT_BIT = 255.0
LEVEL_METAVAR = "LEVEL"  # the metavar of ``level_param``: a parameter converted by to_native


def known_range(info: MediaInfo) -> bool:
    """Whether the data range ``[black, black + full_scale]`` is known (always for files)."""
    return math.isfinite(info.full_scale)


def require_range(info: MediaInfo, noise: str, why: str) -> None:
    """Raise ``UsageError`` for data without a known range (float arrays without data_range)."""
    if not known_range(info):
        raise UsageError(
            f"noise {noise!r} {why}, but float data have no known range: pass "
            "data_range=(0, 1) (or the range your data are on, e.g. data_range=(0, 255))"
        )


def to_native(level: float, percent: bool, info: MediaInfo) -> float:
    """Convert a level (or a percentage of the data range) to the chunk's units.

    Files: 8-bit levels (``level / 255 · full_scale``); arrays: ``level · level_unit``.
    """
    if percent:
        if not known_range(info):
            raise UsageError(
                f"{level:g}% is a percentage of the data range, which float data do not "
                "have: pass data_range=(lo, hi), e.g. data_range=(0, 1), or give the value "
                "in the array's own units"
            )
        return level / 100.0 * info.full_scale
    if info.level_unit is None:
        return level / EIGHT_BIT * info.full_scale
    return level * info.level_unit


def level_unit_name(info: MediaInfo, percent: bool) -> str:
    """What a level parameter was measured in, for the recorded parameters."""
    if percent:
        return "%"
    return "8-bit levels" if info.level_unit is None else "array units"


def range_ends(info: MediaInfo) -> tuple[float, float]:
    """The ends of the data range, ``(black, black + full_scale)``: black and white."""
    return info.black, info.black + info.full_scale


def unit_intensity(chunk: np.ndarray, info: MediaInfo) -> np.ndarray:
    """``(chunk - black) / full_scale`` clipped to ``[0, 1]`` as a new float32 array (NaN
    becomes 0).

    The scale on which photon counts and the ImageNet-C constants are defined.
    """
    if info.black:
        chunk = np.subtract(chunk, info.black)
    x: np.ndarray = np.divide(chunk, np.float32(info.full_scale), dtype=np.float32)
    np.nan_to_num(x, copy=False, nan=0.0)
    np.clip(x, 0.0, 1.0, out=x)
    return x


def from_unit(x: np.ndarray, info: MediaInfo) -> np.ndarray:
    """``x · full_scale + black`` in place (float32): intensities back to the chunk's units."""
    x *= np.float32(info.full_scale)
    if info.black:
        x += np.float32(info.black)
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


# The backend's own entry (``Backend.add``) for the fused adds, skipping their per-call
# argument checks where the caller guarantees them (see FusedKernel.fast); None if the
# random-number layer does not expose it, and then the checked entry is used.
_VARIATE: dict[object, int | None] = {
    kernels.add_normal: getattr(kernels, "_NORMAL", None),
    kernels.add_uniform: getattr(kernels, "_UNIFORM", None),
}
_bounds = getattr(kernels, "_bounds", None)


class FusedKernel:
    """A native kernel ``y = clip(x + (scale·v + offset))`` from a fused add of the
    random-number layer; NaN handled as ``clip_to_range`` does where there is a lower bound.

    ``stream`` is the output's positional stream; :meth:`rebind` gives the same kernel on
    another output's stream (arrays: one prepared noise serves every sample of a batch when
    no parameter is drawn).
    """

    __slots__ = (
        "add",
        "bounds",
        "floating",
        "hi",
        "lo",
        "mono",
        "offset",
        "repeat",
        "scale",
        "stream",
        "variate",
    )

    def __init__(
        self,
        add: FusedAdd,
        stream: Stream,
        mono: bool,
        repeat: int,
        scale: float,
        offset: float,
        lo: float,
        hi: float,
        floating: bool,
        dtype: np.dtype[Any],
    ) -> None:
        self.add = add
        self.stream = stream
        self.mono = mono
        self.repeat = repeat
        self.scale = scale
        self.offset = offset
        self.lo = lo
        self.hi = hi
        self.floating = floating
        self.variate = _VARIATE.get(add)
        self.bounds = None if _bounds is None else _bounds(dtype, lo, hi)

    def rebind(self, stream: Stream) -> FusedKernel:
        """This kernel on ``stream`` instead."""
        k = FusedKernel.__new__(FusedKernel)
        k.add, k.mono, k.repeat, k.scale, k.offset = (
            self.add,
            self.mono,
            self.repeat,
            self.scale,
            self.offset,
        )
        k.lo, k.hi, k.floating, k.variate, k.bounds = (
            self.lo,
            self.hi,
            self.floating,
            self.variate,
            self.bounds,
        )
        k.stream = stream
        return k

    def __call__(self, src: np.ndarray, dst: np.ndarray, span: Span) -> int:
        start = span.pixel if self.mono else span.value
        clipped = self.add(
            src, dst, self.stream, start, self.scale, self.offset, self.lo, self.hi, self.repeat
        )
        if self.floating:  # NaN becomes lo and counts as clipped
            nan = np.isnan(dst)
            if nan.any():
                dst[nan] = self.lo
                clipped += int(np.count_nonzero(nan))
        return clipped

    def fast(self, src: np.ndarray, dst: np.ndarray) -> int:
        """The whole output at once, ``src`` free of NaN: the bytes of ``self(src, dst,
        Span())`` without the per-call checks. The caller guarantees what they check: both
        C-contiguous, non-empty, of the kernel's dtype and shape, ``dst`` writeable and
        either ``src`` itself or not overlapping it."""
        if self.variate is None or self.bounds is None:
            return self(src, dst, Span())
        lo, hi = self.bounds
        backend = kernels.backend()
        return backend.add(
            self.variate, src, dst, self.stream, 0, self.scale, self.offset, lo, hi, self.repeat
        )


# int32 is in the kernels' types, but its values beyond 2**24 are not exact in float32: int32
# arrays take the float64 path of ``apply`` instead.
_FUSED_DTYPES = frozenset(d for d in kernels.DTYPES if d != np.dtype(np.int32))


def fused_kernel(
    add: FusedAdd, info: MediaInfo, stream: Stream, mono: bool, scale: float, offset: float
) -> NativeKernel | None:
    """A :class:`FusedKernel` for the dtypes it takes (uint8, uint16, int16, float32), else
    None. A float chunk with a lower bound gets NaN replaced by it (and counted); without
    bounds (float arrays left unclipped) NaN stays NaN, as in the kernel itself."""
    dtype = np.dtype(info.dtype)
    if dtype not in _FUSED_DTYPES:
        return None
    repeat = info.channels if mono else 1
    floating = dtype.kind == "f" and math.isfinite(info.lo)
    return FusedKernel(add, stream, mono, repeat, scale, offset, info.lo, info.hi, floating, dtype)
