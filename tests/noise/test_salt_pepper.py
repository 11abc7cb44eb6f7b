"""Salt-pepper: the fraction and the salt ratio asked for, values at the range's ends."""

from __future__ import annotations

import numpy as np
import pytest

from noisecli.noise import SaltPepper
from noisecli.ranges import value_range
from tests.noise.helpers import flat, run, se_prop

AMOUNT = 0.1
RATIO = 0.3


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
def test_fraction_ratio_and_values_per_value(dtype: str) -> None:
    src = flat(0.5, dtype, channels=3, rows=600, width=600)  # 1.08·10^6 values
    out = run(SaltPepper.from_options({"amount": AMOUNT, "salt_ratio": RATIO}), src)
    lo, hi, _ = value_range(dtype)
    changed = out != src
    n = src.size
    n_changed = int(changed.sum())
    # each value is replaced independently with probability AMOUNT: a binomial proportion,
    # and among the replaced, salt with probability RATIO; 3 standard errors either way
    assert abs(n_changed / n - AMOUNT) <= 3 * se_prop(AMOUNT, n)
    salt = int((out[changed] == hi).sum())
    assert abs(salt / n_changed - RATIO) <= 3 * se_prop(RATIO, n_changed)
    assert np.isin(out[changed], [lo, hi]).all()
    # per value: some pixels have only some of their channels replaced
    per_pixel = changed.sum(axis=2)
    assert ((per_pixel > 0) & (per_pixel < 3)).any()


def test_per_pixel_replaces_whole_pixels() -> None:
    src = flat(0.5, "uint8", channels=3, rows=600, width=600)  # 3.6·10^5 pixels
    out = run(SaltPepper.from_options({"amount": AMOUNT, "per_pixel": True}), src)
    changed = (out != src).any(axis=2)
    assert ((out != src).all(axis=2) == changed).all()
    replaced = out[changed]
    assert (replaced == replaced[:, :1]).all()  # one value for all channels of a pixel
    n = changed.size
    assert abs(changed.sum() / n - AMOUNT) <= 3 * se_prop(AMOUNT, n)
    salt = float((replaced[:, 0] == 255).mean())
    assert abs(salt - 0.5) <= 3 * se_prop(0.5, len(replaced))


def test_all_salt_and_all_pepper() -> None:
    src = flat(0.5, "uint16", rows=100, width=100)
    assert (run(SaltPepper.from_options({"amount": 1, "salt_ratio": 1}), src) == 65535).all()
    assert (run(SaltPepper.from_options({"amount": 1, "salt_ratio": 0}), src) == 0).all()
