"""PyTorch adapters: a tensor transform and a Dataset wrapper, over :class:`noisecli.Augmenter`.

Importing this module imports torch; ``import noisecli`` never does.

- :class:`AddNoise` is a transform in the style of torchvision v2: one callable, tensor in,
  tensor out (``torch.nn.Module``, so it composes with ``nn.Sequential`` and
  ``transforms.v2.Compose``). A 3-D tensor is CHW and a 4-D one NCHW unless ``layout`` says
  otherwise; in a batch, sample ``i`` is noised under the key ``(*key, i)``.
- :class:`NoisyDataset` wraps a Dataset and returns ``(noisy, clean, *rest)`` (or
  ``(noisy, *rest)``), item ``i`` noised under the key ``(i, epoch)``: the same values whichever
  DataLoader worker loads it, with or without persistent workers.

Both are pure functions of the seed and the key, like the numpy API they call: a tensor gives
exactly what ``noisecli.add_noise`` gives for its numpy view with the same layout, seed and key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from noisecli.api.augment import Augmenter, Clip, Key

if TYPE_CHECKING:
    from noisecli.noise import Noise

__all__ = ["AddNoise", "NoisyDataset"]

# tensor dtypes with a numpy view (the numpy API takes or refuses them, with its messages);
# bfloat16, which numpy lacks, is noised in float32 and rounded back
_NUMPY_DTYPES = frozenset(
    getattr(torch, name)
    for name in (
        "bool",
        "uint8",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint16",  # uint16, uint32, uint64: torch 2.3 and later
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
    if hasattr(torch, name)
)
_VIA_FLOAT32 = frozenset({torch.bfloat16})
_TENSOR_LAYOUT = {3: "CHW", 4: "NCHW"}  # where the augmenter names no layout


class AddNoise(torch.nn.Module):
    """Noise a tensor: ``AddNoise("gaussian", std=0.1, seed=7)(image, key=(index, epoch))``.

    ``AddNoise(noise, *, seed, layout, clip, data_range, **params)`` takes the arguments of
    :class:`noisecli.Augmenter` (checked here, once); ``AddNoise(augmenter)`` wraps an
    existing one. Values are in the tensor's own units (``std=0.1`` on a float image in [0, 1]
    is 0.1, ``std=25`` on uint8 is 25 levels); integer tensors are clipped to their range,
    float tensors only when ``clip`` or ``data_range`` asks.

    Tensors: uint8, float16, float32, float64 (and the other integer types), and bfloat16,
    noised in float32 and rounded back. A tensor on another device is copied to the CPU,
    noised there and the result moved back to its device. The result is a new tensor with
    the input's shape, dtype, device and tensor subclass (torchvision's ``tv_tensors.Image``
    stays one), outside autograd; the input is never modified.
    Unless the transform (or the wrapped augmenter) names a ``layout``, a 3-D tensor is CHW
    and a 4-D one an NCHW batch, whose sample ``i`` is noised under the key ``(*key, i)``;
    other tensors follow the numpy API's rules (a 2-D integer tensor is an HxW image).

    ``key`` (an int or a tuple of ints such as ``(index, epoch)``) fixes the noise: the same
    seed and key give the same values on every machine and in every worker, exactly those of
    ``noisecli.add_noise`` on the tensor's numpy view with the same layout. Without a key
    each call draws fresh noise, as torchvision's random transforms do (not reproducible);
    :class:`NoisyDataset` passes ``(index, epoch)``.
    """

    def __init__(
        self,
        noise: str | Noise | Augmenter = "gaussian",
        *,
        seed: int | None = None,
        layout: str | None = None,
        clip: Clip = "auto",
        data_range: tuple[float, float] | None = None,
        **params: Any,
    ) -> None:
        super().__init__()
        if isinstance(noise, Augmenter):
            if seed is not None or layout is not None or clip != "auto" or data_range or params:
                raise TypeError("AddNoise(augmenter) takes no other arguments")
            self.augmenter = noise
        else:
            self.augmenter = Augmenter(
                noise, seed=seed, layout=layout, clip=clip, data_range=data_range, **params
            )
        self._layout = self.augmenter.layout
        self._by_layout: dict[str, Augmenter] = {}

    def extra_repr(self) -> str:
        return repr(self.augmenter)

    def forward(self, tensor: torch.Tensor, key: Key | None = None) -> torch.Tensor:
        """A noisy copy of ``tensor`` (same shape, dtype and device) under ``key``."""
        return self.noise_tensor(tensor, key)

    def noise_tensor(self, tensor: torch.Tensor, key: Key | None = None) -> torch.Tensor:
        """:meth:`forward` without the ``nn.Module`` call machinery (hooks)."""
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"AddNoise takes a torch.Tensor, got {type(tensor).__name__}")
        dtype = tensor.dtype
        if dtype not in _NUMPY_DTYPES and dtype not in _VIA_FLOAT32:
            raise TypeError(
                f"AddNoise takes tensors of integer or float dtypes and bfloat16, got {dtype}"
            )
        host = tensor.detach().to("cpu")  # the tensor itself when on the CPU: only read
        if dtype in _VIA_FLOAT32:
            host = host.to(torch.float32)
        array = host.resolve_conj().resolve_neg().numpy()
        result = torch.from_numpy(self.augmenter_for(array.ndim)(array, key=key))
        if result.dtype != dtype:
            result = result.to(dtype)
        kind = type(tensor)
        if kind is not torch.Tensor and kind is not torch.nn.Parameter:
            result = result.as_subclass(kind)  # e.g. torchvision's tv_tensors.Image stays one
        return result.to(tensor.device)

    def augmenter_for(self, ndim: int) -> Augmenter:
        """The augmenter that noises ``ndim``-dimensional tensors (its layout set for them)."""
        layout = self._layout or _TENSOR_LAYOUT.get(ndim)
        if layout is None or layout == self._layout:
            return self.augmenter
        aug = self._by_layout.get(layout)
        if aug is None:
            aug = self._by_layout[layout] = self.augmenter.with_layout(layout)
        return aug


class _SharedEpoch:
    """An int64 in shared memory: written by the main process, read by every worker.

    A DataLoader worker holds a copy of the dataset made when it started (by fork, or by
    pickling for spawn/forkserver); a persistent worker keeps that copy for every epoch. The
    epoch therefore lives in a one-element tensor in shared memory
    (``Tensor.share_memory_()``): fork maps the same pages into the worker, and torch's
    multiprocessing pickler hands spawned workers the same segment. Plain ``pickle`` and
    ``copy.deepcopy`` copy the value instead (the copy then has its own epoch).
    """

    __slots__ = ("_value",)

    def __init__(self, epoch: int = 0) -> None:
        self._value = _shared(torch.full((), epoch, dtype=torch.int64))

    def get(self) -> int:
        return int(self._value.item())

    def set(self, epoch: int) -> None:
        self._value.fill_(epoch)

    def __getstate__(self) -> torch.Tensor:
        return self._value

    def __setstate__(self, value: torch.Tensor) -> None:
        self._value = _shared(value)  # a worker's: the same segment; pickle's copy: its own


def _shared(value: torch.Tensor) -> torch.Tensor:
    """``value``, moved to shared memory if it is not there yet."""
    if not value.is_shared():  # type: ignore[no-untyped-call]
        value.share_memory_()  # type: ignore[no-untyped-call]
    return value


class NoisyDataset(torch.utils.data.Dataset[tuple[Any, ...]]):
    """Noisy items of ``dataset``: ``(noisy, clean, *rest)``, or ``(noisy, *rest)``.

    Item ``i`` of ``dataset`` is ``x`` or a tuple ``(x, *rest)`` (e.g. ``(image, target)``);
    ``x`` is noised under the key ``(i, epoch)`` by ``augmenter`` (a :class:`noisecli.Augmenter`
    or an :class:`AddNoise`) and the rest passed through. ``pairs=True`` (clean/noisy pairs,
    for denoising) returns ``(noisy, clean, *rest)``, ``pairs=False`` ``(noisy, *rest)``.
    A torch tensor comes back as a tensor (under :class:`AddNoise`'s rules: 3-D is CHW), a
    numpy array as an array (under the augmenter's own layout rules); ``clean`` is the item's
    ``x`` itself, untouched.

    The noise depends only on the seed, the index and the epoch, not on the DataLoader worker
    that loads the item, so every ``num_workers``, with or without ``persistent_workers``,
    gives the same batches. Call :meth:`set_epoch` before iterating the loader for an epoch
    (as with ``DistributedSampler.set_epoch``): the epoch is kept in shared memory, so the
    workers see it, also persistent ones started in an earlier epoch.
    """

    def __init__(self, dataset: Any, augmenter: Augmenter | AddNoise, pairs: bool = True) -> None:
        if isinstance(augmenter, AddNoise):
            self.transform = augmenter
        elif isinstance(augmenter, Augmenter):
            self.transform = AddNoise(augmenter)
        else:
            raise TypeError(
                "NoisyDataset takes a noisecli.Augmenter or a noisecli.torch.AddNoise, "
                f"got {type(augmenter).__name__}"
            )
        self.dataset = dataset
        self.pairs = pairs
        self._epoch = _SharedEpoch()

    @property
    def augmenter(self) -> Augmenter:
        return self.transform.augmenter

    @property
    def epoch(self) -> int:
        """The epoch whose noise items get (0 until :meth:`set_epoch`)."""
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Noise every item from now on for ``epoch``, in this process and in the workers."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)):
            raise TypeError(f"epoch must be an int, got {epoch!r}")
        self._epoch.set(int(epoch))

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        index = int(index)
        if index < 0:
            index += len(self)
        item = self.dataset[index]
        if isinstance(item, (tuple, list)):
            if not item:
                raise ValueError(f"item {index} of the dataset is empty")
            clean, rest = item[0], tuple(item[1:])
        else:
            clean, rest = item, ()
        key = (index, self.epoch)
        if isinstance(clean, torch.Tensor):
            noisy: Any = self.transform.noise_tensor(clean, key)
        elif isinstance(clean, np.ndarray):
            noisy = self.augmenter(clean, key=key)
        else:
            raise TypeError(
                f"item {index}: NoisyDataset noises torch tensors and numpy arrays, "
                f"got {type(clean).__name__}"
            )
        return (noisy, clean, *rest) if self.pairs else (noisy, *rest)
