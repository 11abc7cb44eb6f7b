"""Keys: the same key gives the same bytes, anywhere, in any order, in batches and pools."""

from __future__ import annotations

import multiprocessing
import pickle
from typing import Any

import numpy as np
import pytest

from noisecli import Augmenter, Noised, add_noise
from noisecli.noise import Gaussian
from noisecli.rng.keys import SampleRandom, output_random, sample_key, sample_key_bytes
from tests.api.helpers import float01, uint8_image

# the fast path (one prepare for all samples), and the general one (drawn parameters,
# noises without a fused kernel, per-pixel options, a CHW view)
AUGMENTERS: dict[str, dict[str, Any]] = {
    "gaussian": {"std": 12},
    "gaussian-range": {"std": "5:30"},
    "uniform-mono": {"noise": "uniform", "std": 9, "mono": True},
    "poisson": {"noise": "poisson", "photons": "20:80"},
    "salt-pepper": {"noise": "salt-pepper", "amount": 0.1, "per_pixel": True},
    "speckle": {"noise": "speckle", "std": 0.2},
    "sensor": {"noise": "sensor", "iso_like": "100:3200"},
    "severity": {"severity": "1:5"},
    "chw": {"std": 12, "layout": "CHW"},
}


def augmenter(case: str, seed: int = 7) -> Augmenter:
    return Augmenter(seed=seed, **AUGMENTERS[case])


def sample(case: str) -> np.ndarray:
    img = uint8_image((12, 14, 3))
    return np.ascontiguousarray(img.transpose(2, 0, 1)) if case == "chw" else img


@pytest.mark.parametrize("case", AUGMENTERS)
def test_same_key_same_bytes_other_keys_differ(case: str) -> None:
    aug, x = augmenter(case), sample(case)
    a = aug(x, key=(3, 1))
    assert a.tobytes() == aug(x, key=(3, 1)).tobytes()
    assert a.tobytes() == augmenter(case)(x, key=(3, 1)).tobytes()  # a new Augmenter
    others = {aug(x, key=k).tobytes() for k in [(3, 2), (4, 1), 3, (1, 3), (3, 1, 0)]}
    assert a.tobytes() not in others and len(others) == 5
    assert aug(x, key=(3, 1)).tobytes() != augmenter(case, seed=8)(x, key=(3, 1)).tobytes()


@pytest.mark.parametrize("case", AUGMENTERS)
def test_batch_is_its_samples_noised_one_by_one(case: str) -> None:
    aug, x = augmenter(case), sample(case)
    xs = np.stack([x, x[..., ::-1], x // 2, x, x])
    keys = [(0, 5), (1, 5), (2, 5), (3, 5), 17]
    ys = aug.batch(xs, keys)
    for i, k in enumerate(keys):
        assert ys[i].tobytes() == aug(xs[i], key=k).tobytes(), i
    assert ys[0].tobytes() != ys[3].tobytes()  # the same image, other keys: other noise
    assert np.array_equal(
        aug.batch(xs, np.array([[0, 5], [1, 5], [2, 5], [3, 5], [17, 0]]))[:4], ys[:4]
    )


@pytest.mark.parametrize("case", AUGMENTERS)
def test_call_order_and_repetition_do_not_matter(case: str) -> None:
    aug, x = augmenter(case), sample(case)
    forward = [aug(x, key=k).tobytes() for k in range(6)]
    fresh = augmenter(case)
    backward = [fresh(x, key=k).tobytes() for k in reversed(range(6))][::-1]
    assert forward == backward
    assert [aug(x, key=k).tobytes() for k in range(6)] == forward


@pytest.mark.parametrize("case", AUGMENTERS)
def test_add_noise_equals_the_augmenter(case: str) -> None:
    params = dict(AUGMENTERS[case])
    x = sample(case)
    for key in (0, 5, (2, 9)):
        expected = Augmenter(seed=123, **params)(x, key=key)
        assert np.array_equal(add_noise(x, seed=123, key=key, **params), expected)


def test_keys_are_those_of_output_random_and_sample_key() -> None:
    """An array sample with key k gets output_random(seed, sample_key(k)): ints and tuples
    alike, numpy integers too."""
    x = uint8_image()
    noise = Gaussian.from_options({"std": 12})
    from noisecli.image.engine import noise_image

    expected, _ = noise_image(x, noise, output_random(9, sample_key((4, 2))))
    assert np.array_equal(add_noise(x, noise, seed=9, key=(4, 2)), expected)
    assert np.array_equal(add_noise(x, noise, seed=9, key=(np.int64(4), np.uint8(2))), expected)
    assert np.array_equal(add_noise(x, noise, seed=9, key=[4, 2]), expected)
    assert np.array_equal(
        add_noise(x, seed=9, key=3, std=12), add_noise(x, seed=9, key=(3,), std=12)
    )


def test_sample_random_streams_are_output_random_streams() -> None:
    for seed in (0, 1, 2**127 + 5):
        fast = SampleRandom(seed)
        for parts in [(0,), (5, 1), (-3, 2**62, 7)]:
            key = sample_key_bytes(parts)
            assert key == sample_key(parts)
            slow = output_random(seed, key)
            got = fast.output(key)
            assert got.stream == slow.stream
            assert got.draws.random() == slow.draws.random()
            assert fast.stream(key, "params") == slow.draws.stream
    lazy = SampleRandom(3).output(sample_key_bytes((1,)))
    assert not lazy.draws.used
    lazy.draws.word()
    assert lazy.draws.used


def test_without_a_key_the_noise_is_fresh() -> None:
    aug = Augmenter(std=10, seed=1)
    x = uint8_image()
    assert not np.array_equal(aug(x), aug(x))
    assert not np.array_equal(add_noise(x, std=10), add_noise(x, std=10))


def test_a_drawn_seed_is_kept_and_reproducible_within_the_augmenter() -> None:
    aug = Augmenter(std=10)
    assert isinstance(aug.seed, int) and 0 <= aug.seed < 2**128
    x = uint8_image()
    assert np.array_equal(aug(x, key=4), aug(x, key=4))
    assert np.array_equal(Augmenter(std=10, seed=aug.seed)(x, key=4), aug(x, key=4))
    assert np.array_equal(pickle.loads(pickle.dumps(aug))(x, key=4), aug(x, key=4))


# -- drawn parameters ----------------------------------------------------------------------


def test_draw_returns_the_parameters_drawn() -> None:
    aug = Augmenter(std="0.05:0.2", seed=4, data_range=(0, 1))
    x = float01((16, 16, 3))
    noised = aug.draw(x, key=(1, 0))
    assert isinstance(noised, Noised)
    assert np.array_equal(noised.array, aug(x, key=(1, 0)))
    assert set(noised.params) >= {"std", "mean", "unit", "mono"}
    stds = {aug.draw(x, key=(i, 0)).params["std"] for i in range(20)}
    assert len(stds) == 20 and all(0.05 <= s <= 0.2 for s in stds)
    fixed = Augmenter(std=0.1, seed=4).draw(x, key=1).params
    assert fixed["std"] == 0.1 and fixed["unit"] == "array units"
    pct = Augmenter(std="5%", seed=4, data_range=(0, 1)).draw(x, key=1).params
    assert pct["std"] == 5 and pct["unit"] == "%"


def test_draw_on_a_batch_layout_lists_every_sample() -> None:
    aug = Augmenter("poisson", photons="10:100", seed=4, layout="NHWC")
    xs = uint8_image((5, 8, 8, 3))
    noised = aug.draw(xs, key=2)
    assert [p["photons"] for p in noised.params["samples"]] == [
        Augmenter("poisson", photons="10:100", seed=4).draw(xs[i], key=(2, i)).params["photons"]
        for i in range(5)
    ]


# -- pickling and pools ----------------------------------------------------------------


def _noise_in_worker(args: tuple[Augmenter, np.ndarray, int]) -> bytes:
    aug, x, key = args
    return aug(x, key=(key, 0)).tobytes()


@pytest.mark.parametrize("case", ["gaussian", "poisson", "sensor", "chw"])
def test_pickled_augmenter_in_a_process_pool_gives_the_same_arrays(case: str) -> None:
    aug, x = augmenter(case), sample(case)
    expected = [aug(x, key=(k, 0)).tobytes() for k in range(6)]
    again = pickle.loads(pickle.dumps(aug))
    assert [again(x, key=(k, 0)).tobytes() for k in range(6)] == expected
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        got = pool.map(_noise_in_worker, [(aug, x, k) for k in range(6)])
    assert got == expected


def test_pickles_are_small_and_carry_no_caches() -> None:
    aug = Augmenter(std=10, seed=1)
    for k in range(50):
        aug(uint8_image((8, 8, 3)), key=k)
    assert len(pickle.dumps(aug)) < 1000


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32"])
@pytest.mark.parametrize("noise", ["gaussian", "uniform"])
def test_the_one_prepare_fast_path_gives_the_file_engines_bytes(dtype: str, noise: str) -> None:
    """Samples sharing one prepared noise (rebound kernels, unchecked entry) get the bytes
    the file engine gives each output on its own (8-bit levels converted to array units)."""
    from noisecli.image.engine import noise_image
    from noisecli.noise import get_noise

    rng = np.random.default_rng(2)
    if dtype == "float32":
        xs = rng.random((4, 9, 11, 3), dtype=np.float32)
        params: dict[str, Any] = {"std": 12 / 255, "data_range": (0, 1), "layout": "NHWC"}
    else:
        top = np.iinfo(np.dtype(dtype)).max
        xs = rng.integers(0, top, (4, 9, 11, 3)).astype(dtype)
        params = {"std": 12 * (top / 255), "layout": "NHWC"}
    ys = add_noise(xs, noise, seed=3, key=8, **params)
    cls = get_noise(noise)
    for i in range(4):
        rnd = output_random(3, sample_key((8, i)))
        expected, _ = noise_image(xs[i], cls.from_options({"std": 12}), rnd)
        assert ys[i].tobytes() == expected.tobytes(), i
