"""Mix an audio noise into a signal at an exact level, streamed block by block.

``analyse`` reads the input once, generating the output's noise stream alongside, to
measure the signal power ``Ps`` and the noise power ``Pn`` (means of squares over all
frames and channels, in full-scale units). The noise gain then follows exactly:

- ``--snr S``:   ``g = sqrt(Ps / (Pn · 10^(S/10)))``, so ``10·log10(Ps / (g²·Pn)) = S``;
- ``--level L``: ``g = sqrt(10^(L/10) / Pn)``, so the noise RMS is ``L`` dBFS.

With ``--on-clip scale`` or ``error`` a second pass finds the peaks of ``x + g·n``. ``render``
regenerates the same stream (same seed) and writes ``y = s·(x + g·n)`` rounded and clipped
to the output format. Power sums run over fixed segments of frames, so ``g`` (and every
output byte) is the same whatever the block size. Memory is a few blocks, whatever the
length of the file. Nothing here knows about files or the command line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from noisecli.cancel import raise_if_stopped
from noisecli.config import AudioOptions
from noisecli.errors import ClippingError, InputError, SilentInputError, UsageError
from noisecli.io.audio import SampleFormat, array_format
from noisecli.noise.base import MediaInfo, Noise, output_generators, stream_key
from noisecli.noise.stream import AudioNoise

DEFAULT_CHUNK_FRAMES = 65536
SEGMENT_FRAMES = 4096
SCALE_MARGIN = 1e-9  # --on-clip scale stays this fraction below full scale

Params = dict[str, float | str | bool]


class PowerMeter:
    """Mean square of a stream of ``(frames, channels)`` blocks.

    Squares are summed with one ``np.sum`` per fixed segment of ``SEGMENT_FRAMES`` frames,
    so the result is the same to the last bit however the stream was cut into blocks.
    """

    def __init__(self, channels: int) -> None:
        self._buf = np.empty((SEGMENT_FRAMES, channels))
        self._sq = np.empty_like(self._buf)
        self._fill = 0
        self._total = 0.0
        self.frames = 0

    def _flush(self, rows: int) -> float:
        np.square(self._buf[:rows], out=self._sq[:rows])
        return float(self._sq[:rows].sum())

    def add(self, block: np.ndarray) -> None:
        pos = 0
        while pos < len(block):
            take = min(len(block) - pos, SEGMENT_FRAMES - self._fill)
            self._buf[self._fill : self._fill + take] = block[pos : pos + take]
            self._fill += take
            pos += take
            if self._fill == SEGMENT_FRAMES:
                self._total += self._flush(SEGMENT_FRAMES)
                self._fill = 0
        self.frames += len(block)

    @property
    def mean(self) -> float:
        if not self.frames:
            return 0.0
        return (self._total + self._flush(self._fill)) / (self.frames * self._buf.shape[1])


def db(power: float) -> float | None:
    """``10·log10(power)`` rounded for the manifest; None for a zero power."""
    return round(10.0 * math.log10(power), 4) if power > 0 else None


class BlockSource(Protocol):
    """The input, readable from the start as often as needed, in native-dtype blocks."""

    def blocks(self) -> Iterator[np.ndarray]: ...


@dataclass(frozen=True)
class Layout:
    """One output's sample formats (as read, as written), channels, rate and length."""

    read: SampleFormat
    write: SampleFormat
    channels: int
    sample_rate: int
    frames: int

    def info(self, opts: AudioOptions) -> MediaInfo:
        lo, hi = self.write.limits(opts.no_clip)
        shape = (self.frames, self.channels)
        return MediaInfo(
            "audio", self.write.dtype, shape, self.channels, lo, hi, 1.0, self.sample_rate
        )


@dataclass(frozen=True)
class MixPlan:
    """What ``analyse`` found: the gain, the anti-clip scale and the parameters drawn."""

    noise: AudioNoise
    layout: Layout
    opts: AudioOptions
    seed: int
    key: tuple[int, ...]
    gain: float
    scale: float
    signal_power: float
    params: Params


def as_audio_noise(noise: Noise) -> AudioNoise:
    if not isinstance(noise, AudioNoise):
        raise UsageError(f"noise {noise.name!r} does not apply to audio")
    return noise


class NoisePass:
    """One pass over the input beside the output's noise stream, drawn anew from the seed.

    Every pass of an output draws the same parameters and the same stream.
    """

    def __init__(
        self, noise: AudioNoise, layout: Layout, opts: AudioOptions, seed: int, key: tuple[int, ...]
    ) -> None:
        info = layout.info(opts)
        noise.check(info)
        params_rng, self._rng = output_generators(seed, key)
        prepared = noise.prepare(info, params_rng)
        level = opts.snr or opts.level
        if level is None:  # AudioOptions always sets one; this keeps mypy certain
            raise UsageError("give an SNR or a level")
        self.value = level.draw(params_rng)
        self.params: Params = dict(prepared.params)
        self._stream = noise.stream(prepared)
        self._read = layout.read

    def pairs(self, source: BlockSource) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(x, n)`` per block: the input in full-scale units and the noise."""
        try:
            for block in source.blocks():
                raise_if_stopped()
                yield self._read.to_unit(block), self._stream.read(len(block), self._rng)
        finally:
            self._stream.close()


def _gain(opts: AudioOptions, value: float, signal: float, noise: float) -> float:
    if not math.isfinite(noise):
        raise InputError("the noise has NaN or infinite samples")
    if noise <= 0.0:
        raise InputError("the noise is silent (all zero), so no level can be set")
    if opts.level is not None:
        return math.sqrt(10.0 ** (value / 10.0) / noise)
    if signal <= 0.0:
        raise SilentInputError(
            "silent input (every sample is zero): an SNR is undefined; "
            "use --level DBFS to add noise at an absolute level"
        )
    return math.sqrt(signal / (noise * 10.0 ** (value / 10.0)))


def _peak_scale(
    pairs: Iterator[tuple[np.ndarray, np.ndarray]], gain: float, lo: float, hi: float
) -> tuple[float, int]:
    """(scale that keeps ``x + g·n`` inside ``[lo, hi]``, number of values outside)."""
    top, bottom, outside = 0.0, 0.0, 0
    for x, n in pairs:
        y = np.multiply(n, gain)
        y += x
        top = max(top, float(y.max()))
        bottom = min(bottom, float(y.min()))
        outside += int(np.count_nonzero(y > hi) + np.count_nonzero(y < lo))
    scale = 1.0
    if top > hi:
        scale = hi / top
    if bottom < lo:
        scale = min(scale, lo / bottom)
    if scale < 1.0:
        scale *= 1.0 - SCALE_MARGIN
    return scale, outside


def analyse(
    source: BlockSource,
    noise: Noise,
    layout: Layout,
    opts: AudioOptions,
    seed: int,
    key: tuple[int, ...],
) -> MixPlan:
    """First pass(es): measure powers (and peaks if needed) and fix gain and scale.

    Raises ``InputError`` for NaN/Inf samples, ``SilentInputError`` for a silent input
    under ``snr`` and ``ClippingError`` under ``on_clip="error"`` when a value would clip.
    """
    audio_noise = as_audio_noise(noise)
    signal, noise_power = PowerMeter(layout.channels), PowerMeter(layout.channels)
    first = NoisePass(audio_noise, layout, opts, seed, key)
    bad, first_bad = 0, -1
    for x, n in first.pairs(source):
        finite = np.isfinite(x)
        if not finite.all():
            if first_bad < 0:
                first_bad = signal.frames + int(np.argmin(finite.all(axis=1)))
            bad += int(finite.size - np.count_nonzero(finite))
        signal.add(x)
        noise_power.add(n)
    if bad:
        raise InputError(f"{bad} samples are NaN or infinite (the first at frame {first_bad})")
    gain = _gain(opts, first.value, signal.mean, noise_power.mean)
    params = first.params
    params["snr_db" if opts.level is None else "level_dbfs"] = round(first.value, 6)
    scale = 1.0
    lo, hi = layout.write.limits(opts.no_clip)
    if opts.on_clip != "clip" and math.isfinite(hi):
        pairs = NoisePass(audio_noise, layout, opts, seed, key).pairs(source)
        scale, outside = _peak_scale(pairs, gain, lo, hi)
        if opts.on_clip == "error" and outside:
            raise ClippingError(f"{outside} samples would clip (--on-clip error)")
        if opts.on_clip == "scale":
            params["scale"] = round(scale, 9)
    return MixPlan(audio_noise, layout, opts, seed, key, gain, scale, signal.mean, params)


@dataclass
class MixStats:
    """What ``render`` wrote: parameters (with the levels reached) and clipping counts."""

    params: Params
    values: int = 0
    clipped: int = 0

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.values if self.values else 0.0


def render(plan: MixPlan, source: BlockSource, write: Callable[[np.ndarray], None]) -> MixStats:
    """Last pass: write ``s·(x + g·n)`` in the output format, block by block.

    The manifest gets the levels actually reached, measured on the written values
    (before any lossy encoder): ``snr_reached_db`` and ``noise_rms_dbfs``.
    """
    layout, opts = plan.layout, plan.opts
    added = PowerMeter(layout.channels)
    stats = MixStats(dict(plan.params))
    last = NoisePass(plan.noise, layout, opts, plan.seed, plan.key)
    for x, n in last.pairs(source):
        y = np.multiply(n, plan.gain)
        y += x
        if plan.scale != 1.0:
            y *= plan.scale
            x *= plan.scale
        out, clipped = layout.write.from_unit(y, opts.no_clip)
        write(out)
        reached = layout.write.to_unit(out)
        reached -= x
        added.add(reached)
        stats.values += out.size
        stats.clipped += clipped
    signal = plan.signal_power * plan.scale**2
    for name, value in (
        ("snr_reached_db", db(signal / added.mean) if added.mean > 0 else None),
        ("noise_rms_dbfs", db(added.mean)),
        ("signal_rms_dbfs", db(plan.signal_power)),
    ):
        if value is not None:
            stats.params[name] = value
    stats.params["clipped_samples"] = stats.clipped
    return stats


class ArraySource:
    """An in-memory ``(frames, channels)`` array served in blocks."""

    def __init__(self, array: np.ndarray, chunk: int) -> None:
        self.array = array
        self.chunk = chunk

    def blocks(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self.array), self.chunk):
            yield self.array[start : start + self.chunk]


AUDIO_OPTION_NAMES = ("snr", "level", "on_clip", "no_clip")


def noise_samples(
    samples: np.ndarray,
    noise: Noise,
    *,
    sample_rate: int,
    seed: int,
    chunk: int | None = None,
    **options: Any,
) -> np.ndarray:
    """A noisy copy of ``(frames,)`` or ``(frames, channels)`` samples, same dtype.

    int16/int32 samples are full scale at their type's limits, floats at ±1.0 (clipped
    there unless ``no_clip``). ``options`` are ``snr``, ``level``, ``on_clip``, ``no_clip``.
    """
    array = np.asarray(samples)
    if array.ndim not in (1, 2) or not array.shape[0]:
        raise UsageError(
            f"audio samples must be (frames,) or (frames, channels), got {array.shape}"
        )
    if sample_rate < 1:
        raise UsageError(f"sample_rate must be a positive number of Hz, got {sample_rate}")
    fmt = array_format(array.dtype)
    view = array.reshape(array.shape[0], -1)
    layout = Layout(fmt, fmt, view.shape[1], int(sample_rate), view.shape[0])
    opts = AudioOptions.from_values(**options)
    source = ArraySource(view, chunk or DEFAULT_CHUNK_FRAMES)
    plan = analyse(source, noise, layout, opts, seed, stream_key("", 0))
    out = np.empty_like(view)
    done = 0

    def write(block: np.ndarray) -> None:
        nonlocal done
        out[done : done + len(block)] = block
        done += len(block)

    render(plan, source, write)
    return out.reshape(array.shape)
