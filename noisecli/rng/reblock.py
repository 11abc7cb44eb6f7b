"""Fixed-size blocks served in any size, so what a source computes never depends on the caller."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


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
