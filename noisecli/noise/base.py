"""The Noise base class: parameters in, one output's drawn parameters and noise out.

A noise is a frozen dataclass holding its parameters (fixed values or ``LOW:HIGH`` ranges).
For each output the engine calls ``prepare`` once with the output's randomness
(:class:`~noisecli.rng.keys.OutputRandom`): it draws the concrete parameters from
``draws`` and keeps the positional ``stream`` for ``apply``, which is then called on every
float32 chunk with the chunk's :class:`Span`. Value ``j`` of an output (flat index over its
noised values) takes its randomness from word ``j`` of the stream (or pixel ``p`` from word
``p`` for one value per pixel), so any cut into chunks, in any order, gives the same bytes.
A noise never knows which file, format or worker it runs in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise.level import Level, parse_level
from noisecli.ranges import Media
from noisecli.rng.keys import OutputRandom


@dataclass(frozen=True, slots=True)
class Span:
    """Where a chunk lies in its output: flat index of its first value and of its first
    pixel (image) or frame (audio); a chunk is whole rows (frames) of the output."""

    value: int = 0
    pixel: int = 0


# An optional fast path: noises a contiguous chunk in its own dtype into ``out`` (same shape
# and dtype) and returns the number of values clipped. See ``Noise.native_kernel``.
NativeKernel = Callable[[np.ndarray, np.ndarray, Span], int]


@dataclass(frozen=True)
class MediaInfo:
    """What a noise may know about the data it noises.

    ``lo``/``hi`` is the range the output is clipped to, in the chunk's units (``-inf``/``inf``
    for float arrays left unclipped), and ``full_scale`` the value of full white (images) or
    full scale (audio) in those units. Chunks are ``(rows, width, channels)`` for images and
    ``(frames, channels)`` for audio, colour channels only (alpha never reaches a noise).

    ``level_unit`` is the native value of one unit of a level parameter (``std``, ``mean``):
    None for files, whose levels are 8-bit levels (``full_scale / 255``), ``1.0`` for arrays
    (the array's own units). ``black`` is the native value of intensity 0, so that the data
    range is ``[black, black + full_scale]``: noises defined on ``[0, 1]`` intensities
    (``poisson``, ``sensor``) and the values ``salt-pepper`` writes use it. An array without a
    known range (float data without ``data_range``) has ``full_scale = nan``.
    """

    media: Media
    dtype: str
    shape: tuple[int, ...]
    channels: int
    lo: float
    hi: float
    full_scale: float
    sample_rate: int | None = None
    level_unit: float | None = None
    black: float = 0.0


@dataclass(frozen=True)
class Prepared:
    """One output's drawn parameters (recorded in the manifest) and precomputed state."""

    params: dict[str, Any]  # JSON-able: numbers, text, switches (a recipe: lists of them)
    state: Any = None


@dataclass(frozen=True)
class Param:
    """How a noise parameter is given on the command line and parsed from text."""

    name: str
    help: str
    parse: Callable[[str, str], Any]
    metavar: str = "VALUE"
    is_flag: bool = False


def level_param(name: str, help: str, *, minimum: float = 0.0, percent: bool = True) -> Param:
    """A numeric parameter accepting ``V``, ``LOW:HIGH`` and (optionally) ``N%``."""

    def parse(text: str, option: str) -> Level:
        return parse_level(text, option, minimum=minimum, allow_percent=percent)

    return Param(name, help, parse, metavar="LEVEL" if percent else "VALUE")


def flag_param(name: str, help: str) -> Param:
    """A boolean switch such as ``--mono``."""

    def parse(text: str, option: str) -> bool:
        return bool(text)

    return Param(name, help, parse, is_flag=True)


class Noise(ABC):
    """Base of every noise. Subclasses are frozen dataclasses registered in ``NOISES``."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    media: ClassVar[tuple[Media, ...]] = ("image",)
    summary: ClassVar[str] = ""
    cli_params: ClassVar[tuple[Param, ...]] = ()
    example: ClassVar[str] = ""  # options of a typical use, shown by `noisecli noises`

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Noise:
        """Build the noise from user values; text is parsed, other values used as given.

        Unknown parameter names are a usage error naming the noise.
        """
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        specs = {p.name: p for p in cls.cli_params}
        kwargs: dict[str, Any] = {}
        for key, value in options.items():
            if key not in known:
                raise UsageError(f"--{key.replace('_', '-')} does not apply to noise {cls.name!r}")
            spec = specs.get(key)
            if spec is not None and isinstance(value, str):
                value = spec.parse(value, "--" + key.replace("_", "-"))
            elif spec is not None and not spec.is_flag and isinstance(value, int | float):
                value = spec.parse(repr(float(value)), "--" + key.replace("_", "-"))
            kwargs[key] = value
        return cls(**kwargs)

    def check(self, info: MediaInfo) -> None:  # noqa: B027 - optional hook
        """Raise ``UsageError`` if this noise cannot be applied to such data."""

    @abstractmethod
    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        """Draw this output's parameters from ``rnd.draws`` and keep what ``apply`` needs
        (``rnd.stream`` or streams derived from it) in the prepared state."""

    @abstractmethod
    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        """Return the noisy float32 chunk (may modify ``chunk`` in place).

        The randomness of each value comes from its position (``span``), never from what
        was drawn before, so chunks may come in any size and order.
        """

    def native_kernel(self, info: MediaInfo, prepared: Prepared) -> NativeKernel | None:
        """An optional faster path for one output, or None to use ``apply`` on float32.

        The kernel noises a chunk directly in the output dtype (rounded and clipped) and
        returns the clipped count; it must give the bytes ``apply`` + clipping would give.
        """
        return None

    def overridden(self) -> frozenset[str]:
        """Fields another parameter replaces (``std`` under ``severity``); not described."""
        return frozenset()

    def describe(self) -> str:
        """Parameters as given, e.g. ``gaussian(std=5:50, mono)``."""
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is False or value is None or f.name in self.overridden():
                continue
            parts.append(f.name if value is True else f"{f.name}={value}")
        return f"{self.name}({', '.join(parts)})"
