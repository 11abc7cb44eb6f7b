"""Recorded background noise (a folder of noise files, e.g. MUSAN-style), as a stream.

For each output one file and a start offset are drawn from the seed. A recording longer
than the input gives one plain excerpt. A shorter one is looped while the input lasts:
the loop has period ``N - L`` (``N`` frames, crossfade ``L`` = 50 ms or ``N/2`` if
shorter) and its first ``L`` frames are the equal-power crossfade
``s[p]·sin(φ) + s[N-L+p]·cos(φ)``, ``φ = π/2·(p + ½)/L``, so the end of each lap runs
into the start of the next without a step. A file at another sample rate is resampled;
mono noise goes to every channel, noise with the input's channel count is used as is, any
other count is downmixed to mono first.

The model (which file, which offset, looped or not) lives here; reading, looping and
resampling the files is the audio package's (``noisecli.audio.recordings``), handed in as
a :class:`Recordings`. A noise built from text (``--background DIR``) holds the text until
the audio package binds it to the files it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Protocol

from noisecli.errors import InputError, UsageError
from noisecli.noise.base import MediaInfo, Param, Prepared
from noisecli.noise.stream import MONO, AudioNoise, NoiseStream
from noisecli.rng.keys import OutputRandom

CROSSFADE_SECONDS = 0.05


class RecordingInfo(NamedTuple):
    frames: int
    sample_rate: int
    channels: int


class Recordings(Protocol):
    """Noise recordings to draw from, and how to play one of them."""

    @property
    def files(self) -> tuple[str, ...]:
        """The recordings, in a fixed order (the seed picks one by index)."""

    def probe(self, path: str) -> RecordingInfo:
        """Length, rate and channels of one recording (``InputError`` if unreadable)."""

    def lead_frames(self, rate_in: int, rate_out: int) -> int:
        """Frames of margin the resampler needs on each side (0 for equal rates)."""

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
        """The recording looped from ``start`` (loop position), matched to the output."""


def _keep_text(text: str, option: str) -> str:
    return text


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
            _keep_text,
            metavar="DIR|FILE",
        ),
        MONO,
    )

    background: str | tuple[str, ...] | Recordings | None = None
    mono: bool = False

    def __post_init__(self) -> None:
        if not self.background:
            raise UsageError("noise 'background' needs --background DIR|FILE")

    def check(self, info: MediaInfo) -> None:
        if info.sample_rate is None:
            raise UsageError("noise 'background' needs the sample rate of the audio")

    @property
    def recordings(self) -> Recordings:
        """The bound recordings (see ``noisecli.audio.recordings.bind``)."""
        if self.background is None or isinstance(self.background, str | tuple):
            raise UsageError("noise 'background' was not bound to its recordings")
        return self.background

    def prepare(self, info: MediaInfo, rnd: OutputRandom) -> Prepared:
        draws = rnd.draws
        self.check(info)
        recordings = self.recordings
        rate = int(info.sample_rate or 0)
        files = recordings.files
        path = files[draws.integers(0, len(files) - 1)]
        try:
            meta = recordings.probe(path)
        except InputError as exc:
            raise InputError(f"background {path}: {exc}") from None
        if meta.frames < 2:
            raise InputError(f"background {path}: too short to loop ({meta.frames} frame)")
        crossfade = min(round(CROSSFADE_SECONDS * meta.sample_rate), meta.frames // 2)
        period = meta.frames - crossfade
        lead = recordings.lead_frames(meta.sample_rate, rate)
        # recording frames under the output, filter margins included
        needed = -(-info.shape[0] * meta.sample_rate // rate) + 2 * lead
        # a long enough recording gives one plain excerpt, clear of the crossfaded seam
        looped = needed > period - crossfade
        if looped:
            offset = draws.integers(0, period - 1)
        else:
            offset = crossfade + lead + draws.integers(0, period - crossfade - needed)
        params: dict[str, float | str | bool] = {
            "background": path,
            "offset_s": round(offset / meta.sample_rate, 6),
            "looped": looped,
            "mono": self.mono,
        }
        stream = recordings.stream(
            path, meta, crossfade, offset - lead, rate, info.channels, self.mono
        )
        return Prepared(params, stream)
