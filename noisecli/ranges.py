"""Value ranges of sample types and the one rounding/clipping rule every output path uses."""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np

from noisecli.errors import UsageError

Media = Literal["image", "audio"]


_NAMES: dict[np.dtype[Any], str] = {}


def dtype_name(dtype: np.dtype[Any]) -> str:
    """``dtype.name``, looked up once per dtype (numpy builds the string on every access,
    about 1.5 µs: several times per file on a dataset of tiny images)."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = dtype.name
    return name


@functools.lru_cache(maxsize=64)
def value_range(dtype: np.dtype[Any] | str, media: Media = "image") -> tuple[float, float, float]:
    """``(lo, hi, full_scale)`` of a dtype: uint8 0..255, uint16 0..65535, float 0..1 for images;
    int16 -32768..32767 (full scale 32768), int32 likewise, float -1..1 for audio (cached)."""
    dt = np.dtype(dtype)
    if dt.kind == "u":
        hi = float(np.iinfo(dt).max)
        return 0.0, hi, hi
    if dt.kind == "i":
        info = np.iinfo(dt)
        return float(info.min), float(info.max), float(-info.min)
    if dt.kind == "f":
        return (0.0, 1.0, 1.0) if media == "image" else (-1.0, 1.0, 1.0)
    raise UsageError(f"unsupported sample type {dt}")


def clip_to_range(chunk: np.ndarray, lo: float, hi: float, integer: bool) -> tuple[np.ndarray, int]:
    """Round (integer outputs), clip to ``[lo, hi]`` in place; return it and the clipped count.

    NaN never survives: it is counted as clipped and replaced by ``lo``.
    """
    below = chunk < lo
    above = chunk > hi
    nan = np.isnan(chunk)
    clipped = int(np.count_nonzero(below) + np.count_nonzero(above) + np.count_nonzero(nan))
    if nan.any():
        chunk[nan] = lo
    if integer:
        np.rint(chunk, out=chunk)
    np.clip(chunk, lo, hi, out=chunk)
    return chunk, clipped
