"""Output keys and each output's randomness: a pure function of (seed, key).

A file's key is its path relative to the input root and its copy index; an array's is the
caller's ``key`` (an int or a tuple of ints such as ``(index, epoch)``). From (seed, key)
come two Philox streams: ``params`` (read in order by :class:`Draws` for the per-output
parameters) and ``noise`` (addressed by position: value ``j`` of the output uses the
stream's words at ``j``, whatever chunk, worker or order produced it).
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from noisecli.rng.philox import PERSON, Draws, Stream

_INT = struct.Struct("<q")


def file_key(rel_path: str, copy: int) -> bytes:
    """The key of one output file: ``rel_path`` (UTF-8, surrogates kept), NUL, the copy."""
    return rel_path.encode("utf-8", "surrogateescape") + b"\0" + str(copy).encode()


def sample_key(key: int | tuple[int, ...]) -> bytes:
    """The key of one array sample: ``b"k"`` then each int as 8 bytes little-endian.

    ``3`` and ``(3,)`` are the same key; ``(3, 0)`` is another.
    """
    parts = (key,) if isinstance(key, int) else tuple(key)
    try:
        return b"k" + b"".join(_INT.pack(int(p)) for p in parts)
    except (struct.error, TypeError, ValueError):
        raise ValueError(f"a key is an int or a tuple of ints in int64, got {key!r}") from None


@dataclass(frozen=True, slots=True)
class OutputRandom:
    """One output's randomness: sequential parameter draws and the positional noise stream."""

    draws: Draws
    stream: Stream


def output_random(seed: int, key: bytes) -> OutputRandom:
    """The randomness of output ``key`` under ``seed`` (0 <= seed < 2**128)."""
    return OutputRandom(
        Stream.derive(seed, key, "params").draws(), Stream.derive(seed, key, "noise")
    )


_PURPOSES = {p: len(p.encode()).to_bytes(8, "little") + p.encode() for p in ("params", "noise")}
_INT64 = (-(1 << 63), 1 << 63)


class _DeferredDraws(Draws):
    """Draws whose stream is derived on first use: outputs that draw nothing skip a hash."""

    __slots__ = ("_derived", "_source")

    def __init__(self, source: Callable[[], Stream]) -> None:
        self._source: Callable[[], Stream] | None = source
        self._derived: Stream | None = None
        self.position = 0
        self._buf = []
        self._buf_start = 0

    @property
    def stream(self) -> Stream:
        if self._derived is None:
            assert self._source is not None
            self._derived = self._source()
            self._source = None
        return self._derived

    @stream.setter
    def stream(self, value: Stream) -> None:
        self._derived = value
        self._source = None

    @property
    def used(self) -> bool:
        """Whether anything read the stream (a parameter was drawn)."""
        return self._derived is not None


class SampleRandom:
    """The randomness of array samples under one seed, derived with less work per sample.

    ``SampleRandom(seed).output(k)`` gives the same streams as
    ``output_random(seed, sample_key(k))`` (the same BLAKE2b input, its fixed 25-byte head
    hashed once per key length), and derives the ``params`` stream only if a parameter is
    drawn from it. Picklable (only the seed is kept).
    """

    __slots__ = ("_heads", "seed")

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool):
            raise ValueError("seed must be an integer in [0, 2**128), not a bool")
        seed = operator.index(seed)
        if not 0 <= seed < 1 << 128:
            raise ValueError(f"seed must be an integer in [0, 2**128), got {seed}")
        self.seed = seed
        self._heads: dict[int, Any] = {}

    def _head(self, length: int) -> Any:
        head = self._heads.get(length)
        if head is None:
            head = hashlib.blake2b(digest_size=16, person=PERSON)
            head.update(((length << 128 | self.seed) << 8).to_bytes(25, "little"))
            self._heads[length] = head
        return head

    def stream(self, key: bytes, purpose: str) -> Stream:
        """``Stream.derive(seed, key, purpose)`` for purpose ``"params"`` or ``"noise"``."""
        h = self._head(len(key)).copy()
        h.update(key + _PURPOSES[purpose])
        return Stream(h.digest())

    def output(self, key: bytes) -> OutputRandom:
        """``output_random(seed, key)``, the parameter stream derived when first read."""
        return OutputRandom(
            _DeferredDraws(lambda: self.stream(key, "params")), self.stream(key, "noise")
        )

    def __reduce__(self) -> tuple[type[SampleRandom], tuple[int]]:
        return (SampleRandom, (self.seed,))


def sample_key_bytes(parts: tuple[int, ...]) -> bytes:
    """:func:`sample_key` of a tuple already known to hold Python ints in int64."""
    return b"k" + b"".join(_INT.pack(p) for p in parts)


def check_key_part(part: object) -> int:
    """One int of a sample key (Python or numpy integer in int64, not a bool or a float)."""
    if isinstance(part, bool) or not hasattr(part, "__index__"):
        raise TypeError(f"a key is an int or a tuple of ints, got {part!r}")
    value = operator.index(part)
    if not _INT64[0] <= value < _INT64[1]:
        raise ValueError(f"key parts are 64-bit signed integers, got {value}")
    return value
