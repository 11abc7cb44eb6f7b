from __future__ import annotations

import numpy as np
import pytest

from noisecli.errors import UsageError
from noisecli.noise import NOISES, Gaussian, get_noise
from noisecli.ranges import clip_to_range, value_range


@pytest.mark.parametrize(
    ("dtype", "media", "expected"),
    [
        ("uint8", "image", (0, 255, 255)),
        ("uint16", "image", (0, 65535, 65535)),
        ("float32", "image", (0, 1, 1)),
        ("int16", "audio", (-32768, 32767, 32768)),
        ("float32", "audio", (-1, 1, 1)),
    ],
)
def test_value_range(dtype: str, media: str, expected: tuple[float, float, float]) -> None:
    assert value_range(dtype, media) == expected  # type: ignore[arg-type]


def test_value_range_rejects_other_types() -> None:
    with pytest.raises(UsageError):
        value_range("complex64")


def test_clip_rounds_counts_and_removes_nan() -> None:
    chunk = np.array([-3.0, 0.4, 0.6, 254.5, 300.0, np.nan], dtype=np.float32)
    out, clipped = clip_to_range(chunk, 0, 255, integer=True)
    assert clipped == 3  # -3, 300 and NaN
    assert out.tolist() == [0.0, 0.0, 1.0, 254.0, 255.0, 0.0]  # rint: half to even


def test_registry_lookup() -> None:
    assert get_noise("gaussian") is Gaussian
    assert get_noise("Normal") is Gaussian
    with pytest.raises(UsageError, match="unknown noise"):
        get_noise("nope")
    names = [n.name for n in NOISES]
    assert len(names) == len(set(names))


def test_from_options_parses_text_and_numbers() -> None:
    noise = Gaussian.from_options({"std": "5:50", "mono": True})
    assert isinstance(noise, Gaussian)
    assert (noise.std.lo, noise.std.hi, noise.mono) == (5, 50, True)
    assert Gaussian.from_options({"std": 12}).std.lo == 12  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match="does not apply"):
        Gaussian.from_options({"amount": "0.1"})
    with pytest.raises(UsageError, match="below the minimum"):
        Gaussian.from_options({"std": -1})
