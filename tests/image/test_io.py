from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from noisecli.errors import InputError, OutputError
from noisecli.image.io import decode_image, encode_image, sniff_format, write_image
from tests.conftest import synthetic_image

LOSSLESS = [
    ("png", 1, "uint8"),
    ("png", 3, "uint8"),
    ("png", 4, "uint8"),
    ("png", 1, "uint16"),
    ("png", 3, "uint16"),
    ("png", 4, "uint16"),
    ("tiff", 1, "uint8"),
    ("tiff", 3, "uint16"),
    ("tiff", 4, "uint16"),
    ("tiff", 1, "float32"),
    ("tiff", 3, "float32"),
    ("tiff", 4, "float32"),
    ("bmp", 3, "uint8"),
    ("webp", 4, "uint8"),
]


@pytest.mark.parametrize(("fmt", "channels", "dtype"), LOSSLESS)
def test_lossless_round_trip(fmt: str, channels: int, dtype: str) -> None:
    img = synthetic_image(23, 17, channels=channels, dtype=dtype, seed=1)
    data = encode_image(img, fmt, quality=100)
    back, detected = decode_image(data)
    assert detected == fmt
    assert back.dtype == img.dtype and back.shape == img.shape
    assert np.array_equal(back, img)


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_round_trip_keeps_layout(channels: int) -> None:
    img = synthetic_image(40, 30, channels=channels, seed=2)
    back, fmt = decode_image(encode_image(img, "jpg", quality=95))
    assert fmt == "jpg" and back.shape == img.shape and back.dtype == np.uint8
    assert np.abs(back.astype(int) - img).mean() < 8  # lossy, but the same picture


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    tiff = b"MM\x00*" + struct.pack(">IH", 8, 1)
    tiff += struct.pack(">HHII", 0x0112, 3, 1, orientation << 16) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def test_jpeg_is_turned_as_displayed() -> None:
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :10] = 255  # white strip on the left
    data = _with_exif_orientation(encode_image(img, "jpg"), 6)  # 6: rotate 90° clockwise
    back, _ = decode_image(data)
    assert back.shape == (40, 20, 3)
    assert back[:10].mean() > 200 and back[-10:].mean() < 50  # the strip is now on top


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"hello, this is text\n", "unknown file signature"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "truncated PNG"),
    ],
)
def test_bad_bytes_are_input_errors(data: bytes, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        decode_image(data)


@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_truncated_files_are_refused(fmt: str) -> None:
    img = synthetic_image(64, 64, seed=3)
    data = encode_image(img, fmt, quality=90)
    with pytest.raises(InputError, match="truncated"):
        decode_image(data[: len(data) * 2 // 3])


def test_corrupt_jpeg_body_is_refused_or_decoded_whole() -> None:
    img = synthetic_image(64, 64, seed=3)
    data = bytearray(encode_image(img, "jpg"))
    data[4:40] = b"\x00" * 36  # destroy the header segments, keep the end marker
    with pytest.raises(InputError):
        decode_image(bytes(data))


def test_sniff_ignores_extension() -> None:
    img = synthetic_image(8, 8, seed=1)
    assert sniff_format(encode_image(img, "png")) == "png"
    assert sniff_format(encode_image(img, "jpg")) == "jpg"
    assert sniff_format(encode_image(img, "tiff")) == "tiff"


@pytest.mark.parametrize(
    ("array", "fmt", "reason"),
    [
        (np.zeros((4, 4, 3), np.uint16), "jpg", "cannot store uint16"),
        (np.zeros((4, 4, 4), np.uint8), "jpg", "cannot store alpha"),
        (np.zeros((4, 4, 3), np.float32), "png", "cannot store float32"),
        (np.zeros((4, 4), np.uint8), "webp", "cannot store grayscale"),
        (np.zeros((4, 4, 2), np.uint8), "png", "grayscale with alpha"),
    ],
)
def test_unencodable_combinations_are_output_errors(
    array: np.ndarray, fmt: str, reason: str
) -> None:
    with pytest.raises(OutputError, match=reason):
        encode_image(array, fmt)


def test_quality_changes_jpeg_size() -> None:
    img = synthetic_image(64, 64, seed=5)
    assert len(encode_image(img, "jpg", 50)) < len(encode_image(img, "jpg", 100))
    assert cv2.imdecode(np.frombuffer(encode_image(img, "jpg", 50), np.uint8), -1) is not None


WRITTEN = [*LOSSLESS, ("jpg", 3, "uint8"), ("jpg", 1, "uint8"), ("webp", 3, "uint8")]


@pytest.mark.parametrize(("fmt", "channels", "dtype"), WRITTEN)
def test_a_written_file_holds_the_encoded_bytes(
    fmt: str, channels: int, dtype: str, tmp_path: Path
) -> None:
    """OpenCV's file writer streams to a temp file that is renamed: the bytes are those of
    encode_image, whatever the name's own extension, and no temp file stays."""
    img = synthetic_image(41, 29, channels=channels, dtype=dtype, seed=2)
    dst = tmp_path / "sub" / "named.jpg"  # --format keep may give any extension
    write_image(str(dst), img, fmt, quality=90)
    assert dst.read_bytes() == encode_image(img, fmt, quality=90)
    assert [p.name for p in tmp_path.rglob("*")] == ["sub", "named.jpg"]


def test_a_failing_writer_falls_back_to_the_bytes_and_their_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = synthetic_image(20, 10, channels=3, seed=3)
    monkeypatch.setattr(cv2, "imwrite", lambda *args: False)
    write_image(str(tmp_path / "a.png"), img, "png")
    assert (tmp_path / "a.png").read_bytes() == encode_image(img, "png")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OutputError, match=r"cannot write .*file/b\.png"):
        write_image(str(tmp_path / "file" / "b.png"), img, "png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "file"]


def test_names_opencv_cannot_take_are_written_through_the_bytes(tmp_path: Path) -> None:
    """A name that is not UTF-8 (its bytes held as lone surrogates) would crash OpenCV's
    writer: it is written from the encoded bytes instead."""
    img = synthetic_image(12, 8, channels=3, seed=4)
    name = os.fsdecode(b"latin1_\xe9.png")
    write_image(str(tmp_path / name), img, "png")
    assert (tmp_path / name).read_bytes() == encode_image(img, "png")
    write_image(str(tmp_path / "ünï.png"), img, "png")
    assert (tmp_path / "ünï.png").read_bytes() == encode_image(img, "png")
