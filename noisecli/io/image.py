"""Image decoding and encoding with OpenCV, from and to bytes.

Working on bytes (not paths) keeps any file name readable, allows stdin/stdout, and lets us
check that a file is complete before decoding: OpenCV fills a truncated JPEG with grey and
only warns. Decoding keeps dtype (uint8, uint16, float32), channel count and alpha; JPEGs
are turned as their EXIF orientation says, so they look as displayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from noisecli.errors import InputError, OutputError
from noisecli.io import has_extension

if TYPE_CHECKING:
    from types import ModuleType

# extension -> canonical format name
EXTENSIONS: dict[str, str] = {
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".jpe": "jpg",
    ".webp": "webp",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
}
FORMAT_EXTENSION = {"png": ".png", "jpg": ".jpg", "webp": ".webp", "tiff": ".tif", "bmp": ".bmp"}
# sample types each writer keeps
FORMAT_DTYPES = {
    "png": ("uint8", "uint16"),
    "jpg": ("uint8",),
    "webp": ("uint8",),
    "tiff": ("uint8", "uint16", "float32"),
    "bmp": ("uint8",),
}
FORMAT_CHANNELS = {
    "png": (1, 2, 3, 4),
    "jpg": (1, 3),
    "webp": (3, 4),
    "tiff": (1, 3, 4),
    "bmp": (1, 3, 4),
}

_cv2: ModuleType | None = None


def cv2() -> ModuleType:
    """Import OpenCV on first use (``noisecli --help`` must not pay for it)."""
    global _cv2
    if _cv2 is None:
        import cv2 as module

        _cv2 = module
    return _cv2


def is_image_name(name: str) -> bool:
    return has_extension(name, EXTENSIONS)


def sniff_format(data: bytes) -> str | None:
    """The format named by the file's magic bytes, whatever its extension."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def _check_complete(data: bytes, fmt: str) -> None:
    """Refuse files whose end is missing: decoders would otherwise pad them silently."""
    if fmt == "jpg":
        tail = data.rstrip(b"\x00 \r\n\t")
        if not tail.endswith(b"\xff\xd9"):
            raise InputError("truncated JPEG (no end-of-image marker)")
    elif fmt == "png":
        tail = data[-64:]
        if b"IEND" not in tail:
            raise InputError("truncated PNG (no IEND chunk)")
    elif fmt == "webp" and len(data) >= 8:
        declared = int.from_bytes(data[4:8], "little") + 8
        if len(data) < declared:
            raise InputError(f"truncated WebP ({len(data)} of {declared} bytes)")


def decode_image(data: bytes) -> tuple[np.ndarray, str]:
    """Decode image bytes; return the array (HxW or HxWxC, BGR[A]) and the detected format."""
    if not data:
        raise InputError("empty file")
    fmt = sniff_format(data)
    if fmt is None:
        raise InputError("not a supported image (unknown file signature)")
    _check_complete(data, fmt)
    cv = cv2()
    # JPEG has no alpha: decode so that OpenCV applies the EXIF orientation.
    flags = cv.IMREAD_ANYCOLOR | cv.IMREAD_ANYDEPTH if fmt == "jpg" else cv.IMREAD_UNCHANGED
    array = cv.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if array is None or array.size == 0:
        raise InputError(f"corrupt or undecodable {fmt.upper()} data")
    if array.dtype.name not in ("uint8", "uint16", "float32"):
        raise InputError(f"unsupported sample type {array.dtype} (uint8, uint16, float32 only)")
    return array, fmt


def output_format(requested: str, source_format: str) -> str:
    """The format to write: the requested one, or the source's for ``keep``."""
    return source_format if requested == "keep" else requested


def check_encodable(array: np.ndarray, fmt: str) -> None:
    """Raise OutputError when ``fmt`` cannot hold this image without loss of depth/alpha."""
    channels = 1 if array.ndim == 2 else array.shape[2]
    if array.dtype.name not in FORMAT_DTYPES[fmt]:
        kept = ", ".join(f for f, d in FORMAT_DTYPES.items() if array.dtype.name in d)
        raise OutputError(
            f"{fmt.upper()} cannot store {array.dtype} images; use --format {kept.split(', ')[0]}"
        )
    if channels not in FORMAT_CHANNELS[fmt]:
        what = "alpha" if channels in (2, 4) else f"{channels} channels"
        raise OutputError(f"{fmt.upper()} cannot store {what}; use --format png")


def encode_image(array: np.ndarray, fmt: str, quality: int = 95) -> bytes:
    """Encode to ``fmt`` bytes; quality applies to JPEG and WebP."""
    check_encodable(array, fmt)
    cv = cv2()
    params: list[Any] = []
    if fmt == "jpg":
        params = [cv.IMWRITE_JPEG_QUALITY, int(quality)]
    elif fmt == "webp":
        params = [cv.IMWRITE_WEBP_QUALITY, max(1, int(quality))]
    ok, buf = cv.imencode(FORMAT_EXTENSION[fmt], array, params)
    if not ok:
        raise OutputError(f"OpenCV could not encode a {array.dtype} image as {fmt.upper()}")
    return bytes(buf.tobytes())
