"""Philox4x32-10 blocks and stream words in numpy: the twin of the compiled bits.

See :mod:`noisecli.rng.philox` for the stream layout. This module holds only the
arithmetic (no Stream), so the kernels can use it without importing the streams.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import NDArray

M0 = 0xD2511F53
M1 = 0xCD9E8D57
W0 = 0x9E3779B9
W1 = 0xBB67AE85
ROUNDS = 10
WORD_LIMIT = 1 << 66  # word indices are 0 <= i < 2**66 (64-bit block index)

_MASK32 = 0xFFFFFFFF
_U32 = np.dtype(np.uint32)


def philox4x32_10(
    ctr: tuple[int, int, int, int], key: tuple[int, int]
) -> tuple[int, int, int, int]:
    """One Philox4x32-10 block in pure Python (reference for the known-answer tests)."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(ROUNDS):
        if r:
            k0 = (k0 + W0) & _MASK32
            k1 = (k1 + W1) & _MASK32
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> 32) ^ c1 ^ k0,
            p1 & _MASK32,
            (p0 >> 32) ^ c3 ^ k1,
            p0 & _MASK32,
        )
    return c0, c1, c2, c3


def _check_range(start: int, count: int) -> tuple[int, int]:
    start = operator.index(start)
    count = operator.index(count)
    if start < 0 or count < 0 or start + count > WORD_LIMIT:
        raise ValueError(f"word range [{start}, {start}+{count}) outside [0, 2**66)")
    return start, count


def _out_array(out: NDArray[Any] | None, count: int, dtype: np.dtype[Any]) -> NDArray[Any]:
    if out is None:
        return np.empty(count, dtype)
    if out.dtype != dtype or out.shape != (count,) or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous {dtype} array of shape ({count},)")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


_SMALL_BLOCKS = 4  # up to this many blocks the scalar Python rounds beat numpy's overhead
_CHUNK_BLOCKS = 1 << 13  # numpy twin works in cache-sized chunks of blocks


def _philox_blocks_numpy(
    k: tuple[int, int, int, int], block0: int, nblocks: int, out: NDArray[np.uint32]
) -> None:
    """Words of blocks ``block0 .. block0+nblocks-1`` into ``out`` (4*nblocks, interleaved).

    State as two (2, n) uint64 arrays ``A = [c0, c2]``, ``B = [c1, c3]``; one round is
    ``A *= [M0, M1]; B ^= [k0, k1]; B ^= (A >> 32)[::-1]; A &= 2**32-1; A, B = B, A[::-1]``.
    """
    k0, k1, k2, k3 = k
    view = out.reshape(nblocks, 4)
    if nblocks <= _SMALL_BLOCKS:
        for j in range(nblocks):
            blk_i = block0 + j
            view[j] = philox4x32_10((blk_i & _MASK32, blk_i >> 32, k2, k3), (k0, k1))
        return
    mult = np.array([[M0], [M1]], np.uint64)
    sh = np.uint64(32)
    mask = np.uint64(_MASK32)
    rkey = np.empty((2, 1), np.uint64)
    for j0 in range(0, nblocks, _CHUNK_BLOCKS):
        n = min(_CHUNK_BLOCKS, nblocks - j0)
        a = np.empty((2, n), np.uint64)
        b = np.empty((2, n), np.uint64)
        h = np.empty((2, n), np.uint64)
        blk = np.arange(block0 + j0, block0 + j0 + n, dtype=np.uint64)
        np.bitwise_and(blk, mask, out=a[0])
        np.right_shift(blk, sh, out=b[0])
        a[1] = k2
        b[1] = k3
        rk0, rk1 = k0, k1
        for r in range(ROUNDS):
            if r:
                rk0 = (rk0 + W0) & _MASK32
                rk1 = (rk1 + W1) & _MASK32
            rkey[0, 0] = rk0
            rkey[1, 0] = rk1
            a *= mult
            b ^= rkey
            np.right_shift(a, sh, out=h)
            b ^= h[::-1]
            a &= mask
            a, b = b, a[::-1]
        dst = view[j0 : j0 + n]
        dst[:, 0] = a[0]
        dst[:, 1] = b[0]
        dst[:, 2] = a[1]
        dst[:, 3] = b[1]


def bits_numpy(
    k: tuple[int, int, int, int], start: int, count: int, out: NDArray[np.uint32] | None = None
) -> NDArray[np.uint32]:
    """Words ``start .. start+count-1`` of the stream with key words ``k`` (the numpy twin)."""
    start, count = _check_range(start, count)
    res = _out_array(out, count, _U32)
    if count == 0:
        return res
    block0 = start >> 2
    phase = start & 3
    nblocks = (phase + count + 3) >> 2
    if phase == 0 and count == 4 * nblocks:
        _philox_blocks_numpy(k, block0, nblocks, res)
    else:
        tmp = np.empty(4 * nblocks, np.uint32)
        _philox_blocks_numpy(k, block0, nblocks, tmp)
        res[...] = tmp[phase : phase + count]
    return res
