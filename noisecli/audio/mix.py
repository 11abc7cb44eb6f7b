"""Mix an audio noise into a signal at an exact level, streamed block by block.

``analyse`` measures the signal power ``Ps`` and the noise power ``Pn`` (means of squares
over all frames and channels, in full-scale units). The noise gain then follows exactly:

- ``--snr S``:   ``g = sqrt(Ps / (Pn · 10^(S/10)))``, so ``10·log10(Ps / (g²·Pn)) = S``;
- ``--level L``: ``g = sqrt(10^(L/10) / Pn)``, so the noise RMS is ``L`` dBFS.

The input is read in that first pass only when needed (an SNR, a float format to check for
NaN/Inf, or a length unknown before decoding); ``Pn`` is the power of the exact noise the
seed produces, which white noise sums exactly in integers without keeping the samples
(``noisecli.rng.power``). With ``--on-clip scale`` or ``error`` a
second pass finds the peaks of ``x + g·n``. ``render`` regenerates the same stream (same
seed) and writes ``y = s·(x + g·n)`` rounded and clipped to the output format, in
cache-sized tiles. Power sums are exact integers
(16-bit PCM) or run over fixed segments of frames, so ``g`` (and every output byte) is the
same whatever the block size. Memory is a few blocks, whatever the length of the file.
Nothing here knows about files or the command line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from noisecli.audio.io import SampleFormat, array_format
from noisecli.audio.recordings import bind
from noisecli.batch.cancel import raise_if_stopped
from noisecli.config import AudioOptions
from noisecli.errors import ClippingError, InputError, SilentInputError, UsageError
from noisecli.noise.base import MediaInfo, Noise
from noisecli.noise.recipe import AudioStep, Recipe
from noisecli.noise.recipe_toml import Where
from noisecli.noise.stream import AudioNoise, NoiseStream
from noisecli.rng import kernels, portable
from noisecli.rng.keys import output_random, sample_key

DEFAULT_CHUNK_FRAMES = 65536
SEGMENT_FRAMES = 4096
TILE_VALUES = 32768  # values mixed at a time (see NoisePass.pairs)
FUSED_TILE_VALUES = 1 << 17  # the same for a fused mix (one pass, chunked inside the kernel)
KEPT_VALUES = 1 << 21  # noise values (8 MiB) the power pass may keep for the mix to reuse
SCALE_MARGIN = 1e-9  # --on-clip scale stays this fraction below full scale
RECIPE_LEVELS = "snr and level do not apply to a recipe: each step of an audio recipe sets its own"

Params = dict[str, Any]  # JSON-able; a recipe's holds the list of its steps


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
        self.channels = channels

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
    """The input, readable from the start as often as needed, in native-dtype blocks.

    ``frames`` is its exact length when known before reading it, else None.
    """

    @property
    def frames(self) -> int | None: ...

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

    noise: AudioNoise | Recipe
    layout: Layout
    opts: AudioOptions
    seed: int
    key: bytes
    gain: float
    scale: float
    signal_power: float | None  # None when the first pass did not read the input
    params: Params
    gains: tuple[float, ...] = ()  # a recipe's: one per step applied, in order
    # the noise values the power pass made, if it kept them (short outputs): the same
    # values the later passes would make again
    kept: np.ndarray | None = field(default=None, repr=False, compare=False)


def as_audio_noise(noise: Noise) -> AudioNoise:
    """The noise as an audio noise, its recordings (if any) bound to their files."""
    noise = bind(noise)
    if not isinstance(noise, AudioNoise):
        raise UsageError(f"noise {noise.name!r} does not apply to audio")
    return noise


class NoisePass:
    """One pass over the output's noise stream, drawn anew from the seed.

    Every pass of an output draws the same parameters and the same stream; given the values
    an earlier pass kept (``kept``), the stream serves them instead of making them again.
    """

    def __init__(
        self,
        noise: AudioNoise,
        layout: Layout,
        opts: AudioOptions,
        seed: int,
        key: bytes,
        kept: np.ndarray | None = None,
    ) -> None:
        info = layout.info(opts)
        noise.check(info)
        rnd = output_random(seed, key)
        prepared = noise.prepare(info, rnd)
        level = opts.snr or opts.level
        if level is None:  # AudioOptions always sets one; this keeps mypy certain
            raise UsageError("give an SNR or a level")
        self.value = level.draw(rnd.draws)
        self.params: Params = dict(prepared.params)
        self.stream = noise.stream(prepared)
        if kept is not None:
            self.stream.reuse(kept)

    def tiles(self, source: BlockSource, values: int = TILE_VALUES) -> Iterator[np.ndarray]:
        """The input as read (native dtype) in tiles of at most ``values`` values, the
        stream closed at the end. Tiles stay in the CPU cache: on blocks of a few MB every
        elementwise pass would wait for memory (measured 3x slower)."""
        tile = max(1, values // self.stream.channels)
        try:
            for block in source.blocks():
                raise_if_stopped()
                for start in range(0, len(block), tile):
                    yield block[start : start + tile]
        finally:
            self.stream.close()

    def pairs(self, source: BlockSource) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(x, n)`` per tile (see :meth:`tiles`): the input and the noise."""
        for x in self.tiles(source):
            yield x, self.stream.read(len(x))

    def mean_power(self, frames: int, shortcut: bool, keep: bool = False) -> float:
        """Mean square of the first ``frames`` frames of the stream (then closed).

        With ``shortcut`` the stream may compute it without producing the samples
        (white noise: an exact sum of squares in integers), and with ``keep`` as well
        keep the values it made for the later passes (``self.stream.kept()``).
        """
        return stream_power(self.stream, frames, shortcut, keep)


def stream_power(stream: NoiseStream, frames: int, shortcut: bool, keep: bool = False) -> float:
    """Mean square of the first ``frames`` frames of a fresh stream, which is then closed
    (see :meth:`NoisePass.mean_power`)."""
    try:
        power = stream.mean_power(frames, keep) if shortcut else None
        if power is not None:
            return power
        meter = PowerMeter(stream.channels)
        for start in range(0, frames, DEFAULT_CHUNK_FRAMES):
            raise_if_stopped()
            meter.add(stream.read(min(DEFAULT_CHUNK_FRAMES, frames - start)))
        return meter.mean
    finally:
        stream.close()


def bind_recipe(recipe: Recipe) -> Recipe:
    """The recipe with the recordings of its background steps opened; a folder that is
    missing or holds no audio is a ``UsageError`` naming the recipe's line."""

    def fn(noise: Noise, where: Where) -> Noise:
        return bind(noise, f"{where.at('background')}: background")

    return recipe.map_placed(fn)


class RecipePass:
    """One pass over an audio recipe's output: the steps and their streams drawn anew.

    Every pass of an output draws the same steps, levels and streams (the recipe's draws
    are a pure function of the seed and the output key).
    """

    def __init__(
        self, recipe: Recipe, layout: Layout, opts: AudioOptions, seed: int, key: bytes
    ) -> None:
        info = layout.info(opts)
        recipe.check(info)
        prepared = recipe.prepare(info, output_random(seed, key))
        self.params: Params = dict(prepared.params)
        self.steps = [s for s in prepared.state if isinstance(s, AudioStep)]
        self.streams = [s.noise.stream(s.prepared) for s in self.steps]
        self.channels = layout.channels

    def close(self) -> None:
        for stream in self.streams:
            stream.close()

    def mean_powers(self, frames: int, shortcut: bool) -> list[float]:
        """Each step's :func:`stream_power` over the first ``frames`` frames (streams are
        read one after the other and closed)."""
        try:
            return [stream_power(s, frames, shortcut) for s in self.streams]
        finally:
            self.close()

    def pairs(
        self,
        source: BlockSource,
        gains: tuple[float, ...],
        meters: list[PowerMeter] | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(x, Σ gᵢ·nᵢ)`` per tile (as :meth:`NoisePass.pairs`), the sum in float64;
        ``meters[i]`` measures step ``i``'s scaled noise ``gᵢ·nᵢ`` on the way."""
        tile = max(1, TILE_VALUES // self.channels)
        try:
            for block in source.blocks():
                raise_if_stopped()
                for start in range(0, len(block), tile):
                    x = block[start : start + tile]
                    total = np.zeros((len(x), self.channels))
                    for i, (stream, gain) in enumerate(zip(self.streams, gains, strict=True)):
                        part = np.multiply(stream.read(len(x)), gain, dtype=np.float64)
                        if meters is not None:
                            meters[i].add(part)
                        total += part
                    yield x, total
        finally:
            self.close()


class SignalMeter:
    """Mean square of the input in full-scale units, checking for NaN/Inf on the way.

    16-bit PCM (int16) is summed exactly in integers; other formats go through
    :class:`PowerMeter`. Either way the result does not depend on the block sizes.
    """

    def __init__(self, fmt: SampleFormat, channels: int) -> None:
        self._fmt = fmt
        self._exact = ExactSquares() if fmt.dtype == "int16" else None
        self._meter = PowerMeter(channels)
        self.bad = 0
        self.first_bad = -1

    def add(self, block: np.ndarray) -> None:
        if self._exact is not None:
            self._exact.add(block)
            self._meter.frames += len(block)
            return
        x = self._fmt.to_unit(block)
        finite = np.isfinite(x)
        if not finite.all():
            if self.first_bad < 0:
                self.first_bad = self._meter.frames + int(np.argmin(finite.all(axis=1)))
            self.bad += int(finite.size - np.count_nonzero(finite))
        self._meter.add(x)

    @property
    def frames(self) -> int:
        return self._meter.frames

    @property
    def mean(self) -> float:
        if self._exact is None:
            return self._meter.mean
        values = self._meter.frames * self._meter.channels
        return self._exact.total * 2.0**-30 / values if values else 0.0


class ExactSquares:
    """Exact sum of squares of int16 blocks (``Σ x²``) or of their differences
    (``Σ (y − x)²``), in integers (:func:`noisecli.rng.kernels.square_sum_i16`), so the
    total is the same however the stream is cut."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, block: np.ndarray) -> None:
        self.total += kernels.square_sum_i16(block)

    def add_difference(self, x: np.ndarray, y: np.ndarray) -> None:
        self.total += kernels.square_sum_i16(x, y)


def _gain(opts: AudioOptions, value: float, signal: float, noise: float) -> float:
    return _gain_for("snr" if opts.level is None else "level", value, signal, noise)


SILENT_ADVICE = "use --level DBFS to add noise at an absolute level"


def _gain_for(
    kind: str,
    value: float,
    signal: float,
    noise: float,
    step: str = "",
    advice: str = SILENT_ADVICE,
) -> float:
    """``g`` that sets noise of power ``noise`` to ``value`` (an SNR over ``signal`` in dB,
    or a level in dBFS); ``step`` names a recipe's step in messages."""
    if not math.isfinite(noise):
        raise InputError(f"{step}the noise has NaN or infinite samples")
    if noise <= 0.0:
        raise InputError(f"{step}the noise is silent (all zero), so no level can be set")
    if kind == "level":
        return math.sqrt(portable.pow(10.0, value / 10.0) / noise)
    if signal <= 0.0:
        raise SilentInputError(
            f"silent input (every sample is zero): {step}an SNR is undefined; {advice}"
        )
    return math.sqrt(signal / (noise * portable.pow(10.0, value / 10.0)))


def _peak_scale(
    pairs: Iterator[tuple[np.ndarray, np.ndarray]],
    fmt: SampleFormat,
    gain: float,
    lo: float,
    hi: float,
) -> tuple[float, int]:
    """(scale that keeps ``x + g·n`` inside ``[lo, hi]``, number of values outside)."""
    top, bottom, outside = 0.0, 0.0, 0
    for block, n in pairs:
        y = np.multiply(n, gain, dtype=np.float64)
        y += fmt.to_unit(block)
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
    key: bytes,
) -> MixPlan:
    """First pass(es): measure powers (and peaks if needed) and fix gain and scale.

    The input is read only when needed: for an SNR, for float formats (NaN/Inf check) or
    when its length is not known exactly. Raises ``InputError`` for NaN/Inf samples,
    ``SilentInputError`` for a silent input under ``snr`` and ``ClippingError`` under
    ``on_clip="error"`` when a value would clip.
    """
    if isinstance(noise, Recipe):
        return _analyse_recipe(source, bind_recipe(noise), layout, opts, seed, key)
    audio_noise = as_audio_noise(noise)
    first = NoisePass(audio_noise, layout, opts, seed, key)
    signal = SignalMeter(layout.read, layout.channels)
    frames = source.frames
    if opts.level is None or not layout.read.integer or frames is None:
        for block in source.blocks():
            raise_if_stopped()
            signal.add(block)
        frames = signal.frames
    if signal.bad:
        raise InputError(
            f"{signal.bad} samples are NaN or infinite (the first at frame {signal.first_bad})"
        )
    keep = frames * layout.channels <= KEPT_VALUES
    noise_power = first.mean_power(frames, Mixer.work_dtype(layout) == np.float32, keep)
    kept = first.stream.kept()
    gain = _gain(opts, first.value, signal.mean, noise_power)
    params = first.params
    params["snr_db" if opts.level is None else "level_dbfs"] = round(first.value, 6)
    scale = 1.0
    lo, hi = layout.write.limits(opts.no_clip)
    if opts.on_clip != "clip" and math.isfinite(hi):
        pairs = NoisePass(audio_noise, layout, opts, seed, key, kept).pairs(source)
        scale, outside = _peak_scale(pairs, layout.read, gain, lo, hi)
        if opts.on_clip == "error" and outside:
            raise ClippingError(f"{outside} samples would clip (--on-clip error)")
        if opts.on_clip == "scale":
            params["scale"] = round(scale, 9)
    measured = signal.mean if signal.frames else None
    return MixPlan(audio_noise, layout, opts, seed, key, gain, scale, measured, params, (), kept)


def _analyse_recipe(
    source: BlockSource,
    recipe: Recipe,
    layout: Layout,
    opts: AudioOptions,
    seed: int,
    key: bytes,
) -> MixPlan:
    """:func:`analyse` for an audio recipe: every step applied gets its own gain against
    the clean input (``snr``) or full scale (``level``); the peaks are those of the sum."""
    if opts.level_given:
        raise UsageError(RECIPE_LEVELS)
    first = RecipePass(recipe, layout, opts, seed, key)
    signal = SignalMeter(layout.read, layout.channels)
    frames = source.frames
    wants_signal = any(s.kind == "snr" for s in first.steps)
    if wants_signal or not layout.read.integer or frames is None:
        try:
            for block in source.blocks():
                raise_if_stopped()
                signal.add(block)
        except BaseException:
            first.close()
            raise
        frames = signal.frames
    if signal.bad:
        first.close()
        raise InputError(
            f"{signal.bad} samples are NaN or infinite (the first at frame {signal.first_bad})"
        )
    powers = first.mean_powers(frames, Mixer.work_dtype(layout) == np.float32)
    gains = tuple(
        _gain_for(
            step.kind,
            step.value,
            signal.mean,
            power,
            f"step {step.position} ({step.noise.name}): ",
            "give that step a level (dBFS) to add noise to silence",
        )
        for step, power in zip(first.steps, powers, strict=True)
    )
    params = first.params
    scale = 1.0
    lo, hi = layout.write.limits(opts.no_clip)
    if opts.on_clip != "clip" and math.isfinite(hi):
        pairs = RecipePass(recipe, layout, opts, seed, key).pairs(source, gains)
        scale, outside = _peak_scale(pairs, layout.read, 1.0, lo, hi)
        if opts.on_clip == "error" and outside:
            raise ClippingError(f"{outside} samples would clip (--on-clip error)")
        if opts.on_clip == "scale":
            params["scale"] = round(scale, 9)
    measured = signal.mean if signal.frames else None
    return MixPlan(recipe, layout, opts, seed, key, 1.0, scale, measured, params, gains)


class Mixer:
    """``y = s·(x + g·n)`` for one output, block by block, in the write format's own units.

    Values are handled in units of the output's resolution (one LSB for PCM, 1.0 for
    floats), in float32 when input and output hold at most 24 significant bits (16-bit
    PCM, float32) and float64 otherwise; rounded (PCM), clipped and counted, then cast.
    It measures the signal and the noise actually added (``y - s·x`` after rounding and
    clipping), exactly in integers for 16-bit PCM in and out.
    """

    def __init__(
        self, layout: Layout, opts: AudioOptions, gain: float, scale: float, measure_signal: bool
    ) -> None:
        read, write = layout.read, layout.write
        self.work = self.work_dtype(layout)
        self._write = write
        self._no_clip = opts.no_clip
        self._unit = write.resolution_scale
        self._x_factor = scale * self._unit / read.container_scale
        self._n_factor = gain * scale * self._unit
        exact = read.dtype == write.dtype == "int16" and write.bits == 16 and scale == 1.0
        self._exact_added = ExactSquares() if exact else None
        # 16-bit PCM in and out with x on the output's grid: a stream may add in one pass
        self.fusable = exact and self._x_factor == 1.0 and self.work == np.float32
        lo, hi = write.limits(opts.no_clip)
        self._bounds = (lo * self._unit, hi * self._unit)
        self._added = PowerMeter(layout.channels)
        self.signal = SignalMeter(read, layout.channels) if measure_signal else None
        self.values = 0
        self.clipped = 0

    @staticmethod
    def work_dtype(layout: Layout) -> type[np.floating[Any]]:
        narrow = all(f.dtype in ("int16", "float32") for f in (layout.read, layout.write))
        return np.float32 if narrow else np.float64

    def mix(self, block: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """The output block (write dtype) for input ``block`` (read dtype) and ``noise``."""
        if self.signal is not None:
            self.signal.add(block)
        x = block.astype(self.work)
        if self._x_factor != 1.0:
            x *= self._x_factor
        y = np.multiply(noise, self.work(self._n_factor), dtype=self.work)
        y += x
        self.clipped += self._write.round_clip(y, self._no_clip)
        self.values += y.size
        if self._exact_added is not None:  # 16-bit PCM in and out, x on the output's grid
            out = self._write.cast(y)
            self._exact_added.add_difference(block, out)
            return out
        x -= y  # minus the noise actually added
        self._added.add(x)
        return self._write.cast(y)

    def mix_stream(
        self, block: np.ndarray, stream: NoiseStream, into: np.ndarray | None = None
    ) -> np.ndarray:
        """:meth:`mix` of ``block`` and the stream's next frames, fused when the stream can
        (white noise on 16-bit PCM: the same bytes, one pass instead of six); written into
        ``into`` (the output's place) when given and C-contiguous, and returned."""
        if self.fusable:
            out = into if into is not None and into.flags.c_contiguous else np.empty_like(block)
            clipped = stream.add_into(block, out, self._n_factor, *self._bounds)
            if clipped is not None:
                if self.signal is not None:
                    self.signal.add(block)
                self.clipped += clipped
                self.values += out.size
                assert self._exact_added is not None  # fusable implies exact
                self._exact_added.add_difference(block, out)
                return out
        return self.mix(block, stream.read(len(block)))

    @property
    def added_power(self) -> float:
        """Mean square of the noise added, in full-scale units."""
        if self._exact_added is None:
            return self._added.mean / self._unit**2
        return self._exact_added.total / self._unit**2 / self.values if self.values else 0.0


@dataclass
class MixStats:
    """What ``render`` wrote: parameters (with the levels reached) and clipping counts."""

    params: Params
    values: int = 0
    clipped: int = 0

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.values if self.values else 0.0


def render(
    plan: MixPlan, source: BlockSource, sink: Callable[[np.ndarray], None] | np.ndarray
) -> MixStats:
    """Last pass: write ``s·(x + g·n)`` in the output format, block by block, to ``sink``:
    a function taking each block, or the ``(frames, channels)`` array to fill.

    The manifest gets the levels actually reached, measured on the written values
    (before any lossy encoder): ``snr_reached_db`` and ``noise_rms_dbfs``.
    """
    done = 0

    def place(block: np.ndarray) -> np.ndarray | None:
        """Where ``block``'s output goes when the sink is an array (None for a function)."""
        return sink[done : done + len(block)] if isinstance(sink, np.ndarray) else None

    def write(out: np.ndarray, dest: np.ndarray | None) -> None:
        nonlocal done
        if dest is None:
            assert callable(sink)
            sink(out)
        elif out is not dest:
            dest[...] = out
        done += len(out)

    layout, opts = plan.layout, plan.opts
    mixer = Mixer(layout, opts, plan.gain, plan.scale, plan.signal_power is None)
    stats = MixStats(dict(plan.params))
    if isinstance(plan.noise, Recipe):
        last_steps = RecipePass(plan.noise, layout, opts, plan.seed, plan.key)
        meters = [PowerMeter(layout.channels) for _ in last_steps.steps]
        for block, n in last_steps.pairs(source, plan.gains, meters):
            write(mixer.mix(block, n), place(block))
    else:
        last = NoisePass(plan.noise, layout, opts, plan.seed, plan.key, plan.kept)
        tile = FUSED_TILE_VALUES if mixer.fusable else TILE_VALUES
        for block in last.tiles(source, tile):
            dest = place(block)
            write(mixer.mix_stream(block, last.stream, dest), dest)
    stats.values, stats.clipped = mixer.values, mixer.clipped
    signal_power = mixer.signal.mean if mixer.signal is not None else plan.signal_power or 0.0
    if isinstance(plan.noise, Recipe):
        stats.params["steps"] = _reached_per_step(
            stats.params["steps"], last_steps.steps, meters, signal_power, plan.scale
        )
    added = mixer.added_power
    signal = signal_power * plan.scale**2
    for name, value in (
        ("snr_reached_db", db(signal / added) if added > 0 else None),
        ("noise_rms_dbfs", db(added)),
        ("signal_rms_dbfs", db(signal_power)),
    ):
        if value is not None:
            stats.params[name] = value
    stats.params["clipped_samples"] = stats.clipped
    return stats


def _reached_per_step(
    records: list[dict[str, Any]],
    steps: list[AudioStep],
    meters: list[PowerMeter],
    signal_power: float,
    scale: float,
) -> list[dict[str, Any]]:
    """The recipe's step records with the level each step reached, measured on its scaled
    noise as summed (before the sum is rounded and clipped): ``snr_reached_db`` against the
    clean input, or ``level_reached_dbfs``; both after an ``--on-clip scale`` factor."""
    out = [dict(r) for r in records]
    for record, step, meter in zip(out, steps, meters, strict=True):
        power = meter.mean
        if step.kind == "snr":
            value = db(signal_power / power) if power > 0 and signal_power > 0 else None
            name = "snr_reached_db"
        else:
            value = db(power * scale**2) if power > 0 else None
            name = "level_reached_dbfs"
        if value is not None:
            record[name] = value
    return out


class ArraySource:
    """An in-memory ``(frames, channels)`` array served in blocks."""

    def __init__(self, array: np.ndarray, chunk: int) -> None:
        self.array = array
        self.chunk = chunk

    @property
    def frames(self) -> int | None:
        return len(self.array)

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
    if isinstance(noise, Recipe) and ("snr" in options or "level" in options):
        raise UsageError(RECIPE_LEVELS)
    opts = AudioOptions.from_values(**options)
    source = ArraySource(view, chunk or DEFAULT_CHUNK_FRAMES)
    plan = analyse(source, noise, layout, opts, seed, sample_key(0))
    out = np.empty_like(view)
    render(plan, source, out)
    return out.reshape(array.shape)
