"""Fast rounded Gaussian noise for integer images: OpenCV's generator, re-seeded per tile.

``y = clip(x + rint(mean + std·Z), lo, hi)`` with ``Z ~ N(0, 1)`` drawn by ``cv2.randn``
(a ziggurat over a multiply-with-carry generator, 3-4x faster than numpy's fastest
``Generator``). For integer ``x`` this equals ``clip(rint(x + mean + std·Z))`` up to ties.

OpenCV's generator is one global state per thread, so it is never trusted across calls:
the image is cut into fixed tiles of whole rows (about ``TILE_VALUES`` values each, a
function of the image width only) and every tile is generated in one call right after
``cv2.setRNGSeed(s)``, with ``s`` drawn in tile order from the output's own numpy stream.
The noise therefore depends only on the seed and the image, never on the band size
(``--chunk``), the worker, or what else used OpenCV's generator before. Tiles are small
enough to stay in the CPU cache, so the add, the clip and the count of clipped values
cost little next to the generation.

Limit: a tile seed has 31 bits, so among ``n`` tiles of a dataset (one per ~128K values)
two share their noise with probability about ``n²/2³²``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TILE_VALUES = 1 << 17
SEED_HIGH = 2**31  # cv2.setRNGSeed takes a C int; seeds are drawn in [1, 2**31)

# sample dtype -> noise and sum dtype; OpenCV saturates both at this dtype's limits, which
# lie beyond any value that is clipped anyway
_NOISE_DTYPES: dict[str, type[np.signedinteger[Any]]] = {"uint8": np.int16, "uint16": np.int32}


def supported(dtype: str) -> bool:
    """Whether ``dtype`` samples get the tiled integer path."""
    return dtype in _NOISE_DTYPES


def rows_per_tile(row_values: int) -> int:
    """Rows of one tile for rows of ``row_values`` noise values."""
    return max(1, TILE_VALUES // max(1, row_values))


def seeded_normal(seed: int, shape: tuple[int, ...], dtype: Any, mean: float, std: float) -> Any:
    """``rint(mean + std·Z)`` (or the float itself for a float dtype) from OpenCV's generator
    re-seeded with ``seed``; the building block of every tile."""
    import cv2 as cv

    field = np.empty(shape, dtype=dtype)
    cv.setRNGSeed(int(seed))
    # one channel: OpenCV takes a scalar mean/std for channel 0 only of a multi-channel array
    cv.randn(field.reshape(-1, shape[-1] if len(shape) > 1 else 1), float(mean), float(std))  # type: ignore[call-overload]
    return field


class NormalTiles:
    """The integer Gaussian kernel of one output: ``__call__(band, out)`` noises the next
    band of rows into ``out`` and returns how many values were clipped."""

    def __init__(
        self,
        rng: np.random.Generator,
        height: int,
        dtype: str,
        lo: float,
        hi: float,
        mean: float,
        std: float,
        mono: bool = False,
    ) -> None:
        self.rng = rng
        self.height = height
        self.noise_dtype = _NOISE_DTYPES[dtype]
        self.lo, self.hi = int(lo), int(hi)
        self.mean, self.std = mean, std
        self.mono = mono
        self.row = 0  # index of the next row of the image
        self.tile_rows = 0  # fixed by the first band's width
        self.cached: tuple[int, np.ndarray] | None = None

    def _tile(self, index: int, width: int, channels: int) -> np.ndarray:
        """The noise of tile ``index`` (rows, width, channels); generated once, in order."""
        if self.cached is not None and self.cached[0] == index:
            return self.cached[1]
        rows = min(self.tile_rows, self.height - index * self.tile_rows)
        shape = (rows, width, channels)
        seed = int(self.rng.integers(1, SEED_HIGH, dtype=np.int64))
        if self.mono:
            plane = seeded_normal(seed, (rows, width), self.noise_dtype, self.mean, self.std)
            field = np.repeat(plane[:, :, np.newaxis], channels, axis=2)
        else:
            field = seeded_normal(seed, shape, self.noise_dtype, self.mean, self.std)
        self.cached = (index, field)
        return field

    def __call__(self, band: np.ndarray, out: np.ndarray) -> int:
        """Noise ``band`` (rows, width, channels) into ``out`` of the same shape and dtype."""
        import cv2 as cv

        rows, width, channels = band.shape
        if not self.tile_rows:
            self.tile_rows = rows_per_tile(width * (1 if self.mono else channels))
        clipped = 0
        done = 0
        while done < rows:
            index, offset = divmod(self.row + done, self.tile_rows)
            take = min(self.tile_rows - offset, rows - done)
            field = self._tile(index, width, channels)[offset : offset + take]
            src = band[done : done + take].reshape(take, -1)
            # same-type OpenCV arithmetic is vectorised; a uint8 + int16 add is not
            total = cv.add(src.astype(self.noise_dtype), field.reshape(take, -1))
            clipped += total.size - cv.countNonZero(cv.inRange(total, self.lo, self.hi))
            np.clip(total, self.lo, self.hi, out=total)
            dst = out[done : done + take]
            np.copyto(dst, total.reshape(dst.shape), casting="unsafe")
            done += take
        self.row += rows
        return clipped
