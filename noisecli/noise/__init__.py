"""The noise registry: ``NOISES`` is the one list to edit when adding a noise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from noisecli.errors import UsageError
from noisecli.noise.background import Background
from noisecli.noise.base import MediaInfo, Noise, Prepared
from noisecli.noise.blue import Blue
from noisecli.noise.brown import Brown
from noisecli.noise.gaussian import Gaussian
from noisecli.noise.pink import Pink
from noisecli.noise.poisson import Poisson
from noisecli.noise.salt_pepper import SaltPepper
from noisecli.noise.sensor import Sensor
from noisecli.noise.speckle import Speckle
from noisecli.noise.uniform import Uniform
from noisecli.noise.violet import Violet
from noisecli.noise.white import White
from noisecli.ranges import Media

NOISES: tuple[type[Noise], ...] = (
    Gaussian,
    Uniform,
    Poisson,
    SaltPepper,
    Speckle,
    Sensor,
    White,
    Pink,
    Brown,
    Blue,
    Violet,
    Background,
)

__all__ = [
    "NOISES",
    "Background",
    "Blue",
    "Brown",
    "Gaussian",
    "MediaInfo",
    "Noise",
    "Pink",
    "Poisson",
    "Prepared",
    "SaltPepper",
    "Sensor",
    "Speckle",
    "Uniform",
    "Violet",
    "White",
    "get_noise",
    "noise_names",
]


def noise_names(media: str | None = None) -> list[str]:
    """Canonical names of the registered noises, optionally only those for one medium."""
    return [n.name for n in NOISES if media is None or media in n.media]


def get_noise(name: str, media: str | None = None) -> type[Noise]:
    """Look a noise class up by name or alias (case-insensitive)."""
    wanted = name.strip().lower()
    for cls in NOISES:
        if wanted == cls.name or wanted in cls.aliases:
            if media is not None and media not in cls.media:
                raise UsageError(f"noise {cls.name!r} does not apply to {media}")
            return cls
    choices = ", ".join(noise_names(media))
    raise UsageError(f"unknown noise {name!r}; choose from: {choices}")


def resolve_noise(noise: str | Noise, media: Media, params: Mapping[str, Any]) -> Noise:
    """A Noise instance from a name plus parameters, or the instance itself."""
    if isinstance(noise, Noise):
        if params:
            raise UsageError("pass parameters either in the Noise instance or as keywords")
        return noise
    return get_noise(noise, media).from_options(params)
