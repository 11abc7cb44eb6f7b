"""Units shared by the image noises: 8-bit levels, percent of full scale, the [0, 1] scale."""

from __future__ import annotations

import numpy as np

from noisecli.noise.base import MediaInfo

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
