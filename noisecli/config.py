"""Frozen run configuration and the parsers for values such as ``25``, ``5:50`` and ``10%``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from noisecli.errors import UsageError
from noisecli.noise.level import Level, parse_level

if TYPE_CHECKING:
    from noisecli.noise.base import Noise
    from noisecli.noise.recipe import Variant

IMAGE_FORMATS = ("keep", "png", "jpg", "webp", "tiff")
AUDIO_FORMATS = ("keep", "wav", "flac", "ogg", "aiff", "mp3")
ON_CLIP = ("clip", "scale", "error")
DEFAULT_SNR_DB = 20.0


def parse_dbfs(text: str, name: str) -> Level:
    """Parse a level in dBFS: ``-40``, ``-40dBFS``, ``-50:-30dBFS`` (at most 0 dBFS)."""
    parts = [p.strip() for p in text.split(":")]
    bare = [p[: -len("dbfs")] if p.lower().endswith("dbfs") else p for p in parts]
    return parse_level(":".join(bare), name, maximum=0.0, allow_percent=False)


def _as_level(
    value: Level | str | float | None, name: str, parse: Callable[[str, str], Level]
) -> Level | None:
    if value is None or isinstance(value, Level):
        return value
    return parse(str(value), name)


def parse_snr(text: str, name: str) -> Level:
    """Parse an SNR in dB: ``10``, ``-5``, ``5:30`` (no percentages)."""
    return parse_level(text, name, allow_percent=False)


@dataclass(frozen=True)
class AudioOptions:
    """How loud the audio noise is, and what happens at full scale.

    ``snr`` (dB) sets ``10·log10(Ps/Pn)`` over the whole file, powers averaged over
    channels; ``level`` (dBFS) sets the noise RMS ``20·log10 rms`` (full scale 1.0). One of
    the two; with neither, ``snr`` is ``DEFAULT_SNR_DB``. ``on_clip``: ``clip`` saturates
    (and counts), ``scale`` lowers the noisy signal just enough, ``error`` fails the file.
    ``no_clip`` lets float outputs exceed ±1.
    """

    snr: Level | None = None
    level: Level | None = None
    on_clip: str = "clip"
    no_clip: bool = False
    # whether snr or level was given (not the default): a recipe sets them per step
    level_given: bool = field(default=False, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.snr is not None and self.level is not None:
            raise UsageError("--snr and --level exclude each other")
        object.__setattr__(self, "level_given", self.snr is not None or self.level is not None)
        if self.snr is None and self.level is None:
            object.__setattr__(self, "snr", Level.fixed(DEFAULT_SNR_DB))
        if self.on_clip not in ON_CLIP:
            raise UsageError(f"--on-clip must be one of {', '.join(ON_CLIP)}, got {self.on_clip!r}")

    @classmethod
    def from_values(
        cls,
        snr: Level | str | float | None = None,
        level: Level | str | float | None = None,
        on_clip: str = "clip",
        no_clip: bool = False,
    ) -> AudioOptions:
        """Options from numbers or text (``"5:30"``, ``"-40dBFS"``); SNR 20 dB by default."""
        snr_level = _as_level(snr, "--snr", parse_snr)
        return cls(snr_level, _as_level(level, "--level", parse_dbfs), on_clip, no_clip)


@dataclass(frozen=True)
class RunConfig:
    """Everything one batch run needs; built by ``cli.py`` or by ``process_dataset``."""

    inputs: tuple[str, ...]
    output: str
    noise: Noise
    media: Literal["image", "audio"] = "image"
    seed: int = 0
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    copies: int = 1
    suffix: str = ""
    format: str = "keep"
    quality: int = 95
    chunk: int = 256
    max_pixels: int = 2**28
    allow_nested_output: bool = False
    overwrite: bool = False
    skip_existing: bool = False
    dry_run: bool = False
    fail_fast: bool = False
    manifest: bool = True
    quiet: bool = False
    verbose: bool = False
    scheduler: str | None = None
    scheduler_file: str | None = None
    audio: AudioOptions | None = None

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise UsageError(f"--jobs must be at least 1, got {self.jobs}")
        if self.copies < 1:
            raise UsageError(f"--copies must be at least 1, got {self.copies}")
        if self.chunk < 1:
            raise UsageError(f"--chunk must be at least 1, got {self.chunk}")
        if not 0 <= self.quality <= 100:
            raise UsageError(f"--quality must be in 0..100, got {self.quality}")
        if not 1 <= self.max_pixels <= 2**30:
            raise UsageError(f"--max-pixels must be in 1..{2**30}, got {self.max_pixels}")
        if self.scheduler and self.scheduler_file:
            raise UsageError("--scheduler and --scheduler-file exclude each other")
        if self.overwrite and self.skip_existing:
            raise UsageError("--overwrite and --skip-existing exclude each other")
        if self.media == "image" and self.format not in IMAGE_FORMATS:
            raise UsageError(f"--format must be one of {', '.join(IMAGE_FORMATS)}")
        self._check_noise()
        if self.media == "audio":
            if self.format not in AUDIO_FORMATS:
                raise UsageError(f"--format must be one of {', '.join(AUDIO_FORMATS)}")
            if "-" in self.inputs or self.output == "-":
                raise UsageError("audio is read twice (level, then noise): '-' is not supported")
        if not 0 <= self.seed < 2**128:
            raise UsageError(f"--seed must be a non-negative integer below 2**128, got {self.seed}")
        if "/" in self.suffix or os.sep in self.suffix:
            raise UsageError(f"--suffix must not contain a path separator: {self.suffix!r}")

    def _check_noise(self) -> None:
        from noisecli.noise.recipe import Recipe, Sweep

        noise = self.noise
        if isinstance(noise, Recipe):
            if self.media not in noise.media:
                raise UsageError(
                    f"{noise.source or 'the recipe'} is an {noise.medium} recipe: "
                    f"it cannot noise {self.media} files"
                )
            if self.audio is not None and self.audio.level_given:
                raise UsageError(
                    "--snr/--level do not apply with --recipe: each step of an audio recipe "
                    "sets its own snr or level"
                )
        elif self.media not in noise.media:
            raise UsageError(f"noise {noise.name!r} does not apply to {self.media}")
        if isinstance(noise, Sweep) and (self.to_stdout or "-" in self.inputs):
            raise UsageError("--sweep writes a tree of outputs: '-' is not supported")

    def noise_of(self, variant: int | None) -> Noise:
        """The noise of one output: the run's, or variant ``variant`` of its sweep."""
        if variant is None:
            return self.noise
        from noisecli.noise.recipe import Sweep

        if not isinstance(self.noise, Sweep):
            raise UsageError("a job names a variant, but the run is not a sweep")
        return self.noise.variants[variant].noise

    @property
    def variants(self) -> tuple[Variant, ...]:
        """A sweep's variants (noise, severity), in order; () for any other noise."""
        from noisecli.noise.recipe import Sweep

        return self.noise.variants if isinstance(self.noise, Sweep) else ()

    @property
    def noise_label(self) -> str:
        """What the manifest's noise column says: the noise's name, ``recipe:FILE``."""
        from noisecli.noise.recipe import Recipe

        return self.noise.label if isinstance(self.noise, Recipe) else self.noise.name

    @property
    def to_stdout(self) -> bool:
        return self.output == "-"

    @property
    def on_cluster(self) -> bool:
        return bool(self.scheduler or self.scheduler_file)
