"""Drawing for the preview window and the contact sheets: 8-bit views, labels, layout.

Images are shown as 8-bit BGR: uint16 is divided by 257, float32 multiplied by 255, gray is
repeated on three channels, and alpha is composited over a checkerboard. Scaling uses the
nearest pixel so the grain of the noise keeps its amplitude (an averaging filter would hide
it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from noisecli.batch.atomic import write_bytes_atomic
from noisecli.errors import UsageError
from noisecli.image.io import cv2, encode_image
from noisecli.ranges import value_range

CHECKER = 8  # checkerboard square, display pixels
CHECKER_LIGHT, CHECKER_DARK = 204.0, 153.0
BACKGROUND = (40, 40, 40)
TEXT = (235, 235, 235)
GAP = 8  # pixels between panes or tiles
FONT_SCALE = 0.5
LINE = 20  # height of one label line


def to_bgr8(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """An image as float32 BGR in 0..255 and its alpha in 0..1 (None without alpha)."""
    view = array[:, :, np.newaxis] if array.ndim == 2 else array
    _, _, full = value_range(array.dtype, "image")
    scaled = view.astype(np.float32) * np.float32(255.0 / full)
    channels = view.shape[2]
    colour = channels - 1 if channels in (2, 4) else channels
    alpha = scaled[:, :, colour] / np.float32(255.0) if colour < channels else None
    bgr = scaled[:, :, :colour]
    if colour == 1:
        bgr = np.repeat(bgr, 3, axis=2)
    return bgr, alpha


def checkerboard(height: int, width: int) -> np.ndarray:
    """Light and dark grey squares, the usual backdrop for transparency."""
    yy, xx = np.mgrid[0:height, 0:width]
    dark = ((yy // CHECKER) + (xx // CHECKER)) % 2 == 1
    board = np.where(dark, CHECKER_DARK, CHECKER_LIGHT).astype(np.float32)
    return np.repeat(board[:, :, np.newaxis], 3, axis=2)


def display_image(array: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The uint8 BGR picture of an image at ``scale`` (nearest pixel), alpha over a checkerboard."""
    bgr, alpha = to_bgr8(array)
    height, width = bgr.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != (width, height):
        bgr = cv2().resize(bgr, size, interpolation=cv2().INTER_NEAREST)
        if alpha is not None:
            alpha = cv2().resize(alpha, size, interpolation=cv2().INTER_NEAREST)
    if alpha is not None:
        a = alpha[:, :, np.newaxis]
        bgr = bgr * a + checkerboard(size[1], size[0]) * (1.0 - a)
    picture: np.ndarray = np.clip(np.rint(bgr), 0, 255).astype(np.uint8)
    return picture


def text_width(text: str, scale: float = FONT_SCALE) -> int:
    (width, _), _ = cv2().getTextSize(text, cv2().FONT_HERSHEY_SIMPLEX, scale, 1)
    return int(width)


def fit_scale(lines: list[str], width: int) -> float:
    """The font scale at which every line fits in ``width`` pixels (at most FONT_SCALE)."""
    widest = max((text_width(t) for t in lines), default=0)
    if widest + 8 <= width:
        return FONT_SCALE
    return max(0.25, FONT_SCALE * (width - 8) / max(1, widest))


def label_strip(lines: list[str], width: int) -> np.ndarray:
    """A dark strip ``len(lines)`` lines high with the lines written in it (ASCII text)."""
    strip = np.empty((LINE * len(lines) + 4, width, 3), np.uint8)
    strip[:] = BACKGROUND
    scale = fit_scale(lines, width)
    for i, text in enumerate(lines):
        baseline = 4 + LINE * i + 14
        cv2().putText(
            strip,
            text,
            (4, baseline),
            cv2().FONT_HERSHEY_SIMPLEX,
            scale,
            TEXT,
            1,
            cv2().LINE_AA,
        )
    return strip


def labelled(picture: np.ndarray, lines: list[str], above: bool = True) -> np.ndarray:
    """A picture with a label strip above (or below) it."""
    strip = label_strip(lines, picture.shape[1])
    return np.vstack([strip, picture] if above else [picture, strip])


def grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    """Tiles in rows of ``columns``, GAP pixels apart, on the background colour.

    Each cell is as large as the largest tile; tiles sit in its top-left corner.
    """
    rows = -(-len(tiles) // columns)
    cell_h = max(t.shape[0] for t in tiles)
    cell_w = max(t.shape[1] for t in tiles)
    height = rows * cell_h + (rows + 1) * GAP
    width = columns * cell_w + (columns + 1) * GAP
    sheet = np.empty((height, width, 3), np.uint8)
    sheet[:] = BACKGROUND
    for index, tile in enumerate(tiles):
        top, left = cell_origin(index, columns, cell_h, cell_w)
        sheet[top : top + tile.shape[0], left : left + tile.shape[1]] = tile
    return sheet


def cell_origin(index: int, columns: int, cell_h: int, cell_w: int) -> tuple[int, int]:
    """Top-left pixel of cell ``index`` in a :func:`grid`."""
    row, col = divmod(index, columns)
    return GAP + row * (cell_h + GAP), GAP + col * (cell_w + GAP)


def default_columns(count: int) -> int:
    """Columns for ``count`` tiles: one row up to 5, then balanced rows of at most 5."""
    if count <= 5:
        return max(1, count)
    rows = -(-count // 5)
    return -(-count // rows)


def write_png(picture: np.ndarray, output: str) -> None:
    """Write a picture as PNG, atomically; the name must end in ``.png``."""
    if not output.lower().endswith(".png"):
        raise UsageError(f"{output}: this picture is written as PNG (name it .png)")
    write_bytes_atomic(Path(output), encode_image(picture, "png"))
