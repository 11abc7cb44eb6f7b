"""Output keys and each output's randomness: a pure function of (seed, key).

A file's key is its path relative to the input root and its copy index; an array's is the
caller's ``key`` (an int or a tuple of ints such as ``(index, epoch)``). From (seed, key)
come two Philox streams: ``params`` (read in order by :class:`Draws` for the per-output
parameters) and ``noise`` (addressed by position: value ``j`` of the output uses the
stream's words at ``j``, whatever chunk, worker or order produced it).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from noisecli.rng.philox import Draws, Stream

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
