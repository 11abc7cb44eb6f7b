"""AddNoise: a tensor transform giving exactly what noisecli.add_noise gives its numpy view."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import noisecli
from noisecli.errors import UsageError
from noisecli.torch import AddNoise
from tests.torch.helpers import images

SEED = 5


def chw(dtype: str = "uint8", count: int = 1) -> torch.Tensor:
    x = torch.from_numpy(images(count, dtype))
    return x[0] if count == 1 else x


@pytest.mark.parametrize(("dtype", "std"), [("uint8", 20), ("float32", 0.08), ("float64", 0.08)])
def test_chw_equals_add_noise_on_the_numpy_view(dtype: str, std: float) -> None:
    x = chw(dtype)
    before = x.clone()
    noisy = AddNoise("gaussian", std=std, seed=SEED)(x, key=(3, 1))
    expected = noisecli.add_noise(
        x.numpy(), "gaussian", std=std, seed=SEED, key=(3, 1), layout="CHW"
    )
    assert noisy.dtype == x.dtype and noisy.shape == x.shape and noisy.device == x.device
    assert np.array_equal(noisy.numpy(), expected)
    assert torch.equal(x, before)  # the input is untouched
    assert noisy.data_ptr() != x.data_ptr()
    assert not torch.equal(noisy, x)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_nchw_batch_keys_sample_i_as_key_i(dtype: str) -> None:
    batch = chw(dtype, count=4)
    before = batch.clone()
    std = 20 if dtype == "uint8" else 0.08
    noisy = AddNoise("gaussian", std=std, seed=SEED)(batch, key=7)
    assert noisy.shape == batch.shape and noisy.dtype == batch.dtype
    for i in range(4):
        expected = noisecli.add_noise(
            batch[i].numpy(), "gaussian", std=std, seed=SEED, key=(7, i), layout="CHW"
        )
        assert np.array_equal(noisy[i].numpy(), expected)
    whole = noisecli.add_noise(batch.numpy(), std=std, seed=SEED, key=7, layout="NCHW")
    assert np.array_equal(noisy.numpy(), whole)
    assert torch.equal(batch, before)
    # tuple keys extend the same way: (index, epoch) -> (index, epoch, i)
    noisy2 = AddNoise("gaussian", std=std, seed=SEED)(batch, key=(7, 2))
    expected = noisecli.add_noise(
        batch[1].numpy(), "gaussian", std=std, seed=SEED, key=(7, 2, 1), layout="CHW"
    )
    assert np.array_equal(noisy2[1].numpy(), expected)


def test_samples_of_a_batch_get_their_own_noise() -> None:
    batch = torch.zeros(6, 3, 16, 16)
    noisy = AddNoise("gaussian", std=0.1, seed=SEED)(batch)
    noises = {noisy[i].numpy().tobytes() for i in range(6)}
    assert len(noises) == 6


def test_explicit_layouts() -> None:
    hwc = torch.from_numpy(images(2).transpose(0, 2, 3, 1).copy())
    noisy = AddNoise("gaussian", std=20, seed=SEED, layout="NHWC")(hwc, key=1)
    for i in range(2):
        expected = noisecli.add_noise(
            hwc[i].numpy(), "gaussian", std=20, seed=SEED, key=(1, i), layout="HWC"
        )
        assert np.array_equal(noisy[i].numpy(), expected)
    gray = chw()[0]  # 2-D: an HxW image
    expected = noisecli.add_noise(gray.numpy(), "gaussian", std=20, seed=SEED, key=4)
    assert np.array_equal(AddNoise("gaussian", std=20, seed=SEED)(gray, key=4).numpy(), expected)


def test_same_key_same_noise_other_key_other_noise() -> None:
    x = chw("float32")
    t = AddNoise("gaussian", std=0.1, seed=SEED)
    assert torch.equal(t(x, key=1), t(x, key=1))
    assert not torch.equal(t(x, key=1), t(x, key=2))
    assert not torch.equal(t(x), t(x))  # no key: fresh noise on every call
    other_seed = AddNoise("gaussian", std=0.1, seed=SEED + 1)
    assert not torch.equal(t(x, key=1), other_seed(x, key=1))


def test_wrapping_an_augmenter_is_the_same_transform() -> None:
    x = chw(count=3)
    aug = noisecli.Augmenter("gaussian", std=15, seed=SEED)
    assert torch.equal(AddNoise(aug)(x, key=2), AddNoise("gaussian", std=15, seed=SEED)(x, key=2))
    with pytest.raises(TypeError, match="no other arguments"):
        AddNoise(aug, std=3)


def test_without_seed_one_seed_per_transform() -> None:
    x = chw("float32", count=2)
    t = AddNoise("gaussian", std=0.1)
    assert torch.equal(t(x, key=1), t(x, key=1))
    assert torch.equal(pickle.loads(pickle.dumps(t))(x, key=1), t(x, key=1))


def test_bfloat16_via_float32() -> None:
    x = chw("float32").to(torch.bfloat16)
    before = x.clone()
    noisy = AddNoise("gaussian", std=0.1, seed=SEED)(x, key=3)
    assert noisy.dtype == torch.bfloat16 and noisy.shape == x.shape
    expected = noisecli.add_noise(
        x.float().numpy(), "gaussian", std=0.1, seed=SEED, key=3, layout="CHW"
    )
    assert torch.equal(noisy, torch.from_numpy(expected).to(torch.bfloat16))
    assert torch.equal(x, before)


def test_float16() -> None:
    x = chw("float32").to(torch.float16)
    noisy = AddNoise("gaussian", std=0.1, seed=SEED)(x, key=3)
    assert noisy.dtype == torch.float16 and noisy.shape == x.shape
    expected = noisecli.add_noise(x.numpy(), "gaussian", std=0.1, seed=SEED, key=3, layout="CHW")
    assert np.array_equal(noisy.numpy(), expected)


def test_device_round_trip_and_autograd() -> None:
    x = chw("float32").requires_grad_(True)
    noisy = AddNoise("gaussian", std=0.1, seed=SEED)(x, key=1)
    assert noisy.device == x.device and not noisy.requires_grad
    cpu = torch.device("cpu")
    assert AddNoise("gaussian", std=0.1, seed=SEED)(x.to(cpu), key=1).device == cpu


class Image(torch.Tensor):
    """A tensor subclass, as torchvision's tv_tensors.Image is."""


def test_tensor_subclass_kept() -> None:
    x = chw().as_subclass(Image)
    noisy = AddNoise("gaussian", std=20, seed=SEED)(x, key=1)
    assert type(noisy) is Image
    assert torch.equal(
        noisy.as_subclass(torch.Tensor), AddNoise("gaussian", std=20, seed=SEED)(chw(), key=1)
    )
    weight = torch.nn.Parameter(torch.zeros(4, 4))
    assert type(AddNoise("gaussian", std=0.1, seed=SEED)(weight, key=1)) is torch.Tensor


def test_strided_views() -> None:
    hwc = torch.from_numpy(images(1)[0].transpose(1, 2, 0).copy())
    view = hwc.permute(2, 0, 1)  # a CHW view, not contiguous
    assert not view.is_contiguous()
    t = AddNoise("gaussian", std=20, seed=SEED)
    assert torch.equal(t(view, key=1), t(view.contiguous(), key=1))
    assert torch.equal(hwc.permute(2, 0, 1), view)


def test_module_composes_and_pickles() -> None:
    x = chw(count=2)
    t = AddNoise("gaussian", std=20, seed=SEED)
    seq = torch.nn.Sequential(t, torch.nn.Identity())
    out = seq(x)  # no key through Sequential: fresh noise, input's shape and dtype
    assert out.shape == x.shape and out.dtype == x.dtype and not torch.equal(out, x)
    assert torch.equal(t.noise_tensor(x, 3), t(x, key=3))
    assert list(t.state_dict()) == []
    assert torch.equal(pickle.loads(pickle.dumps(t))(x, key=3), t(x, key=3))
    assert "AddNoise" in repr(t)


def test_other_integer_types() -> None:
    x = torch.from_numpy(images(1)[0].astype(np.int16) - 128)
    noisy = AddNoise("gaussian", std=20, seed=SEED)(x, key=2)
    assert noisy.dtype == torch.int16
    expected = noisecli.add_noise(x.numpy(), std=20, seed=SEED, key=2, layout="CHW")
    assert np.array_equal(noisy.numpy(), expected)


def test_unsupported_input() -> None:
    t = AddNoise("gaussian", std=1, seed=SEED)
    with pytest.raises(TypeError, match="float8"):
        t(torch.zeros(3, 8, 8, dtype=torch.float8_e4m3fn))
    with pytest.raises(UsageError, match="bool"):
        t(torch.zeros(3, 8, 8, dtype=torch.bool))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        t(np.zeros((3, 8, 8), np.uint8))  # type: ignore[arg-type]


def test_noise_statistics() -> None:
    """σ and mean of the added noise within 4 standard errors, over 196608 values."""
    zeros = torch.zeros(4, 3, 128, 128)  # float: not clipped, so the noise is all there
    n = zeros.numel()
    noise = AddNoise("gaussian", std=0.1, seed=SEED)(zeros, key=9).double()
    assert abs(noise.mean().item()) < 4 * 0.1 / n**0.5
    assert abs(noise.std().item() - 0.1) < 4 * 0.1 / (2 * n) ** 0.5
    grey = torch.full((4, 3, 128, 128), 128, dtype=torch.uint8)
    noisy = AddNoise("gaussian", std=10, seed=SEED)(grey, key=9).double() - 128
    sigma = (100 + 1 / 12) ** 0.5  # rounding to integers adds 1/12 of a level squared
    assert abs(noisy.mean().item()) < 4 * sigma / n**0.5
    assert abs(noisy.std().item() - sigma) < 4 * sigma / (2 * n) ** 0.5


def test_import_noisecli_does_not_import_torch() -> None:
    code = (
        "import sys, numpy as np, noisecli\n"
        "noisecli.add_noise(np.zeros((4, 4), np.uint8), std=3, seed=1)\n"
        "noisecli.Augmenter(std=3, seed=1)(np.zeros((4, 4), np.uint8), key=1)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
