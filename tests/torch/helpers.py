"""Small datasets for the DataLoader tests (module level, so spawned workers can import them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info


def images(count: int, dtype: str = "uint8", seed: int = 0) -> np.ndarray:
    """``count`` deterministic 3x32x32 images (CHW), uint8 or float32 in [0, 1]."""
    pixels = np.random.default_rng(seed).integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
    return pixels if dtype == "uint8" else (pixels / np.float32(255)).astype(dtype)


class Images(Dataset[tuple[Any, ...]]):
    """Item ``i``: ``(image i as a CHW tensor, i, id of the worker that loaded it)``."""

    def __init__(self, count: int, dtype: str = "uint8") -> None:
        self.images = images(count, dtype)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        info = get_worker_info()
        return torch.from_numpy(self.images[index]), index, -1 if info is None else info.id


class NaiveNoisy(Dataset[tuple[Any, ...]]):
    """The classic bug: a generator made once in the dataset and copied into every worker.

    Each worker starts from the same generator state, so the k-th item a worker loads gets
    the same noise as the k-th item of every other worker.
    """

    def __init__(self, count: int) -> None:
        self.images = np.full((count, 3, 32, 32), 128, np.uint8)  # mid-grey: nothing clips
        self.rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        clean = self.images[index]
        noisy = np.clip(clean + self.rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
        return torch.from_numpy(noisy), torch.from_numpy(clean), index


def noise_of(noisy: Any, clean: Any) -> bytes:
    """The noise actually added (noisy - clean, as int16), as bytes to compare and hash."""
    return (np.asarray(noisy, np.int16) - np.asarray(clean, np.int16)).tobytes()
