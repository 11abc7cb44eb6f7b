"""noisecli: realistic, reproducible noise for images and audio.

>>> import numpy as np, noisecli
>>> img = np.full((4, 4, 3), 128, np.uint8)
>>> noisecli.add_noise(img, "gaussian", std=25, seed=7).shape
(4, 4, 3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Gaussian", "RunConfig", "__version__", "add_noise", "process_dataset"]

if TYPE_CHECKING:
    from noisecli.config import RunConfig
    from noisecli.engine import add_noise
    from noisecli.noise import Gaussian
    from noisecli.runner import process_dataset

_LAZY = {
    "add_noise": "noisecli.engine",
    "process_dataset": "noisecli.runner",
    "RunConfig": "noisecli.config",
    "Gaussian": "noisecli.noise",
}


def __getattr__(name: str) -> Any:
    """Import the public API on first use so that ``noisecli --help`` stays instant."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noisecli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
