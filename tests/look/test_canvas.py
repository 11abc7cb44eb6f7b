"""8-bit views of uint8/uint16/float/gray/RGBA images, labels and grids."""

from __future__ import annotations

import numpy as np

from noisecli.look import canvas


def test_uint16_float_and_gray_map_to_8_bit_bgr() -> None:
    u16 = np.array([[0, 257 * 100, 65535]], np.uint16)
    assert canvas.display_image(u16).tolist() == [[[0] * 3, [100] * 3, [255] * 3]]
    f32 = np.array([[[0.0, 0.5, 1.0]]], np.float32)
    assert canvas.display_image(f32).tolist() == [[[0, 128, 255]]]
    bgr = np.array([[[1, 2, 3]]], np.uint8)
    assert canvas.display_image(bgr).tolist() == [[[1, 2, 3]]]


def test_alpha_is_shown_over_a_checkerboard() -> None:
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[:, :, :3] = 10
    rgba[:8, :, 3] = 255  # top half opaque, bottom half transparent
    view = canvas.display_image(rgba)
    assert (view[:8] == 10).all()
    board = canvas.checkerboard(16, 16)
    assert np.array_equal(view[8:], board[8:].astype(np.uint8))
    assert {int(v) for v in np.unique(view[8:])} == {153, 204}
    half = rgba.copy()
    half[:, :, 3] = 128  # 50 % over the board
    expected = np.rint(10 * 128 / 255 + board * (1 - 128 / 255))
    assert np.array_equal(canvas.display_image(half), expected.astype(np.uint8))


def test_scaling_takes_the_nearest_pixel_and_keeps_the_grain() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (100, 200, 3), dtype=np.int64).astype(np.uint8)
    half = canvas.display_image(img, 0.5)
    assert half.shape == (50, 100, 3)
    assert set(np.unique(half)) <= set(np.unique(img))  # no averaged values
    assert canvas.display_image(img, 2.0).shape == (200, 400, 3)


def test_label_strip_and_grid_geometry() -> None:
    strip = canvas.label_strip(["std=25", "PSNR 20.00 dB"], 120)
    assert strip.shape == (2 * canvas.LINE + 4, 120, 3)
    assert (strip == 235).any()  # text drawn in the text colour
    long = canvas.label_strip(["a very long label that would not fit in forty pixels"], 40)
    assert long.shape == (canvas.LINE + 4, 40, 3)
    tiles = [np.full((30, 40, 3), i, np.uint8) for i in range(5)]
    sheet = canvas.grid(tiles, 3)
    g = canvas.GAP
    assert sheet.shape == (2 * 30 + 3 * g, 3 * 40 + 4 * g, 3)
    top, left = canvas.cell_origin(4, 3, 30, 40)
    assert (top, left) == (2 * g + 30, 2 * g + 40)
    assert (sheet[top : top + 30, left : left + 40] == 4).all()
    assert [canvas.default_columns(n) for n in (1, 4, 5, 6, 7, 10, 12)] == [1, 4, 5, 3, 4, 5, 4]
