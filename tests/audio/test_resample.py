"""The streaming resampler matches scipy's resample_poly and has no block seams."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from noisecli.audio.resample import StreamResampler, lead_frames


def _stream(x: np.ndarray, lead: int):  # type: ignore[no-untyped-def]
    """pull(n): ``lead`` zeros, then ``x``, then zeros forever."""
    padded = np.concatenate([np.zeros((lead, x.shape[1])), x])
    pos = 0

    def pull(n: int) -> np.ndarray:
        nonlocal pos
        out = np.zeros((n, x.shape[1]))
        part = padded[pos : pos + n]
        out[: len(part)] = part
        pos += n
        return out

    return pull


@pytest.mark.parametrize(
    ("rate_in", "rate_out"), [(22050, 16000), (8000, 48000), (48000, 16000), (44100, 48000)]
)
def test_matches_resample_poly(rate_in: int, rate_out: int) -> None:
    """Same filter, same alignment: equal to rounding error over several blocks."""
    x = np.random.default_rng(0).standard_normal((60_000, 2))
    expected = signal.resample_poly(x, rate_out, rate_in, axis=0)
    resampler = StreamResampler(rate_in, rate_out, 2, _stream(x, lead_frames(rate_in, rate_out)))
    blocks = []
    while sum(len(b) for b in blocks) < len(expected):
        blocks.append(resampler.produce())
    got = np.concatenate(blocks)[: len(expected)]
    assert len(blocks) > 2  # seams between blocks are covered
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_blocks_consume_a_fixed_number_of_frames() -> None:
    pulled: list[int] = []

    def pull(n: int) -> np.ndarray:
        pulled.append(n)
        return np.zeros((n, 1))

    resampler = StreamResampler(44100, 16000, 1, pull)
    for _ in range(3):
        assert len(resampler.produce()) == resampler.block
    assert resampler.block % resampler.up == 0
    assert pulled[1:] == [resampler.block // resampler.up * resampler.down] * 3
