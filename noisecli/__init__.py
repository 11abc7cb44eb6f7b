"""noisecli: realistic, reproducible noise for images and audio.

>>> import numpy as np, noisecli
>>> img = np.full((4, 4, 3), 128, np.uint8)
>>> noisecli.add_noise(img, "gaussian", std=25, seed=7).shape
(4, 4, 3)
>>> aug = noisecli.Augmenter("gaussian", std=0.1, data_range=(0, 1), seed=7)
>>> aug(img / np.float32(255), key=(0, 1)).dtype     # sample 0 of epoch 1
dtype('float32')
>>> speech = np.sin(np.arange(16000) / 5.0).astype(np.float32)
>>> noisecli.add_noise(speech, "pink", snr=10, sample_rate=16000, seed=1).dtype
dtype('float32')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "AudioOptions",
    "Augmenter",
    "Background",
    "Blue",
    "Brown",
    "Gaussian",
    "Noised",
    "Pink",
    "Recipe",
    "RunConfig",
    "Violet",
    "White",
    "__version__",
    "add_noise",
    "process_dataset",
]

if TYPE_CHECKING:
    from noisecli.api.arrays import add_noise
    from noisecli.api.augment import Augmenter, Noised
    from noisecli.api.dataset import process_dataset
    from noisecli.config import AudioOptions, RunConfig
    from noisecli.noise import Background, Blue, Brown, Gaussian, Pink, Violet, White
    from noisecli.noise.recipe import Recipe

_LAZY = {
    "add_noise": "noisecli.api.arrays",
    "Augmenter": "noisecli.api.augment",
    "Noised": "noisecli.api.augment",
    "process_dataset": "noisecli.api.dataset",
    "RunConfig": "noisecli.config",
    "AudioOptions": "noisecli.config",
    "Gaussian": "noisecli.noise",
    **{name: "noisecli.noise" for name in ("White", "Pink", "Brown", "Blue", "Violet")},
    "Background": "noisecli.noise",
    "Recipe": "noisecli.noise.recipe",
}


def __getattr__(name: str) -> Any:
    """Import the public API on first use so that ``noisecli --help`` stays instant."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noisecli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
