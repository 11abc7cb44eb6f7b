"""PyTorch adapters over :class:`noisecli.Augmenter`: a tensor transform.

Importing this module imports torch; ``import noisecli`` never does.

- :class:`AddNoise` is a transform in the style of torchvision v2: one callable, tensor in,
  tensor out (``torch.nn.Module``, so it composes with ``nn.Sequential`` and
  ``transforms.v2.Compose``). A 3-D tensor is CHW and a 4-D one NCHW unless ``layout`` says
  otherwise; in a batch, sample ``i`` is noised under the key ``(*key, i)``.

It is a pure function of the seed and the key, like the numpy API it calls: a tensor gives
exactly what ``noisecli.add_noise`` gives for its numpy view with the same layout, seed and key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from noisecli.api.augment import Augmenter, Clip, Key

if TYPE_CHECKING:
    from noisecli.noise import Noise

__all__ = ["AddNoise"]

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


def _arguments(aug: Augmenter) -> tuple[Any, str | None, Any, Any, int | None, dict[str, Any]]:
    """``(noise, layout, clip, data_range, sample_rate, params)`` that made ``aug``."""
    noise, _given, clip, data_range, sample_rate, params = aug._spec.args
    return noise, aug._spec.layout, clip, data_range, sample_rate, dict(params)


def _with_layout(aug: Augmenter, layout: str) -> Augmenter:
    """``aug`` with another layout: the same noise, options and seed."""
    noise, _, clip, data_range, sample_rate, params = _arguments(aug)
    return Augmenter(
        noise,
        seed=aug.seed,
        layout=layout,
        clip=clip,
        data_range=data_range,
        sample_rate=sample_rate,
        **params,
    )


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
    each call draws fresh noise, as torchvision's random transforms do (not reproducible).
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
        self._layout = _arguments(self.augmenter)[1]
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
            aug = self._by_layout[layout] = _with_layout(self.augmenter, layout)
        return aug
