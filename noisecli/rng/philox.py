"""Counter-based random bits: Philox4x32-10 streams addressed by (seed, key, purpose, position).

Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC 2011; Random123): a 128-bit counter
``(c0, c1, c2, c3)`` and a 64-bit key ``(k0, k1)`` give four 32-bit words after ten rounds of::

    (hi0, lo0) = M0 * c0          (hi1, lo1) = M1 * c2        (64-bit products)
    (c0, c1, c2, c3) <- (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
    (k0, k1) <- (k0 + W0, k1 + W1) mod 2**32                  (between rounds)

with ``M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85``.

A :class:`Stream` is 128 key bits ``(k0, k1, k2, k3)``. Word ``i`` of the stream
(``0 <= i < 2**66``) is word ``i % 4`` of Philox4x32-10 with key ``(k0, k1)`` applied to the
counter ``(b & 0xFFFFFFFF, b >> 32, k2, k3)``, ``b = i // 4``. Every word is random-access.

Stream keys come from BLAKE2b (digest_size 16, person ``b"noisecli.rng.v1"``) over::

    derive: 0x00 | seed (16 bytes LE) | len(key) (8 bytes LE) | key | len(p) (8 LE) | p
    child:  0x01 | parent key (16 bytes) | len(p) (8 bytes LE) | p

where ``p`` is the purpose in UTF-8; ``(k0, k1, k2, k3)`` is the digest read as four
little-endian uint32. Nothing here has global state.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from noisecli.rng import kernels
from noisecli.rng.bits import WORD_LIMIT

PERSON = b"noisecli.rng.v1"
_MASK32 = 0xFFFFFFFF
_SEED_LIMIT = 1 << 128
_KEY_WORDS = struct.Struct("<4I")
_BASE = hashlib.blake2b(digest_size=16, person=PERSON)
_new = object.__new__


class Stream:
    """128 key bits selecting one Philox stream; immutable, hashable, picklable."""

    __slots__ = ("key",)

    key: bytes

    def __init__(self, key: bytes) -> None:
        key = bytes(key)
        if len(key) != 16:
            raise ValueError("a stream key is 16 bytes")
        _set_key(self, key)

    @classmethod
    def derive(cls, seed: int, key: bytes, purpose: str) -> Stream:
        """The stream of (seed, output key, purpose); ``0 <= seed < 2**128``."""
        if type(seed) is not int:
            seed = operator.index(seed)
        if not 0 <= seed < _SEED_LIMIT:
            raise ValueError("seed must be an integer in [0, 2**128)")
        if not isinstance(key, bytes):
            raise TypeError("key must be bytes")
        p = purpose.encode()
        h = _BASE.copy()
        # 0x00 | seed (16 LE) | len(key) (8 LE), as one 25-byte little-endian integer
        h.update(((len(key) << 128 | seed) << 8).to_bytes(25, "little") + key)
        h.update(len(p).to_bytes(8, "little") + p)
        s = _new(cls)
        _set_key(s, h.digest())
        return s

    def child(self, purpose: str) -> Stream:
        """A sub-stream for ``purpose``, derived from this stream's 16 key bytes."""
        p = purpose.encode()
        h = _BASE.copy()
        h.update(b"\x01" + self.key + len(p).to_bytes(8, "little") + p)
        s = _new(type(self))
        _set_key(s, h.digest())
        return s

    @property
    def words(self) -> tuple[int, int, int, int]:
        """The key as ``(k0, k1, k2, k3)``."""
        w: tuple[int, int, int, int] = _KEY_WORDS.unpack(self.key)
        return w

    def bits(
        self, start: int, count: int, out: NDArray[np.uint32] | None = None
    ) -> NDArray[np.uint32]:
        """Words ``start .. start+count-1`` (uint32)."""
        fn: Callable[..., NDArray[np.uint32]] = kernels.bits
        return fn(self, start, count, out)

    def uniform(
        self, start: int, count: int, out: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """``(w >> 8) * 2**-24`` of words ``start ..``: float32 in [0, 1)."""
        fn: Callable[..., NDArray[np.float32]] = kernels.uniform
        return fn(self, start, count, out)

    def normal(
        self, start: int, count: int, out: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """N(0, 1) float32 of words ``start ..`` (see :mod:`noisecli.rng.normal`)."""
        fn: Callable[..., NDArray[np.float32]] = kernels.normal
        return fn(self, start, count, out)

    def draws(self, position: int = 0) -> Draws:
        """A sequential reader of this stream from word ``position``."""
        return Draws(self, position)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Stream is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Stream is immutable")

    def __reduce__(self) -> tuple[type[Stream], tuple[bytes]]:
        return (type(self), (self.key,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and other.key == self.key

    def __hash__(self) -> int:
        return hash((Stream, self.key))

    def __repr__(self) -> str:
        return f"Stream({self.key.hex()})"


_set_key: Callable[[Stream, bytes], None] = Stream.__dict__["key"].__set__


class Draws:
    """Sequential scalar draws from a stream, with a cursor at a word position.

    Word consumption (fixed, independent of buffering):

    * ``word()``: 1 word ``w``.
    * ``random()``: 2 words ``a, b`` -> ``((a >> 5) * 2**26 + (b >> 6)) * 2**-53`` in [0, 1).
    * ``uniform(low, high)``: ``low + (high - low) * random()`` (2 words).
    * ``integers(low, high)``: uniform on ``low..high`` inclusive, ``r = high - low + 1``.
      If ``r <= 2**32``: Lemire's method on 32-bit words: ``m = w * r``; accept if
      ``m % 2**32 >= (2**32 - r) % r``, else draw again; result ``low + m >> 32``.
      If ``2**32 < r <= 2**64``: the same on 64-bit values ``(w_first << 32) | w_second``
      (2 words per attempt). Larger ranges raise ValueError. ``r == 1`` consumes no word.
    """

    __slots__ = ("_buf", "_buf_start", "position", "stream")

    _FILL = 64

    def __init__(self, stream: Stream, position: int = 0) -> None:
        self.stream = stream
        self.position = operator.index(position)
        self._buf: list[int] = []
        self._buf_start = 0

    def word(self) -> int:
        """The next 32-bit word."""
        i = self.position - self._buf_start
        if not 0 <= i < len(self._buf):
            n = min(self._FILL, WORD_LIMIT - self.position)
            self._buf = self.stream.bits(self.position, n).tolist()
            self._buf_start = self.position
            i = 0
        self.position += 1
        return self._buf[i]

    def random(self) -> float:
        """Float64 in [0, 1) with 53 random bits (2 words)."""
        a = self.word()
        b = self.word()
        return ((a >> 5) * 67108864 + (b >> 6)) * (1.0 / 9007199254740992.0)

    def uniform(self, low: float, high: float) -> float:
        """``low + (high - low) * random()`` (2 words)."""
        return low + (high - low) * self.random()

    def integers(self, low: int, high: int) -> int:
        """Uniform integer in ``low..high`` inclusive, unbiased (Lemire)."""
        r = high - low + 1
        if r <= 0:
            raise ValueError("integers: high < low")
        if r == 1:
            return low
        if r <= 1 << 32:
            thresh = ((1 << 32) - r) % r
            while True:
                m = self.word() * r
                if m & _MASK32 >= thresh:
                    return low + (m >> 32)
        if r <= 1 << 64:
            thresh = ((1 << 64) - r) % r
            while True:
                w = self.word() << 32
                m = (w | self.word()) * r
                if m & 0xFFFFFFFFFFFFFFFF >= thresh:
                    return low + (m >> 64)
        raise ValueError("integers: range wider than 2**64")
