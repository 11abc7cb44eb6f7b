"""Audio reading and writing with soundfile (libsndfile), one block of frames at a time.

The output keeps the input's container, subtype, sample rate, channel count and text
metadata; ``--format`` converts the container (and the subtype only where the target
cannot hold it). Samples are read in the cheapest exact type: 16-bit and narrower PCM as
int16 (a plain copy, measured 4x faster than soundfile's float conversion), 24/32-bit PCM
as int32, FLOAT/DOUBLE as float32/float64, lossy codecs as float32 (the decoder's own type).
soundfile is imported on first use so that planning and ``--help`` never load it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, BinaryIO, Literal

import numpy as np

from noisecli.batch.medium import has_extension
from noisecli.errors import DiskFullError, InputError, OutputError, UsageError
from noisecli.ranges import clip_to_range

# extension -> canonical --format name
EXTENSIONS: dict[str, str] = {
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "ogg",
    ".aif": "aiff",
    ".aiff": "aiff",
    ".aifc": "aiff",
    ".mp3": "mp3",
}
FORMAT_EXTENSION = {"wav": ".wav", "flac": ".flac", "ogg": ".ogg", "aiff": ".aiff", "mp3": ".mp3"}
CONTAINER = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "aiff": "AIFF", "mp3": "MP3"}

# subtypes read as int32 (24/32-bit PCM); their resolution in bits
WIDE_PCM = {"PCM_24": 24, "PCM_32": 32, "DWVW_24": 24}
# subtypes held in int16; their resolution in bits (companded and ADPCM codecs decode to 16)
NARROW_PCM = {"PCM_S8": 8, "PCM_U8": 8, "DPCM_8": 8, "DWVW_12": 12}
FLOAT_SUBTYPES = {"FLOAT": "float32", "DOUBLE": "float64"}
LOSSY_SUBTYPES = {"VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"}
# kept when converting to FLAC from a source with more than 16 bits
HIGH_RESOLUTION = {"PCM_24", "PCM_32", "FLOAT", "DOUBLE"}
# libvorbis crashes the process above this rate (measured with libsndfile 1.2.2)
VORBIS_MAX_RATE = 200_000
# frames per call to a lossy encoder: libvorbis puts the whole call on the stack
ENCODER_FRAMES = 8192
# libsndfile's command to add or omit the PEAK chunk of float WAV/AIFF (sndfile.h)
SFC_SET_ADD_PEAK_CHUNK = 0x1050


def soundfile() -> ModuleType:
    """soundfile, imported on first use (``sys.modules`` keeps it afterwards)."""
    return importlib.import_module("soundfile")


def is_audio_name(name: str) -> bool:
    return has_extension(name, EXTENSIONS)


@dataclass(frozen=True)
class SampleFormat:
    """How samples are held in memory and which values they can take.

    Values are handled in full-scale units (1.0 is full scale). An integer format of
    ``bits`` resolution stored in ``dtype`` holds ``k / 2**(bits-1)`` for integer ``k`` in
    ``[-2**(bits-1), 2**(bits-1) - 1]`` (24-bit PCM lives in the top bits of an int32).
    """

    dtype: str
    bits: int | None = None  # None: floating point

    @property
    def integer(self) -> bool:
        return self.bits is not None

    @property
    def _container_bits(self) -> int:
        return np.dtype(self.dtype).itemsize * 8

    @property
    def container_scale(self) -> float:
        """Full scale in the array's own units: ``2^(container bits - 1)``, 1.0 for floats."""
        return 2.0 ** (self._container_bits - 1) if self.integer else 1.0

    @property
    def resolution_scale(self) -> float:
        """Full scale in steps of the format's resolution: ``2^(bits - 1)``, 1.0 for floats."""
        return 2.0 ** (self.bits - 1) if self.bits is not None else 1.0

    def limits(self, no_clip: bool = False) -> tuple[float, float]:
        """Valid range in full-scale units; floats are unbounded with ``no_clip``."""
        if self.bits is not None:
            return -1.0, 1.0 - 2.0 ** (1 - self.bits)
        return (-np.inf, np.inf) if no_clip else (-1.0, 1.0)

    def to_unit(self, block: np.ndarray) -> np.ndarray:
        """float64 copy of a block in full-scale units (exact for every format)."""
        out = block.astype(np.float64)
        if self.integer:
            out *= 2.0 ** (1 - self._container_bits)
        return out

    def from_unit(self, y: np.ndarray, no_clip: bool = False) -> tuple[np.ndarray, int]:
        """Round to the format's resolution, clip to its range; return (block, clipped count).

        ``y`` (float64, full-scale units) is modified in place.
        """
        if self.integer:
            y *= self.resolution_scale
        clipped = self.round_clip(y, no_clip)
        return self.cast(y), clipped

    def round_clip(self, y: np.ndarray, no_clip: bool = False) -> int:
        """Round ``y`` (in steps of the resolution) to integers for PCM and clip it to the
        format's range, in place; return how many values lay outside the range."""
        lo, hi = self.limits(no_clip)
        if not np.isfinite(hi):
            return 0
        unit = self.resolution_scale
        _, clipped = clip_to_range(y, lo * unit, hi * unit, integer=self.integer)
        return clipped

    def cast(self, y: np.ndarray) -> np.ndarray:
        """The output block for ``y`` in steps of the resolution (already rounded and
        clipped; modified in place): 24-bit PCM moves to the top of its int32, then the
        dtype's cast."""
        if self.integer and self.container_scale != self.resolution_scale:
            y *= self.container_scale / self.resolution_scale
        out: np.ndarray = y.astype(self.dtype)
        return out


def sample_format(subtype: str) -> SampleFormat:
    """The in-memory format of a libsndfile subtype (see the module docstring)."""
    if subtype in WIDE_PCM:
        return SampleFormat("int32", WIDE_PCM[subtype])
    if subtype in FLOAT_SUBTYPES:
        return SampleFormat(FLOAT_SUBTYPES[subtype])
    if subtype in LOSSY_SUBTYPES:
        return SampleFormat("float32")
    return SampleFormat("int16", NARROW_PCM.get(subtype, 16))


ARRAY_FORMATS = {
    "int16": SampleFormat("int16", 16),
    "int32": SampleFormat("int32", 32),
    "float32": SampleFormat("float32"),
    "float64": SampleFormat("float64"),
}


def array_format(dtype: np.dtype[Any]) -> SampleFormat:
    """The format of an in-memory sample array (int16, int32, float32 or float64)."""
    fmt = ARRAY_FORMATS.get(np.dtype(dtype).name)
    if fmt is None:
        raise UsageError(
            f"audio samples must be {', '.join(ARRAY_FORMATS)}, got {np.dtype(dtype).name}"
        )
    return fmt


@dataclass(frozen=True)
class AudioFileInfo:
    """What a file header says: container, subtype, rate, channels, length, text metadata."""

    container: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    metadata: tuple[tuple[str, str], ...] = ()

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("Error opening") and ": " in text else text


def probe(path: str) -> AudioFileInfo:
    """Read a file's header; ``InputError`` for anything libsndfile cannot open."""
    sf = soundfile()
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise InputError("empty file")
    try:
        with sf.SoundFile(os.fsencode(path)) as fh:
            info = AudioFileInfo(
                fh.format,
                fh.subtype,
                int(fh.samplerate),
                int(fh.channels),
                int(fh.frames),
                tuple(sorted(fh.copy_metadata().items())),
            )
    except sf.SoundFileError as exc:
        raise InputError(f"not a readable audio file ({_reason(exc)})") from None
    if info.frames <= 0:
        raise InputError("no audio frames")
    _check_complete(path, info)
    return info


def _riff_shortfall(data_head: bytes, size: int, big_endian: bool, data_id: bytes) -> int:
    """Bytes missing from the sample chunk of a RIFF/AIFF file (0 when complete/unknown)."""
    order: Literal["big", "little"] = "big" if big_endian else "little"
    pos = 12
    while pos + 8 <= len(data_head):
        cid = data_head[pos : pos + 4]
        length = int.from_bytes(data_head[pos + 4 : pos + 8], order)
        if cid == data_id:
            if length in (0, 0xFFFFFFFF):  # streamed writers leave the size unknown
                return 0
            return max(0, pos + 8 + length - size)
        pos += 8 + length + (length & 1)
    return 0


def _ogg_ends(path: str, size: int) -> bool:
    """True if the last Ogg page carries the end-of-stream flag."""
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    at = tail.rfind(b"OggS")
    return at >= 0 and len(tail) > at + 5 and bool(tail[at + 5] & 0x04)


def _check_complete(path: str, info: AudioFileInfo) -> None:
    """Refuse truncated WAV/AIFF/OGG files, which libsndfile shortens without a word."""
    if not os.path.isfile(path):
        return
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(65536)
    missing = 0
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        missing = _riff_shortfall(head, size, False, b"data")
    elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        missing = _riff_shortfall(head, size, True, b"SSND")
    elif head[:4] == b"OggS" and not _ogg_ends(path, size):
        raise InputError("truncated OGG file (no end-of-stream page)")
    if missing:
        raise InputError(f"truncated {info.container} file ({missing} bytes of samples missing)")


def read_blocks(path: str, dtype: str, frames: int) -> Iterator[np.ndarray]:
    """Yield ``(n, channels)`` blocks of at most ``frames`` frames from the start of a file."""
    sf = soundfile()
    try:
        with sf.SoundFile(os.fsencode(path)) as fh:
            while True:
                block = fh.read(frames, dtype=dtype, always_2d=True)
                if not len(block):
                    return
                yield block
    except sf.SoundFileError as exc:
        raise InputError(f"cannot decode audio ({_reason(exc)})") from None


def exact_length(subtype: str) -> bool:
    """Whether the header's frame count is exact (lossy codecs may only estimate it)."""
    return subtype not in LOSSY_SUBTYPES


def output_target(info: AudioFileInfo, requested: str) -> tuple[str, str]:
    """(container, subtype) to write: the source's for ``keep``, else ``requested``'s.

    A converted file keeps the subtype when the target container supports it; FLAC gets
    PCM_24 from a source finer than 16 bits; otherwise the container's default subtype.
    """
    if requested == "keep":
        return info.container, info.subtype
    sf = soundfile()
    container = CONTAINER[requested]
    if sf.check_format(container, info.subtype):
        return container, info.subtype
    if container == "FLAC" and info.subtype in HIGH_RESOLUTION:
        return container, "PCM_24"
    return container, str(sf.default_subtype(container))


def _drop_peak_chunk(sf: ModuleType, fh: Any) -> None:
    """No PEAK chunk in a float WAV/AIFF: libsndfile stamps it with the time of writing.

    soundfile has no wrapper for this command; it must run before the first write.
    """
    sf._snd.sf_command(fh._file, SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, sf._snd.SF_FALSE)


# bit-reversal of every byte: turns zlib's reflected CRC-32 into Ogg's unreflected one
_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))
_OGG_HEADER = 27  # "OggS", version, flags, granule (8), serial (4), sequence (4), CRC (4), count


def _ogg_crc(page: bytes | bytearray) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, no reflection, no init/xorout.

    zlib computes the reflected CRC with init and xorout 0xFFFFFFFF; on bit-reversed bytes
    that is the unreflected one (bit-reversed), and the init/xorout terms cancel against
    the CRC of as many zero bytes (the CRC is affine in its input).
    """
    ones = zlib.crc32(page.translate(_REVERSED_BITS)) ^ zlib.crc32(bytes(len(page)))
    return int(f"{ones:032b}"[::-1], 2)


def _ogg_pages(fh: BinaryIO) -> Iterator[tuple[int, bytearray]]:
    """(offset, page) of every page of an Ogg file, from the start."""
    fh.seek(0)
    offset = 0
    while True:
        head = fh.read(_OGG_HEADER)
        if len(head) < _OGG_HEADER or head[:4] != b"OggS":
            return
        table = fh.read(head[26])
        page = bytearray(head + table)
        page += fh.read(sum(table))
        yield offset, page
        offset += len(page)


def _fix_ogg_serials(path: Path) -> None:
    """Give each logical stream of a written Ogg file a serial number derived from its
    content, in place (and each page its checksum again).

    libsndfile draws the serial from the clock, so two runs would differ in those bytes.
    """
    try:
        with open(path, "r+b") as fh:
            content = 0
            for _, page in _ogg_pages(fh):
                page[14:18] = page[22:26] = bytes(4)
                content = zlib.crc32(page, content)
            serials: dict[bytes, bytes] = {}
            for offset, page in _ogg_pages(fh):
                old = bytes(page[14:18])
                serial = (content + len(serials)) & 0xFFFFFFFF
                page[14:18] = serials.setdefault(old, serial.to_bytes(4, "little"))
                page[22:26] = bytes(4)
                page[22:26] = _ogg_crc(page).to_bytes(4, "little")
                fh.seek(offset + 14)
                fh.write(page[14:26])
                fh.seek(offset + len(page))
    except OSError as exc:
        raise OutputError(f"cannot write audio: {exc.strerror or exc}") from None


class AudioWriter:
    """Write blocks to ``path`` with the given container/subtype; use as a context manager."""

    def __init__(
        self,
        path: Path,
        container: str,
        subtype: str,
        sample_rate: int,
        channels: int,
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> None:
        if subtype == "VORBIS" and sample_rate > VORBIS_MAX_RATE:
            raise OutputError(
                f"OGG/Vorbis cannot encode {sample_rate} Hz audio "
                f"(at most {VORBIS_MAX_RATE} Hz); use --format flac or wav"
            )
        sf = soundfile()
        try:
            self._fh = sf.SoundFile(
                os.fsencode(path), "w", sample_rate, channels, subtype, format=container
            )
        except (sf.SoundFileError, ValueError, TypeError) as exc:
            raise OutputError(
                f"cannot write {container}/{subtype} at {sample_rate} Hz, "
                f"{channels} channel(s): {_reason(exc)}"
            ) from None
        self._path = path
        self._ogg = container == "OGG"
        self._closed = False
        # a lossy encoder's output depends on the size of each write: lossy blocks are
        # regrouped into calls of exactly ENCODER_FRAMES frames (the last one shorter)
        self._lossy = subtype in LOSSY_SUBTYPES
        self._pending: np.ndarray | None = None
        self._filled = 0
        if subtype in FLOAT_SUBTYPES:
            _drop_peak_chunk(sf, self._fh)
        for key, value in metadata:  # skipped where the container has no slot for it
            with contextlib.suppress(sf.SoundFileError, AttributeError, ValueError):
                setattr(self._fh, key, value)

    def write(self, block: np.ndarray) -> None:
        if not self._lossy:
            if len(block):
                with self._errors():
                    self._fh.write(block)
            return
        start, frames = 0, len(block)
        if self._filled:
            start = min(ENCODER_FRAMES - self._filled, frames)
            self._hold(block[:start])
            if self._filled < ENCODER_FRAMES:
                return
            self._encode(self._held())
            self._filled = 0
        whole = start + (frames - start) // ENCODER_FRAMES * ENCODER_FRAMES
        for at in range(start, whole, ENCODER_FRAMES):
            self._encode(block[at : at + ENCODER_FRAMES])
        if whole < frames:
            self._hold(block[whole:])

    def _hold(self, part: np.ndarray) -> None:
        """Copy ``part`` after the frames already waiting for a full encoder block."""
        if self._pending is None:
            self._pending = np.empty((ENCODER_FRAMES, *part.shape[1:]), part.dtype)
        self._pending[self._filled : self._filled + len(part)] = part
        self._filled += len(part)

    def _held(self) -> np.ndarray:
        assert self._pending is not None
        return self._pending[: self._filled]

    def _encode(self, block: np.ndarray) -> None:
        with self._errors():
            self._fh.write(block)

    def close(self, *, complete: bool = True) -> None:
        """Write what is still held and close; ``complete=False`` (after an error) drops it."""
        if self._closed:
            return
        self._closed = True
        try:
            if complete and self._filled:
                self._encode(self._held())
        finally:
            self._filled = 0
            with self._errors():
                self._fh.close()
        if complete and self._ogg:
            _fix_ogg_serials(self._path)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """libsndfile's write errors as OutputError (DiskFullError on a full disk)."""
        sf = soundfile()
        try:
            yield
        except sf.SoundFileError as exc:
            folder = os.path.dirname(os.path.abspath(self._fh.name))
            if shutil.disk_usage(folder).free == 0:
                raise DiskFullError(f"no space left on device while writing {folder}") from None
            raise OutputError(f"cannot write audio: {_reason(exc)}") from None

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(complete=exc_type is None)
