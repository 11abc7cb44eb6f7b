"""NoisyDataset: noise keyed by (index, epoch), the same whatever the DataLoader's workers."""

from __future__ import annotations

import copy
import pickle
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import noisecli
from noisecli.torch import AddNoise, NoisyDataset
from tests.torch.helpers import Images, NaiveNoisy, images, noise_of

COUNT = 23  # not a multiple of the batch size: the last batch is short
BATCH = 5
EPOCHS = (0, 1)
SEED = 11


def noisy_images(count: int = COUNT) -> NoisyDataset:
    return NoisyDataset(Images(count), noisecli.Augmenter("gaussian", std=25, seed=SEED))


def direct(ds: NoisyDataset, epochs: tuple[int, ...] = EPOCHS) -> dict[tuple[int, int], bytes]:
    """(index, epoch) -> the noisy image, item by item in this process (no DataLoader)."""
    out = {}
    for epoch in epochs:
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            noisy, _clean, index, _worker = ds[i]
            assert index == i
            out[i, epoch] = noisy.numpy().tobytes()
    return out


def through_loader(ds: Any, epochs: tuple[int, ...] = EPOCHS, **loader: Any) -> dict[str, Any]:
    """Run ``DataLoader(ds, **loader)`` for ``epochs``: the noisy image per (index, epoch), the
    workers that loaded the items, and the noise added per (index, epoch)."""
    dl = DataLoader(ds, batch_size=BATCH, **loader)
    noisy_by: dict[tuple[int, int], bytes] = {}
    noise_by: dict[tuple[int, int], bytes] = {}
    workers: dict[int, set[int]] = defaultdict(set)
    for epoch in epochs:
        ds.set_epoch(epoch)
        seen = 0
        for noisy, clean, index, worker in dl:
            assert noisy.dtype == torch.uint8 and noisy.shape[1:] == (3, 32, 32)
            for k, i in enumerate(index.tolist()):
                assert (i, epoch) not in noisy_by
                noisy_by[i, epoch] = noisy[k].numpy().tobytes()
                noise_by[i, epoch] = noise_of(noisy[k], clean[k])
                workers[epoch].add(int(worker[k]))
            seen += len(index)
        assert seen == len(ds)
    return {"noisy": noisy_by, "noise": noise_by, "workers": workers}


@pytest.fixture(scope="module")
def reference() -> dict[tuple[int, int], bytes]:
    return direct(noisy_images())


SETTINGS = [
    pytest.param(0, False, id="workers0"),
    pytest.param(2, False, id="workers2"),
    pytest.param(2, True, id="workers2-persistent"),
    pytest.param(4, False, id="workers4"),
    pytest.param(4, True, id="workers4-persistent"),
]


# more workers than this machine's cores is the point here, not a mistake
@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")
@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "shuffled"])
@pytest.mark.parametrize(("workers", "persistent"), SETTINGS)
def test_same_batches_whatever_the_workers(
    reference: dict[tuple[int, int], bytes], workers: int, persistent: bool, shuffle: bool
) -> None:
    generator = torch.Generator().manual_seed(3) if shuffle else None
    got = through_loader(
        noisy_images(),
        num_workers=workers,
        persistent_workers=persistent,
        shuffle=shuffle,
        generator=generator,
    )
    # per index and epoch, since shuffling reorders: exactly the values of a direct call
    assert got["noisy"] == reference
    if workers:
        for epoch in EPOCHS:  # the items really were spread over several workers
            assert len(got["workers"][epoch]) > 1
    # no two (index, epoch) share their noise: no worker repeats another, no epoch repeats
    assert len(set(got["noise"].values())) == len(got["noise"]) == COUNT * len(EPOCHS)


def test_shuffle_order_changes_nothing_but_the_order() -> None:
    a = through_loader(noisy_images(), shuffle=True, generator=torch.Generator().manual_seed(1))
    b = through_loader(noisy_images(), shuffle=True, generator=torch.Generator().manual_seed(2))
    assert a["noisy"] == b["noisy"]


def test_persistent_spawned_workers_follow_set_epoch(
    reference: dict[tuple[int, int], bytes],
) -> None:
    """A spawned worker gets the dataset by pickling: the epoch still reaches it. (One worker:
    each spawned process imports torch anew, which takes seconds.)"""
    got = through_loader(
        noisy_images(), num_workers=1, persistent_workers=True, multiprocessing_context="spawn"
    )
    assert got["noisy"] == reference


def test_the_check_catches_the_classic_bug() -> None:
    """A generator copied into every worker repeats its noise: the distinctness check sees it."""
    dl = DataLoader(NaiveNoisy(8), batch_size=1, num_workers=2)
    noises = [noise_of(noisy[0], clean[0]) for noisy, clean, _ in dl]
    assert len(set(noises)) < len(noises)


def test_noise_differs_across_samples_and_epochs(reference: dict[tuple[int, int], bytes]) -> None:
    ds = noisy_images()
    noises = set()
    for epoch in (0, 1, 2):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            noisy, clean, *_ = ds[i]
            noises.add(noise_of(noisy, clean))
    assert len(noises) == 3 * COUNT
    assert ds.epoch == 2


def test_item_is_the_augmenter_at_index_and_epoch() -> None:
    aug = noisecli.Augmenter("gaussian", std=25, seed=SEED, layout="CHW")
    ds = NoisyDataset(Images(4), aug)
    ds.set_epoch(5)
    for i in range(4):
        noisy, clean, _index, _ = ds[i]
        assert np.array_equal(noisy.numpy(), aug(clean.numpy(), key=(i, 5)))
        assert np.array_equal(
            noisy.numpy(),
            noisecli.add_noise(
                clean.numpy(), "gaussian", std=25, seed=SEED, key=(i, 5), layout="CHW"
            ),
        )
    assert np.array_equal(ds[-1][0].numpy(), ds[3][0].numpy())


def test_an_augmenter_without_layout_treats_tensors_as_chw() -> None:
    base = Images(3)
    with_layout = NoisyDataset(base, noisecli.Augmenter("gaussian", std=9, seed=1, layout="CHW"))
    without = NoisyDataset(base, noisecli.Augmenter("gaussian", std=9, seed=1))
    transform = NoisyDataset(base, AddNoise("gaussian", std=9, seed=1))
    for i in range(3):
        expected = with_layout[i][0]
        assert torch.equal(without[i][0], expected)
        assert torch.equal(transform[i][0], expected)


def test_pairs_and_rest() -> None:
    aug = noisecli.Augmenter("gaussian", std=0.1, seed=2, layout="CHW")
    x = torch.from_numpy(images(6, "float32"))
    labels = torch.arange(6)
    pairs = NoisyDataset(TensorDataset(x, labels), aug)
    single = NoisyDataset(TensorDataset(x, labels), aug, pairs=False)
    bare = NoisyDataset(list(x), aug)
    bare_single = NoisyDataset(list(x), aug, pairs=False)
    noisy, clean, label = pairs[4]
    assert torch.equal(clean, x[4]) and int(label) == 4
    assert noisy.dtype == torch.float32 and noisy.shape == (3, 32, 32)
    assert not torch.equal(noisy, clean)
    assert len(single[4]) == 2 and torch.equal(single[4][0], noisy) and int(single[4][1]) == 4
    assert len(bare[4]) == 2 and torch.equal(bare[4][0], noisy) and torch.equal(bare[4][1], x[4])
    assert len(bare_single[4]) == 1 and torch.equal(bare_single[4][0], noisy)
    assert len(pairs) == 6


def test_numpy_items_stay_numpy() -> None:
    hwc = images(4).transpose(0, 2, 3, 1).copy()  # HxWxC, numpy's usual image layout
    aug = noisecli.Augmenter("gaussian", std=20, seed=4)
    ds = NoisyDataset([(img, i) for i, img in enumerate(hwc)], aug)
    before = hwc.copy()
    noisy, clean, label = ds[2]
    assert isinstance(noisy, np.ndarray) and noisy.dtype == np.uint8 and noisy.shape == (32, 32, 3)
    assert clean is ds.dataset[2][0] and label == 2
    assert np.array_equal(noisy, aug(hwc[2], key=(2, 0)))
    assert np.array_equal(hwc, before)


def test_items_untouched_and_loader_collates_numpy() -> None:
    hwc = images(7).transpose(0, 2, 3, 1).copy()
    before = hwc.copy()
    ds = NoisyDataset(list(hwc), noisecli.Augmenter("gaussian", std=20, seed=4))
    batches = list(DataLoader(ds, batch_size=3))
    assert [b[0].shape[0] for b in batches] == [3, 3, 1]
    assert np.array_equal(hwc, before)


def test_pickled_copy_has_the_same_items_and_its_own_epoch() -> None:
    ds = noisy_images(3)
    ds.set_epoch(1)
    twin = pickle.loads(pickle.dumps(ds))
    clone = copy.deepcopy(ds)
    assert twin.epoch == clone.epoch == 1
    assert torch.equal(twin[2][0], ds[2][0]) and torch.equal(clone[2][0], ds[2][0])
    twin.set_epoch(2)
    assert ds.epoch == 1 and twin.epoch == 2 and clone.epoch == 1


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="Augmenter"):
        NoisyDataset(Images(2), "gaussian")  # type: ignore[arg-type]
    ds = noisy_images(2)
    with pytest.raises(TypeError, match="epoch"):
        ds.set_epoch(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tensors and numpy arrays"):
        NoisyDataset([("text", 0)], noisecli.Augmenter(seed=1))[0]
