"""The tutorial of the training-loop issue, as tests: tables, images, batches, speech, weights."""

from __future__ import annotations

import numpy as np
import pytest

from noisecli import Augmenter, add_noise
from noisecli.errors import InputError, UsageError
from tests.api.helpers import se_std


def test_tabular_float64_sigma_half_not_clipped() -> None:
    x = np.random.default_rng(0).random((1000, 64))  # float64 in [0, 1)
    y = add_noise(x, std=0.5, seed=1)
    assert y.dtype == np.float64 and y.shape == x.shape
    assert y.min() < -1 and y.max() > 2  # not clipped to anything
    assert abs((y - x).std() - 0.5) < 5 * se_std(0.5, x.size)


def test_images_in_unit_range_sigma_tenth_clipped() -> None:
    img = np.random.default_rng(0).random((224, 224, 3), dtype=np.float32)
    y = add_noise(img, std=0.1, data_range=(0, 1), seed=1)
    assert y.dtype == np.float32 and y.min() >= 0 and y.max() <= 1
    inside = (y > 0) & (y < 1)
    assert abs((y - img)[inside].std() - 0.1) < 0.005  # clipped tails excluded: slightly less


def test_speech_sigma_tenth() -> None:
    speech = (0.3 * np.sin(np.arange(48000) / 7.0)).astype(np.float32)
    y = add_noise(speech, std=0.1, seed=1)
    assert y.shape == speech.shape and y.dtype == np.float32
    assert abs((y - speech).std() - 0.1) < 5 * se_std(0.1, speech.size)
    loud = np.full(10000, 0.99, np.float32)
    assert add_noise(loud, std=0.1, seed=1).max() > 1  # audio with std: not clipped unless asked
    assert add_noise(loud, std=0.1, seed=1, clip=(-1, 1)).max() == 1


@pytest.mark.parametrize("noise", ["white", "pink", "brown"])
def test_speech_with_an_audio_colour_at_a_plain_std(noise: str) -> None:
    speech = np.zeros((200_000, 2), np.float32)
    y = add_noise(speech, noise, std=0.1, seed=2)
    assert y.shape == speech.shape
    tol = 5 * se_std(0.1, y.size) if noise == "white" else 0.01  # coloured: correlated values
    assert abs(y.std() - 0.1) < tol
    assert not np.array_equal(y[:, 0], y[:, 1])
    mono = add_noise(speech, noise, std=0.1, seed=2, mono=True)
    assert np.array_equal(mono[:, 0], mono[:, 1])
    assert np.array_equal(add_noise(speech, noise, std=0.1, seed=2, chunk=777), y)
    assert Augmenter(noise, std="0.05:0.2", seed=3).draw(speech[:100], key=1).params["colour"] == (
        noise
    )


def test_white_std_on_int16_audio_is_in_steps() -> None:
    x = np.zeros((100_000, 2), np.int16)
    y = add_noise(x, "white", std=300, seed=1)
    assert abs(y.astype(np.float64).std() - 300) < 5 * se_std(300, y.size) + 0.01
    with pytest.raises(UsageError, match=r"takes audio samples \(frames,\)"):
        add_noise(np.zeros((4, 4, 4), np.float32), "white", std=0.1, seed=1)


def test_the_exact_snr_path_is_todays_and_takes_keys() -> None:
    from noisecli.audio.mix import noise_samples
    from noisecli.noise import Pink

    x = (0.3 * np.sin(np.arange(16000) / 5.0)).astype(np.float32)
    today = noise_samples(x, Pink(), sample_rate=16000, seed=1, snr=10)
    assert np.array_equal(add_noise(x, "pink", snr=10, sample_rate=16000, seed=1), today)
    other = add_noise(x, "pink", snr=10, sample_rate=16000, seed=1, key=(3, 1))
    assert not np.array_equal(other, today)
    aug = Augmenter("pink", snr="5:15", sample_rate=16000, seed=1)
    assert np.array_equal(aug(x, key=(3, 1)), aug(x, key=(3, 1)))
    noised = aug.draw(x, key=2)
    assert 5 <= noised.params["snr_db"] <= 15
    batch = np.stack([x, x * 0.5])
    ys = aug.batch(batch, [(0, 0), (1, 0)])
    assert np.array_equal(ys[1], aug(batch[1], key=(1, 0)))
    bad = x.copy()
    bad[10] = np.nan
    with pytest.raises(InputError, match="NaN"):  # as for files
        aug(bad, key=1)


def test_nhwc_and_nchw_batches() -> None:
    rng = np.random.default_rng(0)
    nhwc = rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    aug = Augmenter(std=8, seed=5, layout="NHWC")
    ys = aug(nhwc, key=(7,))  # epoch 7: sample i has the key (7, i)
    assert ys.shape == nhwc.shape
    assert np.array_equal(ys[3], Augmenter(std=8, seed=5)(nhwc[3], key=(7, 3)))
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2)).astype(np.float32) / 255
    yc = add_noise(nchw, std=0.05, layout="NCHW", data_range=(0, 1), seed=5, key=7)
    assert yc.shape == nchw.shape and yc.min() >= 0 and yc.max() <= 1
    yh = add_noise(
        np.ascontiguousarray(nchw.transpose(0, 2, 3, 1)),
        std=0.05,
        layout="NHWC",
        data_range=(0, 1),
        seed=5,
        key=7,
    )
    assert np.array_equal(yc, yh.transpose(0, 3, 1, 2))  # CHW noise is its HWC transpose


def test_standardized_images_not_clipped() -> None:
    mean, std = np.float32(0.45), np.float32(0.22)
    img = np.random.default_rng(0).random((8, 3, 32, 32), dtype=np.float32)
    x = (img - mean) / std
    y = add_noise(x, std=0.2, layout="NCHW", seed=1)
    assert np.array_equal(y, add_noise(x, std=0.2, layout="NCHW", seed=1, clip=None))
    assert y.max() > x.max()


def test_weights_noise_on_a_list_of_arrays_in_a_loop() -> None:
    rng = np.random.default_rng(0)
    weights = [
        rng.normal(0, 0.05, shape).astype(np.float32) for shape in [(64, 3), (10,), (3, 3, 8, 8)]
    ]
    aug = Augmenter(std=0.01, seed=42)
    noisy = [aug(w, key=(step, i)) for step in (0,) for i, w in enumerate(weights)]
    again = [aug(w, key=(0, i)) for i, w in enumerate(weights)]
    for w, n, a in zip(weights, noisy, again, strict=True):
        assert n.shape == w.shape and n.dtype == w.dtype and np.array_equal(n, a)
        assert 0.005 < (n - w).std() < 0.02
    assert not np.array_equal(aug(weights[1], key=(1, 1)), noisy[1])  # the next step differs
