"""Noise on arrays: ``add_noise`` for image arrays and audio samples, the same engine as files."""

from __future__ import annotations

from typing import Any

import numpy as np

from noisecli.errors import UsageError
from noisecli.image.engine import DEFAULT_IMAGE_CHUNK_ROWS, noise_image
from noisecli.noise import Noise, get_noise, resolve_noise
from noisecli.rng.keys import output_random, sample_key


def add_noise(
    array: np.ndarray,
    noise: str | Noise = "gaussian",
    *,
    seed: int | None = None,
    chunk: int | None = None,
    sample_rate: int | None = None,
    **params: Any,
) -> np.ndarray:
    """Return a noisy copy of an image array or of audio samples, same shape and dtype.

    ``noise`` is a registered name (``"gaussian"``, ``"pink"``) or a Noise instance;
    ``params`` are the noise's parameters as numbers or as the CLI's text (``std=25``,
    ``std="5:50"``, ``std="10%"``). Audio is ``(frames,)`` or ``(frames, channels)`` with a
    ``sample_rate`` and takes ``snr``, ``level`` (dBFS), ``on_clip`` and ``no_clip``, e.g.
    ``add_noise(x, "pink", snr=10, sample_rate=16000, seed=1)``. ``chunk`` is rows (image)
    or frames (audio). The same ``seed`` always gives the same result, whatever ``chunk``.
    Without a seed, fresh entropy is used.
    """
    seed_value = np.random.SeedSequence().entropy if seed is None else seed
    if sample_rate is not None:
        from noisecli.audio.mix import AUDIO_OPTION_NAMES, noise_samples

        options = {k: params.pop(k) for k in AUDIO_OPTION_NAMES if k in params}
        audio_noise = resolve_noise(noise, "audio", params)
        return noise_samples(
            array,
            audio_noise,
            sample_rate=sample_rate,
            seed=int(seed_value),  # type: ignore[arg-type]
            chunk=chunk,
            **options,
        )
    if isinstance(noise, str) and "image" not in get_noise(noise).media:
        raise UsageError(f"noise {noise!r} is for audio: pass sample_rate= with the samples")
    inst = resolve_noise(noise, "image", params)
    array = np.asarray(array)
    rnd = output_random(int(seed_value), sample_key(0))  # type: ignore[arg-type]
    out, _ = noise_image(array, inst, rnd, chunk or DEFAULT_IMAGE_CHUNK_ROWS)
    return out
