"""Background recordings read from files: the folder search, the crossfaded loop, resampling.

The :class:`~noisecli.noise.background.Background` noise draws which file and where to
start; this module plays it (see that module for the loop's formula).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from noisecli.audio.io import is_audio_name, probe, soundfile
from noisecli.audio.resample import StreamResampler, lead_frames
from noisecli.batch.atomic import is_temp_file
from noisecli.errors import InputError, UsageError
from noisecli.noise.background import Background, RecordingInfo
from noisecli.noise.base import Noise
from noisecli.noise.stream import NoiseStream
from noisecli.rng.reblock import Reblocker

READ_FRAMES = 8192


def find_noise_files(text: str, option: str) -> tuple[str, ...]:
    """The audio files named by ``--background``: one file, or a folder searched recursively."""
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
            resampler = StreamResampler(rate_in, rate_out, width, source.read)
            self._out = Reblocker(resampler.produce, width)

    def _mapped(self) -> np.ndarray:
        block = self._loop.produce()
        return block.mean(axis=1, keepdims=True) if self._mix else block

    def read(self, frames: int) -> np.ndarray:
        block = self._out.read(frames)
        if block.shape[1] != self.channels:
            return np.broadcast_to(block, (frames, self.channels))
        return block

    def close(self) -> None:
        self._loop.close()


@dataclass(frozen=True)
class FileRecordings:
    """Recordings on disk (:class:`~noisecli.noise.background.Recordings`)."""

    files: tuple[str, ...]

    def probe(self, path: str) -> RecordingInfo:
        meta = probe(path)
        return RecordingInfo(meta.frames, meta.sample_rate, meta.channels)

    def lead_frames(self, rate_in: int, rate_out: int) -> int:
        return 0 if rate_in == rate_out else lead_frames(rate_in, rate_out)

    def stream(
        self,
        path: str,
        info: RecordingInfo,
        crossfade: int,
        start: int,
        rate: int,
        channels: int,
        mono: bool,
    ) -> NoiseStream:
        loop = LoopReader(path, info.frames, info.channels, crossfade, start)
        return BackgroundStream(loop, info.sample_rate, rate, channels, mono)


def bind(noise: Noise, option: str = "--background") -> Noise:
    """``noise`` with its recordings opened, if it is a background noise given by text
    (a folder or file) or by a tuple of files; any other noise is returned as is."""
    if not isinstance(noise, Background):
        return noise
    given = noise.background
    if isinstance(given, str):
        files = find_noise_files(given, option)
    elif isinstance(given, tuple):
        files = tuple(str(f) for f in given)
    else:
        return noise
    return dataclasses.replace(noise, background=FileRecordings(files))
