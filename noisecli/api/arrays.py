"""Noise on arrays: ``add_noise`` for images, batches, tensors' numpy views and audio samples.

One call of :class:`~noisecli.api.augment.Augmenter` (whose module documents the rules for
units, clipping, layouts and keys): ``add_noise(x, seed=s, key=k, ...)`` equals
``Augmenter(seed=s, ...)(x, key=k)``. The noise and its options are validated once per
distinct set of arguments and reused, so a call in a loop costs little more than the noise.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

import numpy as np

from noisecli.api.augment import Augmenter, Clip, Key, _Spec, check_seed
from noisecli.noise import Noise

_SPECS: OrderedDict[Any, _Spec] = OrderedDict()
_SPECS_MAX = 32


def _spec(
    noise: str | Noise,
    layout: str | None,
    clip: Clip,
    data_range: tuple[float, float] | None,
    sample_rate: int | None,
    params: dict[str, Any],
) -> _Spec:
    try:
        key = (noise, layout, clip, data_range, sample_rate, tuple(sorted(params.items())))
        hash(key)
    except TypeError:  # an unhashable argument: validate it anew
        return _Spec(noise, layout, clip, data_range, sample_rate, params)
    spec = _SPECS.get(key)
    if spec is None:
        spec = _Spec(noise, layout, clip, data_range, sample_rate, params)
        _SPECS[key] = spec
        if len(_SPECS) > _SPECS_MAX:
            _SPECS.popitem(last=False)
    return spec


def add_noise(
    x: Any,
    noise: str | Noise = "gaussian",
    *,
    seed: int | None = None,
    key: Key = 0,
    layout: str | None = None,
    clip: Clip = "auto",
    data_range: tuple[float, float] | None = None,
    out: np.ndarray | None = None,
    sample_rate: int | None = None,
    chunk: int | None = None,
    **params: Any,
) -> np.ndarray:
    """Return a noisy copy of ``x`` (same shape and dtype), or write it into ``out``.

    ``x`` is any numeric array: an image (``HWC``/``CHW``), a batch (``NHWC``/``NCHW``/
    ``N...``), audio samples, a table, a weight tensor's numpy view. ``noise`` is a registered
    name or a Noise instance; ``params`` are its parameters as numbers or the command line's
    text (``std=0.1``, ``std="0.05:0.2"`` drawn per sample, ``std="10%"`` of the data range).

    Units are the array's own: ``std=0.1`` on float data adds σ = 0.1, on uint8 0.1 steps.
    Float data are clipped only when asked (``clip=(lo, hi)``) or when ``data_range`` is
    given; integer data always stay in their dtype's range. A value that cannot be meant for
    the data (``std=25`` on data in ``[0, 1]``) is a :class:`~noisecli.errors.UsageError`.

    ``seed`` (an int in ``[0, 2**128)``) and ``key`` (an int or a tuple of ints) fix the
    noise: the same arguments give the same bytes on every machine. In a batch layout sample
    ``i`` has the key ``(*key, i)``. Without a seed, fresh entropy is used (not
    reproducible). ``out`` (same shape and dtype; may be ``x`` for in place) receives the
    result. With ``sample_rate`` audio noises mix at an exact ``snr`` (dB) or ``level``
    (dBFS), as ``noisecli audio`` does; ``chunk`` is rows (frames) per block, which never
    changes the result.

    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    >>> y = add_noise(img, std=0.1, data_range=(0, 1), seed=1)      # σ 0.1, clipped to [0, 1]
    >>> bool(y.min() >= 0 and y.max() <= 1)
    True
    >>> u8 = (img * 255).astype(np.uint8)
    >>> add_noise(u8, std=10, seed=1).dtype                          # σ 10 levels
    dtype('uint8')
    >>> table = np.random.default_rng(0).random((1000, 64))
    >>> add_noise(table, std=0.5, seed=3).dtype                      # float64, not clipped
    dtype('float64')
    >>> speech = np.sin(np.arange(16000) / 5.0).astype(np.float32)
    >>> add_noise(speech, "pink", snr=10, sample_rate=16000, seed=1).shape
    (16000,)
    """
    spec = _spec(noise, layout, clip, data_range, sample_rate, params)
    aug = Augmenter._from_spec(spec, secrets.randbits(128) if seed is None else check_seed(seed))
    return aug.apply(x, key, out=out, chunk=chunk)[0]
