"""Noise in the training loop: :class:`Augmenter`, reusable on any numeric array or batch.

>>> import numpy as np
>>> from noisecli import Augmenter
>>> aug = Augmenter("gaussian", std=0.1, seed=7, data_range=(0, 1))
>>> img = np.full((32, 32, 3), 0.5, np.float32)
>>> y = aug(img, key=(3, 0))                  # sample 3 of epoch 0: always the same noise
>>> bool(np.array_equal(y, aug(img, key=(3, 0))))
True
>>> batch = np.stack([img] * 8)
>>> ys = aug.batch(batch, keys=[(i, 0) for i in range(8)])
>>> bool(np.array_equal(ys[3], y))            # a batch is its samples, noised one by one
True
>>> aug.draw(img, key=1).params["std"]        # the parameters drawn, for logging
0.1

The rules, for arrays (files keep the command line's 8-bit levels):

- **Units.** Level parameters (gaussian ``std`` and ``mean``, uniform ``std``) are in the
  array's own units: ``std=0.1`` on float data adds σ = 0.1, on integer data σ = 0.1 steps of
  the dtype. ``"10%"`` is a percentage of the data range: ``data_range=(lo, hi)`` if given,
  else the integer dtype's range (uint8: 255, int16: 65535); float data need ``data_range``.
  Noises defined on intensities in ``[0, 1]`` (``poisson``, ``sensor``) and the values
  ``salt-pepper`` writes use the same data range. ``speckle`` is a fraction, unitless.
- **Implausible values are errors.** A level larger than the whole data range (``data_range``,
  the integer dtype's range, or for float data without ``data_range``: ``[0, 1]`` or
  ``[-1, 1]`` when all values lie there), a nonzero ``std`` under 0.25 steps on integer data
  (it would change almost nothing), data far outside the ``data_range`` given: each a
  :class:`~noisecli.errors.UsageError` saying what to write instead.
- **Clipping.** ``clip="auto"``: integer dtypes clip to ``data_range`` if given, else to
  their range (always: they must); float data are clipped to ``data_range`` when it is given
  and left unclipped otherwise (standardized data are never clipped silently). ``clip=None``
  clips nothing a dtype does not force; ``clip=(lo, hi)`` clips there. float16 always stays
  within its finite range.
- **Arithmetic.** The noise is float32, added in float32 for data of at most 24 significant
  bits (uint8, int8, uint16, int16, float16, float32) and in float64 for float64, int32,
  uint32, int64 and uint64 (beyond 2**53, int64 values are rounded to float64's grid).
  The result has the input's dtype and shape, and is a new array unless ``out=`` is given.
- **Layouts.** ``"HWC"``, ``"CHW"`` (an image; with 2 or 4 channels the last is alpha and is
  copied untouched), ``"NHWC"``, ``"NCHW"`` (batches of those), ``"N..."`` (axis 0 is the
  batch, samples of any shape) and ``"..."`` (one sample of any shape). ``None``: integer
  2-D arrays and 3-D arrays with at most 4 on the last axis are ``"HWC"``, anything else
  ``"..."``. Channels matter only for ``mono``, ``per_pixel``, ``sensor`` and alpha. A CHW
  image gets the noise of its HWC transpose (value ``j`` is the ``j``-th value in HWC order).
- **Keys.** Sample randomness is ``output_random(seed, sample_key(key))``: an int or a tuple
  of ints, e.g. ``(index, epoch)``. Sample ``i`` of a batch layout has the key
  ``(*key, i)``; :meth:`Augmenter.batch` takes one key per sample. Without a key, fresh
  entropy (:mod:`secrets`) is used: not reproducible.
"""

from __future__ import annotations

import math
import operator
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any, ClassVar

import numpy as np

from noisecli.errors import UsageError
from noisecli.image.engine import ChunkNoiser, noise_rows
from noisecli.noise import Noise, get_noise, resolve_noise
from noisecli.noise.base import MediaInfo, Param, Prepared, Span, level_param
from noisecli.noise.level import Level
from noisecli.noise.stream import AudioNoise, NoiseStream
from noisecli.noise.units import LEVEL_METAVAR, FusedKernel, level_unit_name, to_native
from noisecli.rng.keys import (
    OutputRandom,
    SampleRandom,
    check_key_part,
    sample_key_bytes,
)

LAYOUTS = ("HWC", "CHW", "NHWC", "NCHW", "N...", "...")
SAMPLE_LAYOUT = {"NHWC": "HWC", "NCHW": "CHW", "N...": "...", "HWC": "HWC", "CHW": "CHW"}
AUDIO_OPTIONS = ("snr", "level", "on_clip", "no_clip")  # = noisecli.audio.mix.AUDIO_OPTION_NAMES
CHUNK_VALUES = 1 << 16  # values per band on the paths that copy (cache-sized)
MIN_STEPS = 0.25  # a nonzero std below this many integer steps changes almost nothing
SEED_LIMIT = 1 << 128

Key = int | tuple[int, ...]
Clip = str | tuple[float, float] | None
_ZERO = Span()
_FLOAT16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True)
class Noised:
    """A noisy array and the parameters drawn for it (JSON-able, for logging).

    For a batch layout ``params`` is ``{"samples": [params of sample 0, ...]}``.
    """

    array: np.ndarray
    params: dict[str, Any]


@dataclass(frozen=True)
class ScaledStream(Noise):
    """``y = x + std·n``: an audio noise's unit-variance stream ``n`` (white, pink, brown,
    blue, violet) at a plain scale, for arrays without a ``sample_rate``.

    Samples are ``(frames,)`` or ``(frames, channels)``; ``std`` is in the array's own units
    or a percentage of the data range, like gaussian's.
    """

    name: ClassVar[str] = "stream"
    summary: ClassVar[str] = "an audio noise's stream at a plain standard deviation"
    cli_params: ClassVar[tuple[Param, ...]] = (
        level_param("std", "standard deviation in the array's units, LOW:HIGH or N%"),
    )

    inner: AudioNoise
    std: Level

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        std = self.std.draw(rnd.draws)
        inner = self.inner.prepare(info, rnd)
        params: dict[str, Any] = {
            **inner.params,
            "std": round(std, 9),
            "unit": level_unit_name(info, self.std.percent),
        }
        return Prepared(params, (to_native(std, self.std.percent, info), inner.state))

    def apply(
        self, chunk: np.ndarray, span: Span, info: MediaInfo, prepared: Prepared
    ) -> np.ndarray:
        sigma, stream = prepared.state
        assert isinstance(stream, NoiseStream)
        n = stream.read(chunk.shape[0])
        chunk += (n * sigma).reshape(chunk.shape)
        return chunk

    def describe(self) -> str:
        return f"{self.inner.describe()[:-1]}, std={self.std})".replace("(, ", "(")


# ---------------------------------------------------------------------------------------------
# validation of the constructor's arguments


def check_seed(seed: object) -> int:
    """A seed in ``[0, 2**128)`` (a Python or numpy integer, not a bool)."""
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise UsageError(f"seed must be an integer in [0, 2**128), got {seed!r}")
    value = operator.index(seed)
    if not 0 <= value < SEED_LIMIT:
        raise UsageError(f"seed must be an integer in [0, 2**128), got {value}")
    return value


def _pair(value: object, name: str, allow_inf: bool) -> tuple[float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise UsageError(f"{name} must be a pair (lo, hi), got {value!r}")
    items = list(value)
    if len(items) != 2 or any(isinstance(v, bool) for v in items):
        raise UsageError(f"{name} must be a pair of numbers (lo, hi), got {value!r}")
    try:
        lo, hi = (float(v) for v in items)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a pair of numbers (lo, hi), got {value!r}") from None
    ok = (lambda v: not math.isnan(v)) if allow_inf else math.isfinite
    if not (ok(lo) and ok(hi)) or not lo < hi:
        raise UsageError(
            f"{name} must be two {'' if allow_inf else 'finite '}numbers lo < hi, got {value!r}"
        )
    return lo, hi


def check_layout(layout: object) -> str | None:
    if layout is None:
        return None
    if not isinstance(layout, str) or layout.upper() not in LAYOUTS:
        raise UsageError(f"layout must be None or one of {', '.join(LAYOUTS)}, got {layout!r}")
    return layout.upper()


def _plain_levels(noise: Noise) -> list[tuple[str, Level]]:
    """The level parameters (array units) of a noise and of a recipe's steps, not percent."""
    found: list[tuple[str, Level]] = []
    levels = {p.name for p in noise.cli_params if p.metavar == LEVEL_METAVAR}
    skipped = noise.overridden()
    for f in dataclass_fields(noise):  # type: ignore[arg-type]
        value = getattr(noise, f.name, None)
        plain = isinstance(value, Level) and not value.percent
        if plain and f.name in levels and f.name not in skipped:
            assert isinstance(value, Level)
            found.append((f.name, value))
    steps = getattr(noise, "noises", None)
    if callable(steps):
        for _, step in steps():
            found += _plain_levels(step)
    return found


def _advice(name: str, level: Level, lo: float, hi: float) -> str:
    """What to write for a level meant as 8-bit levels of the range ``[lo, hi]``."""
    f = (hi - lo) / 255.0
    if level.is_range:
        given = f"{level.lo:g}:{level.hi:g}"
        exact = f"'{level.lo * f:.3g}:{level.hi * f:.3g}'"
        percent = f"'{level.lo / 2.55:.3g}%:{level.hi / 2.55:.3g}%'"
    else:
        given = f"{level.lo:g}"
        expr = f"{given}/255" if hi - lo == 1 else f"{given}/255*{hi - lo:g}"
        exact = f"{expr} ≈ {level.lo * f:.3g}"
        percent = f"'{level.lo / 2.55:.3g}%'"
    return (
        f"for {given} of 255 levels write {name}={exact} (or {name}={percent} with "
        f"data_range=({lo:g}, {hi:g}))"
    )


# ---------------------------------------------------------------------------------------------
# per dtype and sample shape


@dataclass(frozen=True)
class _Dtype:
    dtype: np.dtype[Any]
    integer: bool
    forced: tuple[float, float]  # bounds the dtype itself forces (float64-safe)
    full: tuple[float, float] | None  # the integer dtype's range


_DTYPES: dict[np.dtype[Any], _Dtype] = {}


def _dtype_rules(dtype: np.dtype[Any]) -> _Dtype:
    rules = _DTYPES.get(dtype)
    if rules is not None:
        return rules
    if dtype.kind in "ui" and dtype.itemsize <= 8:
        info = np.iinfo(dtype)
        lo, hi = float(info.min), float(info.max)
        safe_hi = hi if hi < 2.0**53 else float(np.nextafter(hi, 0.0))  # below 2**63, 2**64
        rules = _Dtype(dtype, True, (lo, safe_hi), (lo, hi))
    elif dtype.kind == "f" and dtype.itemsize in (2, 4, 8):
        bound = _FLOAT16_MAX if dtype.itemsize == 2 else math.inf
        rules = _Dtype(dtype, False, (-bound, bound), None)
    elif dtype.kind == "b":
        raise UsageError("bool arrays cannot take noise: convert them to a numeric dtype first")
    elif dtype.kind == "c":
        raise UsageError(
            f"complex arrays ({dtype}) are not supported: noise the real and imaginary parts "
            "(x.real, x.imag) separately"
        )
    else:
        raise UsageError(f"arrays of dtype {dtype} cannot take noise: use a numeric dtype")
    _DTYPES[dtype] = rules
    return rules


@dataclass
class _Plan:
    """How one sample shape and dtype is noised: its MediaInfo, views and chunking."""

    info: MediaInfo
    view: Callable[[np.ndarray], np.ndarray]  # sample -> (rows, width, channels) colour view
    chunk_rows: int
    direct: bool  # the view of a C-contiguous sample is C-contiguous
    template: tuple[Prepared, FusedKernel] | None = None  # no parameter drawn: one prepare
    templated: bool = False  # the template was looked for


def _hwc_view(channels: int | None) -> Callable[[np.ndarray], np.ndarray]:
    if channels is None:
        return lambda s: s[:, :, np.newaxis]
    return lambda s: s[:, :, :channels]


def _chw_view(channels: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda s: s.transpose(1, 2, 0)[:, :, :channels]


def _flat_view(s: np.ndarray) -> np.ndarray:
    return s.reshape(-1, 1, 1)


def _frames_view(s: np.ndarray) -> np.ndarray:
    return s.reshape(s.shape[0], 1, -1)


def _colour(channels: int) -> int:
    return channels - 1 if channels in (2, 4) else channels


# ---------------------------------------------------------------------------------------------


class _Spec:
    """An Augmenter apart from its seed: the validated noise and options, and per-shape plans.

    Everything here depends on the arguments only, so ``add_noise`` reuses specs (by their
    arguments) across calls with different seeds.
    """

    def __init__(
        self,
        noise: str | Noise,
        layout: str | None,
        clip: Clip,
        data_range: tuple[float, float] | None,
        sample_rate: int | None,
        params: dict[str, Any],
    ) -> None:
        self.args = (noise, layout, clip, data_range, sample_rate, params)
        self.layout = check_layout(layout)
        self.data_range = None if data_range is None else _pair(data_range, "data_range", False)
        if clip is None or (isinstance(clip, bool) and not clip):
            self.clip: tuple[float, float] | str | None = None
        elif isinstance(clip, str):
            if clip != "auto":
                raise UsageError(f'clip must be "auto", None or a pair (lo, hi), got {clip!r}')
            self.clip = "auto"
        else:
            self.clip = _pair(clip, "clip", True)
        self.sample_rate: int | None = None
        self.options: Any = None
        if sample_rate is not None:
            self._audio_setup(noise, sample_rate, params)
        else:
            self.noise = self._resolve(noise, params)
        self.levels = _plain_levels(self.noise)
        if self.data_range is not None:
            self._check_levels(*self.data_range, "the data_range")
        self.plans: dict[tuple[Any, ...], _Plan] = {}

    # -- construction ---------------------------------------------------------------------

    def _audio_setup(self, noise: str | Noise, sample_rate: int, params: dict[str, Any]) -> None:
        from noisecli.config import AudioOptions

        if isinstance(sample_rate, bool) or not hasattr(sample_rate, "__index__"):
            raise UsageError(f"sample_rate must be a whole number of Hz, got {sample_rate!r}")
        rate = operator.index(sample_rate)
        if rate < 1:
            raise UsageError(f"sample_rate must be a positive number of Hz, got {rate}")
        if self.clip != "auto" or self.data_range is not None:
            raise UsageError(
                "with sample_rate (the exact SNR/dBFS path) clipping follows the audio "
                "format: use on_clip= or no_clip=True instead of clip= and data_range="
            )
        if self.layout not in (None, "...", "N..."):
            raise UsageError(
                f'audio samples take layout None, "..." or "N...", not {self.layout!r}'
            )
        params = dict(params)
        options = {k: params.pop(k) for k in AUDIO_OPTIONS if k in params}
        self.noise = resolve_noise(noise, "audio", params)
        self.options = AudioOptions.from_values(**options)
        self.sample_rate = rate

    def _resolve(self, noise: str | Noise, params: dict[str, Any]) -> Noise:
        given = [k for k in AUDIO_OPTIONS if k in params]
        if given:
            raise UsageError(
                f"{given[0]}= applies to audio with sample_rate= (the exact SNR/dBFS path); "
                "without a sample rate give std= in the array's units"
            )
        inner: Noise
        if isinstance(noise, str):
            cls = get_noise(noise)
            if "image" in cls.media:
                return cls.from_options(params)
            params = dict(params)
            std = params.pop("std", None)
            if std is None:
                raise UsageError(
                    f"noise {cls.name!r} is for audio: pass sample_rate= with snr= or level=, "
                    "or std= for its stream at a plain scale"
                )
            inner = cls.from_options(params)
        elif isinstance(noise, Noise):
            if not isinstance(noise, AudioNoise):
                return resolve_noise(noise, "image", params)
            params = dict(params)
            std = params.pop("std", None)
            if std is None or params:
                raise UsageError(
                    f"noise {noise.name!r} is for audio: pass sample_rate= with snr= or "
                    "level=, or only std= for its stream at a plain scale"
                )
            inner = noise
        else:
            raise UsageError(f"noise must be a noise name or a Noise instance, got {noise!r}")
        if not isinstance(inner, AudioNoise) or inner.name == "background":
            raise UsageError(f"noise {inner.name!r} needs sample_rate= and snr= or level=")
        spec = ScaledStream.cli_params[0]
        if isinstance(std, bool) or not isinstance(std, str | int | float | Level):
            raise UsageError(f"std must be a number or text such as '0.05:0.2', got {std!r}")
        level = (
            std
            if isinstance(std, Level)
            else spec.parse(std if isinstance(std, str) else repr(float(std)), "std")
        )
        return ScaledStream(inner, level)

    # -- checks -----------------------------------------------------------------------------

    def _check_levels(self, lo: float, hi: float, what: str) -> None:
        """A level larger than the whole data range is a unit mistake."""
        for name, level in self.levels:
            if max(abs(level.lo), abs(level.hi)) > hi - lo:
                raise UsageError(
                    f"{name}={level} is in the array's own units, but {what} is "
                    f"[{lo:g}, {hi:g}], narrower than that: {_advice(name, level, lo, hi)}; "
                    "if the data's scale really is larger, pass data_range=(lo, hi)"
                )

    def _check_dtype_levels(self, dtype: np.dtype[Any], lo: float, hi: float) -> None:
        for name, level in self.levels:
            if max(abs(level.lo), abs(level.hi)) > hi - lo:
                raise UsageError(
                    f"{name}={level} is more than the whole range of {dtype} ({lo:g}..{hi:g}): "
                    f"on integer arrays {name} is in steps of the dtype; give at most "
                    f"{hi - lo:g}, or a percentage of the range such as {name}='10%'"
                )

    def _check_steps(self, dtype: np.dtype[Any], width: float) -> None:
        for name, level in self.levels:
            if name == "std" and 0 < level.hi < MIN_STEPS:
                frac = level.hi
                raise UsageError(
                    f"{name}={level} is in {dtype} steps (the array's own units), where it "
                    f"changes almost nothing: for {frac:g} of the range write "
                    f"{name}={frac * width:.4g} or {name}='{frac * 100:g}%'"
                )

    def check_values(self, x: np.ndarray, rules: _Dtype) -> None:
        """NaN/inf, the values against ``data_range``, and the levels against the data."""
        if not rules.integer:
            lo_v, hi_v = float(np.min(x)), float(np.max(x))
            if not (math.isfinite(lo_v) and math.isfinite(hi_v)):
                bad = ~np.isfinite(x)
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise UsageError(
                    f"the array has {int(np.count_nonzero(bad))} NaN or infinite values (the "
                    f"first at index {where}): noise needs finite data"
                )
        elif self.data_range is not None:
            lo_v, hi_v = float(np.min(x)), float(np.max(x))
        else:
            return
        if self.data_range is not None:
            lo, hi = self.data_range
            width = hi - lo
            if lo_v < lo - width or hi_v > hi + width:
                raise UsageError(
                    f"the data lie in [{lo_v:g}, {hi_v:g}], far outside data_range=({lo:g}, "
                    f"{hi:g}): give the range the data are on"
                )
            return
        if not self.levels:
            return
        if lo_v >= 0.0 and hi_v <= 1.0:
            self._check_levels(0.0, 1.0, "the data's range")
        elif lo_v >= -1.0 and hi_v <= 1.0:
            self._check_levels(-1.0, 1.0, "the data's range")

    # -- plans ------------------------------------------------------------------------------

    def sample_layout(self, arr: np.ndarray, batched: bool) -> str:
        """The layout of one sample of ``arr`` (a batch along axis 0 if ``batched``)."""
        layout = self.layout
        if isinstance(self.noise, ScaledStream):
            return "..."
        if layout is None:
            ndim = arr.ndim - batched
            shape = arr.shape[batched:]
            image = arr.dtype.kind in "ui" and (ndim == 2 or (ndim == 3 and shape[-1] <= 4))
            return "HWC" if image and self.sample_rate is None else "..."
        return SAMPLE_LAYOUT.get(layout, "...")

    def plan(self, rules: _Dtype, shape: tuple[int, ...], layout: str, chunk: int | None) -> _Plan:
        key = (rules.dtype, shape, layout, chunk)
        plan = self.plans.get(key)
        if plan is None:
            plan = self._make_plan(rules, shape, layout, chunk)
            if len(self.plans) > 64:
                self.plans.clear()
            self.plans[key] = plan
        return plan

    def _bounds(self, rules: _Dtype) -> tuple[float, float]:
        f_lo, f_hi = rules.forced
        if self.clip is None:
            lo, hi = f_lo, f_hi
        elif self.clip == "auto":
            lo, hi = self.data_range or rules.full or (f_lo, f_hi)
        else:
            assert isinstance(self.clip, tuple)
            lo, hi = self.clip
        lo, hi = max(lo, f_lo), min(hi, f_hi)
        if rules.integer:
            lo, hi = float(math.ceil(lo)), float(math.floor(hi))
        if not lo <= hi:
            raise UsageError(
                f"clip {self.clip} leaves no value of {rules.dtype} (its range is "
                f"{f_lo:g}..{f_hi:g})"
            )
        return lo, hi

    def _make_plan(
        self, rules: _Dtype, shape: tuple[int, ...], layout: str, chunk: int | None
    ) -> _Plan:
        view: Callable[[np.ndarray], np.ndarray]
        vshape: tuple[int, ...]
        if isinstance(self.noise, ScaledStream):
            if len(shape) not in (1, 2) or (layout != "..." and self.layout is not None):
                raise UsageError(
                    f"noise {self.noise.inner.name!r} takes audio samples (frames,) or (frames, "
                    f"channels), got a sample of shape {shape}"
                )
            channels = 1 if len(shape) == 1 else shape[1]
            view, colour, vshape = _frames_view, channels, (shape[0], 1, channels)
        elif layout == "HWC":
            if len(shape) not in (2, 3):
                raise UsageError(
                    f'layout "HWC" needs samples of shape (H, W) or (H, W, C), got {shape}'
                )
            if len(shape) == 2:
                view, colour, vshape = _hwc_view(None), 1, (*shape, 1)
            else:
                colour = _colour(shape[2])
                view, vshape = _hwc_view(colour), shape
        elif layout == "CHW":
            if len(shape) != 3:
                raise UsageError(f'layout "CHW" needs samples of shape (C, H, W), got {shape}')
            colour = _colour(shape[0])
            view, vshape = _chw_view(colour), (shape[1], shape[2], shape[0])
        else:
            view, colour, vshape = _flat_view, 1, (math.prod(shape), 1, 1)
        if 0 in vshape:
            raise UsageError(f"samples of shape {shape} are empty: nothing to noise")
        if rules.full is not None:
            self._check_steps(rules.dtype, rules.full[1] - rules.full[0])
            if self.data_range is not None:
                d_lo, d_hi = self.data_range
                if d_lo < rules.full[0] or d_hi > rules.full[1]:
                    raise UsageError(
                        f"data_range=({d_lo:g}, {d_hi:g}) exceeds the range of {rules.dtype} "
                        f"({rules.full[0]:g}..{rules.full[1]:g})"
                    )
            else:
                self._check_dtype_levels(rules.dtype, *rules.full)
        data = self.data_range or rules.full
        lo, hi = self._bounds(rules)
        info = MediaInfo(
            media="audio" if isinstance(self.noise, ScaledStream) else "image",
            dtype=rules.dtype.name,
            shape=vshape,
            channels=colour,
            lo=lo,
            hi=hi,
            full_scale=math.nan if data is None else data[1] - data[0],
            level_unit=1.0,
            black=0.0 if data is None else data[0],
        )
        self.noise.check(info)
        values_per_row = vshape[1] * colour
        rows = chunk if chunk is not None else max(1, CHUNK_VALUES // values_per_row)
        direct = layout == "..." or (layout == "HWC" and colour == vshape[2])
        return _Plan(info, view, rows, direct)


def _key_parts(key: object) -> tuple[int, ...]:
    if isinstance(key, tuple | list):
        if not key:
            raise UsageError("a key is an int or a non-empty tuple of ints, got ()")
        try:
            return tuple(check_key_part(p) for p in key)
        except (TypeError, ValueError) as err:
            raise UsageError(str(err)) from None
    if isinstance(key, np.ndarray) and key.ndim == 1:
        return _key_parts(key.tolist())
    try:
        return (check_key_part(key),)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None


def _fresh_key() -> tuple[int, ...]:
    return (secrets.randbits(63), secrets.randbits(63))


def as_array(x: object) -> np.ndarray:
    """``x`` as a numpy array (no copy for arrays), with the dtype checks of the API."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    if arr.dtype.kind not in "uif":
        _dtype_rules(arr.dtype)  # raises the message for bool, complex, object, text
    if arr.size == 0:
        raise UsageError(f"the array is empty (shape {arr.shape}): nothing to noise")
    return arr


class Augmenter:
    """Reusable, picklable noise for training loops: ``aug(x, key=(index, epoch))``.

    ``noise`` is a registered name (``"gaussian"``, ``"uniform"``, ``"poisson"``,
    ``"salt-pepper"``, ``"speckle"``, ``"sensor"``; the audio noises with ``std=`` or with a
    ``sample_rate``) or a Noise instance (a Recipe too); ``params`` are its parameters as
    numbers or the command line's text, ``"0.05:0.2"`` drawn per sample, ``"10%"`` of the
    data range. The noise and its parameters are checked here, once: a bad parameter fails
    at construction. ``seed`` (an int in ``[0, 2**128)``) fixes every sample's noise; without
    one a seed is drawn now from :mod:`secrets` (``aug.seed``) and kept, also in pickles.
    ``layout``, ``clip``, ``data_range``: see :mod:`noisecli.api.augment`. ``sample_rate``
    selects the exact SNR/dBFS audio path (``snr=``, ``level=``, ``on_clip=``, ``no_clip=``).

    >>> import numpy as np
    >>> aug = Augmenter("gaussian", std="0.05:0.2", seed=1, data_range=(0, 1))
    >>> x = np.full((8, 8, 3), 0.5, np.float32)
    >>> noised = aug.draw(x, key=(5, 2))
    >>> 0.05 <= noised.params["std"] <= 0.2
    True
    >>> bool(np.array_equal(noised.array, aug(x, key=(5, 2))))
    True
    """

    def __init__(
        self,
        noise: str | Noise = "gaussian",
        *,
        seed: int | None = None,
        layout: str | None = None,
        clip: Clip = "auto",
        data_range: tuple[float, float] | None = None,
        sample_rate: int | None = None,
        **params: Any,
    ) -> None:
        spec = _Spec(noise, layout, clip, data_range, sample_rate, params)
        self._bind(spec, secrets.randbits(128) if seed is None else check_seed(seed))

    def _bind(self, spec: _Spec, seed: int) -> None:
        self._spec = spec
        self._random = SampleRandom(seed)
        self.seed = seed

    @classmethod
    def _from_spec(cls, spec: _Spec, seed: int) -> Augmenter:
        self = cls.__new__(cls)
        self._bind(spec, seed)
        return self

    @property
    def noise(self) -> Noise:
        """The noise, with its parameters (a Noise instance)."""
        return self._spec.noise

    @property
    def layout(self) -> str | None:
        """The layout it was given (``"HWC"``, ``"NCHW"``, ...), or None: found per call."""
        return self._spec.layout

    def with_layout(self, layout: str | None) -> Augmenter:
        """The same noise, options and seed for data of another layout."""
        noise, _, clip, data_range, sample_rate, params = self._spec.args
        spec = _Spec(noise, layout, clip, data_range, sample_rate, dict(params))
        return Augmenter._from_spec(spec, self.seed)

    def __reduce__(self) -> tuple[Any, ...]:
        noise, layout, clip, data_range, sample_rate, params = self._spec.args
        return (_restore, (noise, layout, clip, data_range, sample_rate, params, self.seed))

    def __repr__(self) -> str:
        return f"Augmenter({self._spec.noise.describe()}, seed={self.seed})"

    # -- public calls -----------------------------------------------------------------------

    def __call__(self, x: Any, key: Key | None = None) -> np.ndarray:
        """A noisy copy of ``x`` (same shape and dtype); ``key`` an int or a tuple of ints.

        With a batch layout (``"NHWC"``, ``"NCHW"``, ``"N..."``) sample ``i`` has the key
        ``(*key, i)``. Without a key the noise is fresh (:mod:`secrets`): not reproducible.
        """
        return self.apply(x, key)[0]

    def batch(self, xs: Any, keys: Sequence[Key] | np.ndarray) -> np.ndarray:
        """Noise the samples of ``xs`` along axis 0, sample ``i`` with the key ``keys[i]``:
        ``aug.batch(xs, keys)[i]`` equals ``aug(xs[i], key=keys[i])``.

        ``keys`` is a sequence of ints or tuples, or an int array of shape ``(N,)`` or
        ``(N, k)``. A batch layout of the Augmenter (``"NHWC"``) applies to ``xs``.
        """
        return self.apply(xs, None, keys=keys)[0]

    def draw(self, x: Any, key: Key | None = None) -> Noised:
        """Like calling the Augmenter, with the parameters drawn for ``x`` (for logging)."""
        array, params = self.apply(x, key, want_params=True)
        return Noised(array, params if params is not None else {})

    # -- the work -----------------------------------------------------------------------------

    def apply(
        self,
        x: Any,
        key: Key | None,
        *,
        keys: Sequence[Key] | np.ndarray | None = None,
        out: np.ndarray | None = None,
        chunk: int | None = None,
        want_params: bool = False,
    ) -> tuple[np.ndarray, dict[str, Any] | None]:
        """The noisy array (into ``out`` if given) and, if asked, the parameters drawn."""
        spec = self._spec
        arr = as_array(x)
        batched = keys is not None or (spec.layout is not None and spec.layout.startswith("N"))
        if batched and arr.ndim < 1:
            raise UsageError("a batch needs an array with a batch axis 0, got a scalar")
        if keys is not None:
            parts = _batch_keys(keys, arr.shape[0])
        else:
            base = _fresh_key() if key is None else _key_parts(key)
            parts = [(*base, i) for i in range(arr.shape[0])] if batched else [base]
        if chunk is not None and (
            isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1
        ):
            raise UsageError(f"chunk must be a positive number of rows (frames), got {chunk!r}")
        rules = _dtype_rules(arr.dtype)
        if spec.sample_rate is None:
            spec.check_values(arr, rules)
        result, target = _output(arr, out)
        if spec.sample_rate is not None:  # NaN/inf: the mixer's InputError, as for files
            params = self._audio(arr, batched, parts, result, chunk)
        else:
            params = self._image(arr, batched, parts, result, rules, chunk, want_params)
        if target is not None:
            target[...] = result
            result = target
        if not want_params:
            return result, None
        return result, {"samples": params} if batched else params[0]

    def _image(
        self,
        arr: np.ndarray,
        batched: bool,
        parts: list[tuple[int, ...]],
        result: np.ndarray,
        rules: _Dtype,
        chunk: int | None,
        want_params: bool,
    ) -> list[dict[str, Any]]:
        spec = self._spec
        layout = spec.sample_layout(arr, batched)
        shape = arr.shape[1:] if batched else arr.shape
        plan = spec.plan(rules, shape, layout, chunk)
        _copy_alpha(arr, result, layout, shape, plan.info.channels)
        info, noise, random = plan.info, spec.noise, self._random
        samples: Iterator[tuple[np.ndarray, np.ndarray]] = (
            zip(arr, result, strict=True) if batched else iter(((arr, result),))
        )
        params: list[dict[str, Any]] = []
        scratch: np.ndarray | None = None  # shared by the samples' strided chunks
        for part, (x, y) in zip(parts, samples, strict=True):
            key = sample_key_bytes(part)
            src, dst = plan.view(x), plan.view(y)
            if plan.template is not None:
                prepared, template = plan.template
                kernel = template.rebind(random.stream(key, "noise"))
                if plan.direct and src.flags.c_contiguous and dst.flags.c_contiguous:
                    kernel.fast(src, dst)  # _output: dst is src or apart from it
                else:
                    noiser = ChunkNoiser.prepared_with(noise, info, prepared, kernel, scratch)
                    noise_rows(noiser, src, dst, plan.chunk_rows)
                    scratch = noiser.scratch
            else:
                rnd = random.output(key)
                noiser = ChunkNoiser(noise, info, rnd, check=False, scratch=scratch)
                if not plan.templated:
                    plan.templated = True
                    kern = noiser.kernel
                    # by the Noise contract parameters come from draws only: none drawn,
                    # every sample has these parameters and only the stream differs
                    drawn = getattr(rnd.draws, "used", True)
                    if isinstance(kern, FusedKernel) and kern.stream is rnd.stream and not drawn:
                        plan.template = (noiser.prepared, kern)
                prepared = noiser.prepared
                noise_rows(noiser, src, dst, plan.chunk_rows)
                scratch = noiser.scratch
            if want_params:
                params.append(dict(prepared.params))
        return params

    def _audio(
        self,
        arr: np.ndarray,
        batched: bool,
        parts: list[tuple[int, ...]],
        result: np.ndarray,
        chunk: int | None,
    ) -> list[dict[str, Any]]:
        from noisecli.audio.io import array_format
        from noisecli.audio.mix import DEFAULT_CHUNK_FRAMES, ArraySource, Layout, analyse, render

        spec = self._spec
        assert spec.sample_rate is not None
        shape = arr.shape[1:] if batched else arr.shape
        if len(shape) not in (1, 2):
            raise UsageError(f"audio samples must be (frames,) or (frames, channels), got {shape}")
        fmt = array_format(arr.dtype)
        params: list[dict[str, Any]] = []
        samples = zip(arr, result, strict=True) if batched else iter(((arr, result),))
        for part, (x, y) in zip(parts, samples, strict=True):
            view = x.reshape(x.shape[0], -1)
            out = y.reshape(view.shape)
            layout = Layout(fmt, fmt, view.shape[1], spec.sample_rate, view.shape[0])
            source = ArraySource(view, chunk or DEFAULT_CHUNK_FRAMES)
            plan = analyse(
                source, spec.noise, layout, spec.options, self.seed, sample_key_bytes(part)
            )
            params.append(dict(render(plan, source, out).params))
        return params


def _restore(
    noise: str | Noise,
    layout: str | None,
    clip: Clip,
    data_range: tuple[float, float] | None,
    sample_rate: int | None,
    params: dict[str, Any],
    seed: int,
) -> Augmenter:
    return Augmenter._from_spec(_Spec(noise, layout, clip, data_range, sample_rate, params), seed)


def _batch_keys(keys: Sequence[Key] | np.ndarray, n: int) -> list[tuple[int, ...]]:
    if isinstance(keys, np.ndarray):
        if keys.dtype.kind not in "ui" or keys.ndim not in (1, 2):
            raise UsageError(
                f"keys as an array must be integers of shape (N,) or (N, k), got {keys.dtype} "
                f"{keys.shape}"
            )
        rows: list[Any] = keys.tolist()
    elif isinstance(keys, str | bytes) or not isinstance(keys, Sequence):
        raise UsageError(f"keys must be a sequence with one key per sample, got {keys!r}")
    else:
        rows = list(keys)
    if len(rows) != n:
        raise UsageError(f"the batch has {n} samples but {len(rows)} keys: give one key each")
    return [_key_parts(k) for k in rows]


def _output(arr: np.ndarray, out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(array to write into, final target to copy it to or None)."""
    if out is None:
        return np.empty(arr.shape, arr.dtype), None
    if not isinstance(out, np.ndarray):
        raise UsageError(f"out must be a numpy array, got {type(out).__name__}")
    if out.shape != arr.shape or out.dtype != arr.dtype:
        raise UsageError(
            f"out must have the shape and dtype of x ({arr.shape}, {arr.dtype}), got "
            f"({out.shape}, {out.dtype})"
        )
    if not out.flags.writeable:
        raise UsageError("out is read-only")
    if out.flags.c_contiguous:
        same = out is arr or (
            out.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
            and out.strides == arr.strides
        )
        if same or not np.may_share_memory(out, arr):
            return out, None
    return np.empty(arr.shape, arr.dtype), out


def _copy_alpha(
    arr: np.ndarray, result: np.ndarray, layout: str, shape: tuple[int, ...], colour: int
) -> None:
    """Copy the alpha channel (HWC: last axis, CHW: channel axis) untouched."""
    if len(shape) != 3:
        return
    if layout == "HWC" and colour < shape[2]:
        result[..., colour:] = arr[..., colour:]
    elif layout == "CHW" and colour < shape[0]:
        result[..., colour:, :, :] = arr[..., colour:, :, :]
