"""Recorded background noise (a folder of noise files, e.g. MUSAN-style), as a stream.

For each output one file and a start offset are drawn from the seed. A recording longer
than the input gives one plain excerpt. A shorter one is looped while the input lasts:
the loop has period ``N - L`` (``N`` frames, crossfade ``L`` = 50 ms or ``N/2`` if
shorter) and its first ``L`` frames are the equal-power crossfade
``s[p]·sin(φ) + s[N-L+p]·cos(φ)``, ``φ = π/2·(p + ½)/L``, so the end of each lap runs
into the start of the next without a step. A file at another sample
rate is resampled (``noisecli.resample``); mono noise goes to every channel, noise with
the input's channel count is used as is, any other count is downmixed to mono first.
The file is read in fixed blocks, so its samples never depend on ``--chunk``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from noisecli.atomic import is_temp_file
from noisecli.errors import InputError, UsageError
from noisecli.noise.base import MediaInfo, Param, Prepared
from noisecli.noise.stream import MONO, AudioNoise, NoiseStream, Reblocker

CROSSFADE_SECONDS = 0.05
READ_FRAMES = 8192


def find_noise_files(text: str, option: str) -> tuple[str, ...]:
    """The audio files named by ``--background``: one file, or a folder searched recursively."""
    from noisecli.io.audio import is_audio_name

    path = Path(text).expanduser()
    if path.is_file():
        return (str(path),)
    if not path.is_dir():
        raise UsageError(f"{option}: {text!r} is neither a file nor a directory")
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        found.extend(
            os.path.join(dirpath, name)
            for name in sorted(filenames)
            if is_audio_name(name) and not is_temp_file(name)
        )
    if not found:
        raise UsageError(f"{option}: no audio file under {text!r}")
    return tuple(found)


class LoopReader:
    """One noise file looped with a crossfade, from loop position ``start``, in float64."""

    def __init__(self, path: str, frames: int, channels: int, crossfade: int, start: int) -> None:
        self.path = path
        self.channels = channels
        self.period = frames - crossfade
        self._fade = crossfade
        self._pos = start % self.period
        self._fh: Any = None
        self._file_pos = -1
        self._head: np.ndarray | None = None

    def _read_at(self, pos: int, frames: int) -> np.ndarray:
        from noisecli.io.audio import soundfile

        if self._fh is None:
            try:
                self._fh = soundfile().SoundFile(self.path)
            except soundfile().SoundFileError as exc:
                raise InputError(f"background {self.path}: cannot open ({exc})") from None
        if self._file_pos != pos:
            self._fh.seek(pos)
        block = self._fh.read(frames, dtype="float64", always_2d=True)
        self._file_pos = pos + len(block)
        if len(block) != frames:
            raise InputError(f"background {self.path}: truncated at frame {pos + len(block)}")
        return np.asarray(block)

    def _crossfaded_head(self) -> np.ndarray:
        if self._head is None:
            phi = (np.arange(self._fade) + 0.5) * (np.pi / 2 / self._fade)
            start = self._read_at(0, self._fade)
            end = self._read_at(self.period, self._fade)
            self._head = start * np.sin(phi)[:, None] + end * np.cos(phi)[:, None]
        return self._head

    def produce(self) -> np.ndarray:
        """The next ``READ_FRAMES`` frames of the loop."""
        out = np.empty((READ_FRAMES, self.channels))
        filled = 0
        while filled < READ_FRAMES:
            if self._pos < self._fade:
                take = min(READ_FRAMES - filled, self._fade - self._pos)
                out[filled : filled + take] = self._crossfaded_head()[self._pos : self._pos + take]
            else:
                take = min(READ_FRAMES - filled, self.period - self._pos)
                out[filled : filled + take] = self._read_at(self._pos, take)
            filled += take
            self._pos = (self._pos + take) % self.period
        return out

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class BackgroundStream(NoiseStream):
    """A looped noise file, matched to the output's channels and sample rate."""

    def __init__(
        self, loop: LoopReader, rate_in: int, rate_out: int, channels: int, mono: bool
    ) -> None:
        self.channels = channels
        self._loop = loop
        self._mix = loop.channels > 1 and (mono or loop.channels != channels)
        width = 1 if self._mix else loop.channels
        source = Reblocker(self._mapped, width)
        self._out: Reblocker = source
        if rate_in != rate_out:
            from noisecli.resample import StreamResampler

            resampler = StreamResampler(rate_in, rate_out, width, source.read)
            self._out = Reblocker(resampler.produce, width)

    def _mapped(self) -> np.ndarray:
        block = self._loop.produce()
        return block.mean(axis=1, keepdims=True) if self._mix else block

    def read(self, frames: int, rng: np.random.Generator) -> np.ndarray:
        block = self._out.read(frames)
        if block.shape[1] != self.channels:
            return np.broadcast_to(block, (frames, self.channels))
        return block

    def close(self) -> None:
        self._loop.close()


@dataclass(frozen=True)
class Background(AudioNoise):
    """``n = loop(s, offset)``: a recorded noise file ``s`` (drawn per output), looped.

    Played from a drawn offset and looped with an equal-power crossfade, resampled to the
    output's rate and matched to its channels (see the module docstring); ``mono`` downmixes
    it and puts the same noise on every channel. The mixer sets the level (``--snr``).
    """

    name: ClassVar[str] = "background"
    aliases: ClassVar[tuple[str, ...]] = ("bg",)
    summary: ClassVar[str] = "recorded noise files (--background DIR|FILE), looped and mixed"
    example: ClassVar[str] = "--background noises/ --snr 0:20"
    cli_params: ClassVar[tuple[Param, ...]] = (
        Param(
            "background",
            "noise recordings to mix in: a folder (searched recursively) or one file",
            find_noise_files,
            metavar="DIR|FILE",
        ),
        MONO,
    )

    background: tuple[str, ...] | None = None
    mono: bool = False

    def __post_init__(self) -> None:
        if not self.background:
            raise UsageError("noise 'background' needs --background DIR|FILE")

    def check(self, info: MediaInfo) -> None:
        if info.sample_rate is None:
            raise UsageError("noise 'background' needs the sample rate of the audio")

    def prepare(self, info: MediaInfo, rng: np.random.Generator) -> Prepared:
        from noisecli.io.audio import probe

        self.check(info)
        rate = int(info.sample_rate or 0)
        files = self.background or ()
        path = files[int(rng.integers(len(files)))]
        try:
            meta = probe(path)
        except InputError as exc:
            raise InputError(f"background {path}: {exc}") from None
        if meta.frames < 2:
            raise InputError(f"background {path}: too short to loop ({meta.frames} frame)")
        crossfade = min(round(CROSSFADE_SECONDS * meta.sample_rate), meta.frames // 2)
        period = meta.frames - crossfade
        lead = 0
        if meta.sample_rate != rate:
            from noisecli.resample import lead_frames

            lead = lead_frames(meta.sample_rate, rate)
        # recording frames under the output, filter margins included
        needed = -(-info.shape[0] * meta.sample_rate // rate) + 2 * lead
        # a long enough recording gives one plain excerpt, clear of the crossfaded seam
        looped = needed > period - crossfade
        if looped:
            offset = int(rng.integers(period))
        else:
            offset = crossfade + lead + int(rng.integers(period - crossfade - needed + 1))
        loop = LoopReader(path, meta.frames, meta.channels, crossfade, offset - lead)
        params: dict[str, float | str | bool] = {
            "background": path,
            "offset_s": round(offset / meta.sample_rate, 6),
            "looped": looped,
            "mono": self.mono,
        }
        stream = BackgroundStream(loop, meta.sample_rate, rate, info.channels, self.mono)
        return Prepared(params, stream)
