"""Philox4x32-10 known answers, stream addressing, key derivation and the scalar draws."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest

from noisecli.rng import kernels
from noisecli.rng.bits import WORD_LIMIT, bits_numpy, philox4x32_10
from noisecli.rng.philox import Draws, Stream

# Random123 tests/kat_vectors, "philox4x32 10" lines: counter (4 words), key (2), expected (4).
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]  # fmt: skip

BACKENDS = ["numpy"] + (["compiled"] if kernels.COMPILED is not None else [])


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_kat_scalar(
    ctr: tuple[int, int, int, int], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    assert philox4x32_10(ctr, key) == expected


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_kat_through_streams(
    backend: str, ctr: tuple[int, int, int, int], key: tuple[int, int], expected: tuple[int, ...]
) -> None:
    """Word 4b + i of stream (k0, k1, k2, k3) = word i of Philox((b_lo, b_hi, k2, k3), (k0, k1))."""
    stream = Stream(struct.pack("<4I", key[0], key[1], ctr[2], ctr[3]))
    block = ctr[0] | ctr[1] << 32
    got = kernels.bits(stream, 4 * block, 4, using=kernels.backend(backend))
    assert tuple(int(v) for v in got) == expected
    # the same block reached from an unaligned start
    got = kernels.bits(stream, 4 * block + 1, 3, using=kernels.backend(backend))
    assert tuple(int(v) for v in got) == expected[1:]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bits_random_access(backend: str) -> None:
    using = kernels.backend(backend)
    s = Stream.derive(12345, b"photo.png", "gaussian")
    long = kernels.bits(s, 0, 5000, using=using)
    for start, n in [(0, 1), (1, 1), (3, 5), (5, 3), (7, 999), (4, 4), (1023, 1025), (2, 4998)]:
        assert (kernels.bits(s, start, n, using=using) == long[start : start + n]).all()
    # beyond 2**32 blocks: the high counter word is in use
    far = 4 * (1 << 32) - 6
    assert (
        kernels.bits(s, far, 9, using=using)[6:] == kernels.bits(s, far + 6, 3, using=using)
    ).all()
    ref = np.array([philox4x32_10((1, 1, *s.words[2:]), s.words[:2])], np.uint32).ravel()
    assert (kernels.bits(s, 4 * ((1 << 32) + 1), 4, using=using) == ref).all()


def test_bits_end_of_stream_and_range_checks() -> None:
    s = Stream.derive(1, b"", "")
    last = s.bits(WORD_LIMIT - 3, 3)
    b = (WORD_LIMIT >> 2) - 1
    ref = philox4x32_10((b & 0xFFFFFFFF, b >> 32, *s.words[2:]), s.words[:2])
    assert tuple(int(v) for v in last) == ref[1:]
    with pytest.raises(ValueError):
        s.bits(WORD_LIMIT - 3, 4)
    with pytest.raises(ValueError):
        s.bits(-1, 2)
    out = np.empty(7, np.uint32)
    assert s.bits(3, 7, out=out) is out
    with pytest.raises(ValueError):
        s.bits(3, 8, out=out)


def test_numpy_small_and_large_paths_agree() -> None:
    k = (1, 2, 3, 4)
    big = bits_numpy(k, 0, 4 * 20000 + 3)
    for start in (0, 1, 2, 3, 13, 4 * 8191 + 2, 4 * 19990):
        for n in (1, 2, 5, 15, 16, 17):
            assert (bits_numpy(k, start, n) == big[start : start + n]).all()


def test_derive_distinct_and_unambiguous() -> None:
    seen = set()
    for seed in (0, 1, 2, 2**64, 2**128 - 1):
        for key in (b"", b"a", b"ab", b"a\x00", b"\x00a"):
            for purpose in ("", "b", "ab", "gaussian", "gaussian/mono"):
                seen.add(Stream.derive(seed, key, purpose).key)
    assert len(seen) == 5 * 5 * 5
    # the length prefixes make splits of the same bytes distinct
    assert Stream.derive(1, b"ab", "c") != Stream.derive(1, b"a", "bc")
    s = Stream.derive(1, b"x", "y")
    kids = {s.child(p).key for p in ("", "a", "b", "ab")}
    assert len(kids) == 4
    assert s.child("a") != s and s.child("a").child("b") != s.child("ab")
    # child and derive use separate domains
    seed_of_s = int.from_bytes(s.key, "little")
    assert s.child("a") != Stream.derive(seed_of_s, b"", "a")


def test_derive_golden() -> None:
    """The key derivation is part of the output format: these bytes must never change."""
    assert Stream.derive(0, b"", "").key.hex() == "22c09cb43c54099fb34d0d0d1ee332e9"
    s = Stream.derive(7, b"abc/def.png", "gaussian")
    assert s.key.hex() == "b1604ed64864a8e97b3c8e8bf05052c8"
    assert s.child("mono").key.hex() == "da9c3d3f1d5dd14009150afa3b629989"


def test_derive_rejects_bad_input() -> None:
    for bad in (-1, 2**128, 2**200):
        with pytest.raises(ValueError):
            Stream.derive(bad, b"", "")
    with pytest.raises(TypeError):
        Stream.derive(1.5, b"", "")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Stream.derive(1, "text", "")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Stream(b"short")
    assert Stream.derive(np.uint64(5), b"", "p") == Stream.derive(5, b"", "p")  # type: ignore[arg-type]


def test_stream_is_immutable_hashable_picklable() -> None:
    s = Stream.derive(99, b"k", "p")
    t = pickle.loads(pickle.dumps(s))
    assert t == s and hash(t) == hash(s) and t.key == s.key
    assert len(pickle.dumps(s)) < 100
    with pytest.raises(AttributeError):
        s.key = b"0" * 16  # type: ignore[misc]
    with pytest.raises(AttributeError):
        s.other = 1  # type: ignore[attr-defined]
    assert {s: 1}[t] == 1
    assert repr(s) == f"Stream({s.key.hex()})"


def test_uniform_and_normal_methods() -> None:
    s = Stream.derive(3, b"", "u")
    w = s.bits(10, 100)
    u = s.uniform(10, 100)
    assert u.dtype == np.float32
    assert (u == (w >> 8).astype(np.float32) * np.float32(2.0**-24)).all()
    assert (u >= 0).all() and (u < 1).all()
    z = s.normal(10, 100)
    assert (z == kernels.normal_from_bits(w)).all()


def test_draws_fixed_consumption() -> None:
    s = Stream.derive(5, b"", "params")
    w = [int(v) for v in s.bits(0, 64)]
    d = Draws(s)
    a, b = w[0], w[1]
    assert d.random() == ((a >> 5) * 2**26 + (b >> 6)) * 2.0**-53
    assert d.position == 2
    lo, hi = -3.0, 7.5
    assert d.uniform(lo, hi) == lo + (hi - lo) * (((w[2] >> 5) * 2**26 + (w[3] >> 6)) * 2.0**-53)
    assert d.position == 4
    assert d.word() == w[4]
    assert d.integers(7, 7) == 7 and d.position == 5  # r == 1 draws nothing
    # r = 10: Lemire, accept when (w * r) mod 2**32 >= (2**32 - r) % r
    v = d.integers(0, 9)
    m = w[5] * 10
    assert m % 2**32 >= (2**32 - 10) % 10
    assert v == m >> 32 and d.position == 6
    # a cursor anywhere continues the same sequence, whatever was buffered
    d2 = s.draws(5)
    assert d2.integers(0, 9) == v
    d3 = Draws(s, 63)
    assert d3.word() == w[63] and d3.word() == int(s.bits(64, 1)[0])


def test_draws_ranges_and_uniformity() -> None:
    d = Stream.derive(11, b"", "ints").draws()
    vals = [d.integers(-2, 4) for _ in range(7000)]
    counts = np.bincount(np.array(vals) + 2, minlength=7)
    assert counts.min() > 0 and len(counts) == 7
    chi2 = float(((counts - 1000) ** 2 / 1000).sum())
    assert chi2 < 30  # 6 dof: P(chi2 > 30) ~ 4e-5
    big = [d.integers(0, 2**40) for _ in range(200)]
    assert all(0 <= v <= 2**40 for v in big) and max(big) > 2**38
    assert 0 <= d.integers(0, 2**64 - 1) < 2**64
    with pytest.raises(ValueError):
        d.integers(0, 2**64)
    with pytest.raises(ValueError):
        d.integers(3, 2)
    r = [d.random() for _ in range(2000)]
    assert min(r) >= 0 and max(r) < 1 and abs(np.mean(r) - 0.5) < 0.04
