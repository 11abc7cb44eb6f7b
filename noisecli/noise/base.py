"""The Noise base class, value ranges per dtype, clipping and seeding helpers.

A noise is a frozen dataclass holding its parameters (fixed values or ``LOW:HIGH`` ranges).
For each output the engine calls ``prepare`` once, which draws the concrete parameters,
then ``apply`` on every float32 chunk in order. A noise never knows which file, format or
worker it runs in; it sees only a :class:`MediaInfo` and its chunks.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from noisecli.errors import UsageError
from noisecli.noise.level import Level, parse_level
from noisecli.ranges import Media

# An optional fast path: noises a chunk in its own (integer) dtype into ``out`` (same shape
# and dtype) and returns the number of values clipped. See ``Noise.native_kernel``.
NativeKernel = Callable[[np.ndarray, np.ndarray], int]


@dataclass(frozen=True)
class MediaInfo:
    """What a noise may know about the data it noises.

    ``lo``/``hi`` is the valid range of the output dtype in the chunk's units and
    ``full_scale`` the value of full white (images) or full scale (audio) in those units.
    Chunks are ``(rows, width, channels)`` for images and ``(frames, channels)`` for audio,
    colour channels only (alpha never reaches a noise).
    """

    media: Media
    dtype: str
    shape: tuple[int, ...]
    channels: int
    lo: float
    hi: float
    full_scale: float
    sample_rate: int | None = None


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
    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        """Draw this output's parameters from ``rng`` and precompute what ``apply`` needs."""

    @abstractmethod
    def apply(
        self, chunk: np.ndarray, rng: np.random.Generator, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        """Return the noisy float32 chunk (may modify ``chunk`` in place).

        Chunks arrive in order; a noise that draws ``chunk.size`` values per chunk from
        ``rng`` is chunk-size invariant because the generator is sequential.
        """

    def native_kernel(
        self, info: MediaInfo, prepared: Prepared, rng: np.random.Generator
    ) -> NativeKernel | None:
        """An optional faster path for one output, or None to use ``apply`` on float32.

        The kernel is called on consecutive chunks like ``apply``, noises each one directly
        in the output dtype (rounded and clipped) and returns the clipped count. It draws
        only from ``rng`` and must give the same bytes whatever the chunk size.
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


def stream_key(rel_path: str, copy: int) -> tuple[int, ...]:
    """A stable spawn key for one output: blake2b of its relative path and copy index."""
    digest = hashlib.blake2b(
        rel_path.encode("utf-8", "surrogateescape") + b"\0" + str(copy).encode(), digest_size=16
    ).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def output_generators(
    seed: int, key: tuple[int, ...]
) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for one output: (parameter draws, noise stream)."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=key)
    params_ss, noise_ss = ss.spawn(2)
    return np.random.Generator(np.random.PCG64(params_ss)), np.random.Generator(
        np.random.PCG64(noise_ss)
    )
