"""The compiled uint8 Poisson lookup (noisecli.rng._poisson) against its numpy twin."""

from __future__ import annotations

import os

import numpy as np
import pytest

from noisecli.rng import poisson
from noisecli.rng.philox import Stream


def test_compiled_lookup_is_built_in_ci() -> None:
    if os.environ.get("CI") == "true":
        assert poisson._compiled() is not None, "CI builds the compiled Poisson lookup"


@pytest.mark.parametrize("photons", [0.5, 7.0, 100.0, 2500.0])
def test_compiled_and_twin_give_the_same_bytes(
    photons: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    if poisson._compiled() is None:
        pytest.skip("the compiled extension is not built (pip install -e . with a C compiler)")
    stream = Stream.derive(11, b"poisson", "noise")
    x = (np.arange(300_001) * 7919 % 256).astype(np.uint8)
    fast = np.empty_like(x)
    clipped_fast = poisson.poisson_u8(stream, 3, x, photons, fast)
    monkeypatch.setenv("NOISECLI_PURE", "1")
    assert poisson._compiled() is None
    twin = np.empty_like(x)
    clipped_twin = poisson.poisson_u8(stream, 3, x, photons, twin)
    assert clipped_fast == clipped_twin
    assert np.array_equal(fast, twin)
