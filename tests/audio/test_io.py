"""Audio reading and writing: formats, subtypes, rounding, truncation, encoder limits."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from noisecli.audio.io import (
    ENCODER_FRAMES,
    LOSSY_SUBTYPES,
    AudioFileInfo,
    AudioWriter,
    SampleFormat,
    array_format,
    is_audio_name,
    output_target,
    probe,
    read_blocks,
    sample_format,
)
from noisecli.errors import InputError, OutputError, UsageError
from tests.audio_support import FORMATS, speech_like, write

LOSSLESS = [(c, s, e) for e, c, s in FORMATS if s not in LOSSY_SUBTYPES]
LOSSY = [(c, s, e) for e, c, s in FORMATS if s in LOSSY_SUBTYPES]


def test_audio_names() -> None:
    for name in ("a.wav", "b.FLAC", "c.ogg", "d.opus", "e.aif", "f.aiff", "g.mp3", "x/y.Wav"):
        assert is_audio_name(name), name
    for name in ("a.png", "wav", ".wav", "a.wav.txt", "notes"):
        assert not is_audio_name(name), name


def test_mp3_is_supported_by_the_bundled_libsndfile() -> None:
    assert "MP3" in sf.available_formats()


@pytest.mark.parametrize(
    ("subtype", "dtype", "bits"),
    [
        ("PCM_16", "int16", 16),
        ("PCM_U8", "int16", 8),
        ("PCM_24", "int32", 24),
        ("PCM_32", "int32", 32),
        ("FLOAT", "float32", None),
        ("DOUBLE", "float64", None),
        ("VORBIS", "float32", None),
        ("MPEG_LAYER_III", "float32", None),
        ("ULAW", "int16", 16),
    ],
)
def test_sample_format_of_subtypes(subtype: str, dtype: str, bits: int | None) -> None:
    assert sample_format(subtype) == SampleFormat(dtype, bits)


def test_pcm24_rounds_to_nearest_step_inside_an_int32() -> None:
    fmt = sample_format("PCM_24")
    step = 2.0**-23
    y = np.array([[0.4 * step], [0.6 * step], [-0.6 * step], [5 * step + 0.49 * step]])
    out, clipped = fmt.from_unit(y.copy())
    assert out.dtype == np.int32
    assert (out // 256).ravel().tolist() == [0, 1, -1, 5]
    assert (out % 256 == 0).all()
    assert clipped == 0
    assert np.array_equal(fmt.to_unit(out).ravel(), np.array([0, 1, -1, 5]) * step)


def test_integer_clipping_counts_values_beyond_the_range() -> None:
    fmt = sample_format("PCM_16")
    y = np.array([[1.5], [-1.2], [0.25], [32767 / 32768], [np.nan]])
    out, clipped = fmt.from_unit(y)
    assert out.ravel().tolist() == [32767, -32768, 8192, 32767, -32768]
    assert clipped == 3


def test_float_clipping_and_no_clip() -> None:
    fmt = sample_format("FLOAT")
    out, clipped = fmt.from_unit(np.array([[1.25], [-3.0], [0.5]]))
    assert out.ravel().tolist() == [1.0, -1.0, 0.5]
    assert clipped == 2
    out, clipped = fmt.from_unit(np.array([[1.25], [-3.0], [0.5]]), no_clip=True)
    assert out.ravel().tolist() == [1.25, -3.0, 0.5]
    assert clipped == 0


def test_array_formats() -> None:
    assert array_format(np.dtype(np.int16)).bits == 16
    assert array_format(np.dtype(np.float64)).dtype == "float64"
    with pytest.raises(UsageError, match="int16"):
        array_format(np.dtype(np.uint8))


def _copy(src: Path, dst: Path, chunk: int) -> None:
    info = probe(str(src))
    fmt = sample_format(info.subtype)
    with AudioWriter(
        dst, info.container, info.subtype, info.sample_rate, info.channels, info.metadata
    ) as writer:
        for block in read_blocks(str(src), fmt.dtype, chunk):
            assert block.dtype == np.dtype(fmt.dtype)
            writer.write(block)


@pytest.mark.parametrize(("container", "subtype", "ext"), LOSSLESS)
def test_lossless_round_trip_is_exact(
    tmp_path: Path, container: str, subtype: str, ext: str
) -> None:
    data = speech_like(12345, 44100, channels=3, seed=1)
    src = tmp_path / f"in.{ext}"
    with sf.SoundFile(src, "w", 44100, 3, subtype, format=container) as fh:
        fh.title = "take 1"
        fh.write(data)
    dst = tmp_path / f"out.{ext}"
    _copy(src, dst, chunk=1000)
    a, b = sf.info(src), sf.info(dst)
    assert (b.format, b.subtype, b.samplerate, b.channels, b.frames) == (
        container,
        subtype,
        44100,
        3,
        12345,
    )
    assert a.frames == b.frames
    read_dtype = sample_format(subtype).dtype
    assert np.array_equal(sf.read(src, dtype=read_dtype)[0], sf.read(dst, dtype=read_dtype)[0])
    with sf.SoundFile(dst) as fh:
        assert fh.title == "take 1"


@pytest.mark.parametrize(("container", "subtype", "ext"), LOSSY)
def test_lossy_round_trip_keeps_format_rate_channels_and_length(
    tmp_path: Path, container: str, subtype: str, ext: str
) -> None:
    data = speech_like(22050, 22050, channels=2, seed=2)
    src = write(tmp_path / f"in.{ext}", data, 22050, subtype, container)
    dst = tmp_path / f"out.{ext}"
    _copy(src, dst, chunk=777)
    b = sf.info(dst)
    assert (b.format, b.subtype, b.samplerate, b.channels, b.frames) == (
        container,
        subtype,
        22050,
        2,
        22050,
    )
    # lossy: close to the source, not equal (a codec, not a copy)
    diff = sf.read(dst)[0] - sf.read(src)[0]
    assert np.sqrt(np.mean(diff**2)) < 0.05


def _info(container: str, subtype: str) -> AudioFileInfo:
    return AudioFileInfo(container, subtype, 48000, 2, 100)


@pytest.mark.parametrize(
    ("container", "subtype", "requested", "expected"),
    [
        ("WAV", "PCM_24", "keep", ("WAV", "PCM_24")),
        ("WAV", "PCM_16", "flac", ("FLAC", "PCM_16")),
        ("WAV", "PCM_24", "flac", ("FLAC", "PCM_24")),
        ("WAV", "FLOAT", "flac", ("FLAC", "PCM_24")),
        ("WAV", "PCM_32", "flac", ("FLAC", "PCM_24")),
        ("WAV", "FLOAT", "aiff", ("AIFF", "FLOAT")),
        ("FLAC", "PCM_16", "ogg", ("OGG", "VORBIS")),
        ("WAV", "PCM_16", "mp3", ("MP3", "MPEG_LAYER_III")),
        ("OGG", "VORBIS", "wav", ("WAV", "PCM_16")),
        ("MP3", "MPEG_LAYER_III", "flac", ("FLAC", "PCM_16")),
    ],
)
def test_output_target(
    container: str, subtype: str, requested: str, expected: tuple[str, str]
) -> None:
    assert output_target(_info(container, subtype), requested) == expected


def test_probe_reports_format_details(tmp_path: Path) -> None:
    src = write(tmp_path / "a.flac", speech_like(4800, 48000, 2), 48000, "PCM_24")
    info = probe(str(src))
    assert (info.container, info.subtype, info.sample_rate, info.channels, info.frames) == (
        "FLAC",
        "PCM_24",
        48000,
        2,
        4800,
    )


def _truncate(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


@pytest.mark.parametrize(
    ("container", "subtype", "ext"),
    [("WAV", "PCM_16", "wav"), ("AIFF", "PCM_16", "aiff"), ("OGG", "VORBIS", "ogg")],
)
def test_truncated_files_are_refused(
    tmp_path: Path, container: str, subtype: str, ext: str
) -> None:
    src = write(tmp_path / f"a.{ext}", speech_like(48000, 48000), 48000, subtype, container)
    _truncate(src, 0.6)
    with pytest.raises(InputError, match="truncated"):
        probe(str(src))


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b"RIFF\x00\x00\x00\x00WAVEjunk", "not a readable audio file")],
)
def test_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with pytest.raises(InputError, match=reason):
        probe(str(bad))


def test_zero_frames_is_an_input_error(tmp_path: Path) -> None:
    src = write(tmp_path / "z.wav", np.zeros((0, 1)), 8000)
    with pytest.raises(InputError, match="no audio frames"):
        probe(str(src))


def test_vorbis_rate_limit_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="200000 Hz"):
        AudioWriter(tmp_path / "x.ogg", "OGG", "VORBIS", 384000, 1)


def test_unsupported_rate_for_mp3_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="sample rate"):
        AudioWriter(tmp_path / "x.mp3", "MP3", "MPEG_LAYER_III", 96000, 1)


def test_one_long_vorbis_write_does_not_crash(tmp_path: Path) -> None:
    """libvorbis overflows the stack on one 3-million-frame write; AudioWriter splits it."""
    code = (
        "import numpy as np, pathlib\n"
        "from noisecli.audio.io import AudioWriter\n"
        f"p = pathlib.Path({str(tmp_path / 'long.ogg')!r})\n"
        "x = (np.random.default_rng(0).standard_normal((3_000_000, 1)) * 0.1).astype('float32')\n"
        "with AudioWriter(p, 'OGG', 'VORBIS', 44100, 1) as w:\n"
        "    w.write(x)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert sf.info(tmp_path / "long.ogg").frames == 3_000_000


class _FailingFile:
    """Stands in for an open SoundFile whose writes fail inside libsndfile."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, block: np.ndarray) -> None:
        raise sf.LibsndfileError(2, prefix="Error writing: ")

    def close(self) -> None:
        pass


def test_write_errors_become_output_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from noisecli.audio import io as audio
    from noisecli.errors import DiskFullError

    writer = AudioWriter(tmp_path / "x.wav", "WAV", "PCM_16", 8000, 1)
    writer.close()
    writer._fh = _FailingFile(str(tmp_path / "x.wav"))
    with pytest.raises(OutputError, match="cannot write audio") as caught:
        writer.write(np.zeros((10, 1), np.int16))
    assert not isinstance(caught.value, DiskFullError)

    class Full:
        free = 0

    monkeypatch.setattr(audio.shutil, "disk_usage", lambda path: Full)
    with pytest.raises(DiskFullError, match="no space left"):
        writer.write(np.zeros((10, 1), np.int16))


FLOATS = [("WAV", "FLOAT", "wav"), ("WAV", "DOUBLE", "wav"), ("AIFF", "FLOAT", "aiff")]
FLOATS += [("AIFF", "DOUBLE", "aiff")]


def _write_once(path: Path, container: str, subtype: str, blocks: list[np.ndarray]) -> bytes:
    with AudioWriter(path, container, subtype, 16000, blocks[0].shape[1]) as writer:
        for block in blocks:
            writer.write(block)
    return path.read_bytes()


def test_float_files_are_identical_when_written_again_later(tmp_path: Path) -> None:
    """libsndfile's PEAK chunk holds the time of writing; the writer leaves it out."""
    x = (speech_like(5000, 16000, channels=2, seed=3) * 1.7).astype(np.float32)
    first = {
        s + e: _write_once(tmp_path / f"1-{s}.{e}", c, s, [x[:1234], x[1234:]])
        for c, s, e in FLOATS
    }
    time.sleep(1.1)  # the timestamp counts seconds
    for container, subtype, ext in FLOATS:
        again = _write_once(tmp_path / f"2-{subtype}.{ext}", container, subtype, [x])
        assert again == first[subtype + ext], (container, subtype)
        assert b"PEAK" not in again
        back, _ = sf.read(tmp_path / f"2-{subtype}.{ext}", dtype="float32")
        assert np.array_equal(back, x)
        assert sf.info(tmp_path / f"2-{subtype}.{ext}").subtype == subtype


def _encodable(container: str, subtype: str) -> None:
    if container not in sf.available_formats() or not sf.check_format(container, subtype):
        pytest.skip(f"this libsndfile does not write {container}/{subtype}")


def _cuts(frames: int, sizes: list[int]) -> list[tuple[int, int]]:
    """Consecutive (start, stop) blocks of the given sizes, repeated, covering ``frames``."""
    out, start, i = [], 0, 0
    while start < frames:
        stop = min(frames, start + sizes[i % len(sizes)])
        out.append((start, stop))
        start, i = stop, i + 1
    return out


@pytest.mark.parametrize(
    ("container", "subtype", "ext", "rate"),
    [
        ("OGG", "VORBIS", "ogg", 44100),
        ("OGG", "OPUS", "opus", 48000),
        ("MP3", "MPEG_LAYER_III", "mp3", 44100),
    ],
)
def test_lossy_bytes_do_not_depend_on_block_sizes(
    tmp_path: Path, container: str, subtype: str, ext: str, rate: int
) -> None:
    _encodable(container, subtype)
    x = speech_like(2 * rate + 123, rate, channels=2, seed=4).astype(np.float32)
    ways = [
        [len(x)],
        [1000],
        [ENCODER_FRAMES],
        [ENCODER_FRAMES - 1, 1, 0, 2 * ENCODER_FRAMES + 5],
        [65536],
        [7, 30000, 1],
    ]
    outputs = set()
    for n, sizes in enumerate(ways):
        path = tmp_path / f"{n}.{ext}"
        with AudioWriter(path, container, subtype, rate, 2) as writer:
            for start, stop in _cuts(len(x), sizes):
                writer.write(x[start:stop])
        outputs.add(path.read_bytes())
        assert sf.info(path).channels == 2
    assert len(outputs) == 1
    assert abs(sf.info(tmp_path / f"0.{ext}").frames - len(x)) < 4096


def test_ogg_pages_carry_a_serial_of_their_content_and_valid_checksums(tmp_path: Path) -> None:
    """libsndfile draws the stream serial from the clock; the writer replaces it."""
    from noisecli.audio.io import _ogg_crc, _ogg_pages

    x = speech_like(30000, 22050, channels=1, seed=5).astype(np.float32)
    a = _write_once(tmp_path / "a.ogg", "OGG", "VORBIS", [x])
    b = _write_once(tmp_path / "b.ogg", "OGG", "VORBIS", [x[:5], x[5:]])
    c = _write_once(tmp_path / "c.ogg", "OGG", "VORBIS", [x * 0.5])
    assert a == b
    assert a[14:18] != c[14:18]  # another content, another serial
    with open(tmp_path / "c.ogg", "rb") as fh:
        pages = list(_ogg_pages(fh))
    assert len(pages) > 2
    assert sum(len(page) for _, page in pages) == len(c)
    for _, page in pages:
        assert page[14:18] == c[14:18]
        stored = bytes(page[22:26])
        page[22:26] = bytes(4)
        assert _ogg_crc(page).to_bytes(4, "little") == stored
    # and what libsndfile wrote itself passes the same check
    sf.write(tmp_path / "raw.ogg", x, 22050)
    with open(tmp_path / "raw.ogg", "rb") as fh:
        for _, page in _ogg_pages(fh):
            stored = bytes(page[22:26])
            page[22:26] = bytes(4)
            assert _ogg_crc(page).to_bytes(4, "little") == stored
    back, _ = sf.read(tmp_path / "c.ogg")
    assert len(back) == len(x)


def test_a_lossy_writer_left_by_an_error_does_not_encode_what_it_held(tmp_path: Path) -> None:
    x = np.zeros((ENCODER_FRAMES + 100, 1), np.float32)
    written: list[int] = []
    with (
        pytest.raises(RuntimeError),
        AudioWriter(tmp_path / "x.ogg", "OGG", "VORBIS", 8000, 1) as w,
    ):
        real = w._fh.write
        w._fh.write = lambda block: (written.append(len(block)), real(block))
        w.write(x)
        raise RuntimeError("stop")
    assert written == [ENCODER_FRAMES]
