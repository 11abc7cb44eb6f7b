from __future__ import annotations

import numpy as np
import pytest

from noisecli.api.arrays import add_noise
from noisecli.errors import UsageError
from noisecli.image.engine import image_info, noise_image
from noisecli.noise import Gaussian
from noisecli.rng.keys import file_key, output_random
from tests.conftest import synthetic_image

LAYOUTS = [
    (1, "uint8"),
    (3, "uint8"),
    (4, "uint8"),
    (1, "uint16"),
    (3, "uint16"),
    (4, "uint16"),
    (1, "float32"),
    (3, "float32"),
    (4, "float32"),
    (2, "uint8"),
]


def _noisy(img: np.ndarray, chunk: int, seed: int = 1, **params: object) -> np.ndarray:
    noise = Gaussian.from_options(params or {"std": 30})
    rnd = output_random(seed, file_key("x.png", 0))
    return noise_image(img, noise, rnd, chunk)[0]


@pytest.mark.parametrize(("channels", "dtype"), LAYOUTS)
def test_shape_dtype_range_kept_and_alpha_untouched(channels: int, dtype: str) -> None:
    img = synthetic_image(37, 29, channels=channels, dtype=dtype, seed=channels)
    out = _noisy(img, 8)
    assert out.shape == img.shape and out.dtype == img.dtype
    if dtype == "float32":
        assert np.all((out >= 0) & (out <= 1)) and np.isfinite(out).all()
    if channels in (2, 4):
        assert np.array_equal(out[..., -1], img[..., -1])
        assert not np.array_equal(out[..., 0], img[..., 0])
    else:
        assert not np.array_equal(out, img)


@pytest.mark.parametrize(("channels", "dtype"), LAYOUTS)
def test_chunked_equals_whole(channels: int, dtype: str) -> None:
    img = synthetic_image(50, 31, channels=channels, dtype=dtype, seed=2)
    whole = _noisy(img, 10_000)
    for chunk in (1, 7, 16, 49):
        assert np.array_equal(_noisy(img, chunk), whole), chunk


def test_chunked_equals_whole_with_mono_and_range() -> None:
    img = synthetic_image(40, 20, seed=3)
    whole = _noisy(img, 1000, std="5:50", mono=True)
    assert np.array_equal(_noisy(img, 3, std="5:50", mono=True), whole)


def test_same_seed_same_bytes_other_seed_differs() -> None:
    img = synthetic_image(32, 32, seed=4)
    a = add_noise(img, "gaussian", std=20, seed=5)
    b = add_noise(img, "gaussian", std=20, seed=5)
    c = add_noise(img, "gaussian", std=20, seed=6)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


def test_add_noise_without_seed_differs_each_call() -> None:
    img = synthetic_image(32, 32, seed=4)
    assert not np.array_equal(add_noise(img, std=20), add_noise(img, std=20))


def test_add_noise_accepts_instances_and_text() -> None:
    img = synthetic_image(16, 16, seed=1)
    inst = Gaussian.from_options({"std": "10%"})
    assert np.array_equal(
        add_noise(img, inst, seed=2), add_noise(img, "gaussian", std="10%", seed=2)
    )
    with pytest.raises(UsageError):
        add_noise(img, inst, seed=2, std=3)


def test_range_is_drawn_per_output_and_recorded() -> None:
    img = np.full((64, 64), 128, np.uint8)
    noise = Gaussian.from_options({"std": "5:50"})
    drawn = set()
    for key in range(20):
        rnd = output_random(1, file_key(f"f{key}.png", 0))
        _, noiser = noise_image(img, noise, rnd)
        std = noiser.prepared.params["std"]
        assert isinstance(std, float) and 5 <= std <= 50
        drawn.add(std)
    assert len(drawn) == 20


def test_zero_std_is_identity() -> None:
    img = synthetic_image(20, 20, dtype="uint16", seed=8)
    assert np.array_equal(add_noise(img, std=0, seed=1), img)


def test_clipped_fraction_is_counted() -> None:
    img = np.zeros((100, 100), np.uint8)  # half of zero-mean noise falls below 0
    rnd = output_random(1, file_key("x", 0))
    _, noiser = noise_image(img, Gaussian.from_options({"std": 20}), rnd)
    # binomial SE at n = 10^4 is 0.005; values in (-0.5, 0) round to 0 and are not clipped
    frac = noiser.stats.clipped_fraction
    assert 0.48 - 0.03 < frac < 0.5 + 0.03


@pytest.mark.parametrize(
    ("array", "reason"),
    [
        (np.zeros((4, 4, 5), np.uint8), "HxWxC"),
        (np.zeros((4,), np.uint8), "HxWxC"),
        (np.zeros((4, 4), np.int32), "not supported"),
    ],
)
def test_bad_images_are_usage_errors(array: np.ndarray, reason: str) -> None:
    """The file engine takes images only (arrays of any shape go through add_noise)."""
    rnd = output_random(1, file_key("x", 0))
    with pytest.raises(UsageError, match=reason):
        noise_image(array, Gaussian.from_options({"std": 1}), rnd)


def test_image_info_counts_colour_channels() -> None:
    assert image_info(np.zeros((2, 2, 4), np.uint8)).channels == 3
    assert image_info(np.zeros((2, 2), np.uint16)).full_scale == 65535
