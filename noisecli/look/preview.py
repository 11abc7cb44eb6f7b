"""The preview window: the original and the noisy image side by side, with sliders.

Sliders set the noise's main parameter (its first numeric option), its ``severity`` when it
has one, and the seed. Keys: space draws a new seed, ``s`` saves the noisy image at full
resolution and prints the ``noisecli image`` command writing the same bytes, ``d`` toggles a
difference view, ``q`` or Esc closes. The noisy image is computed at full resolution with
the same stream as ``noisecli image --seed SEED`` on that file, then shown at the window's
scale (nearest pixel, so the grain keeps its look). Imported only by ``noisecli preview``.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from noisecli.errors import NoiseCliError
from noisecli.image.io import FORMAT_DTYPES, FORMAT_EXTENSION, cv2, encode_image
from noisecli.look import canvas
from noisecli.look.levels import (
    NoiseSpec,
    Slider,
    main_param,
    noise_as_batch,
    reproduce_command,
    severity_param,
    slider_for,
)
from noisecli.look.measure import format_db, load_image, psnr

WINDOW = "noisecli preview"
SEED_SLIDER_MAX = 999
SLIDER_HEIGHT = 34  # approximate height of one Qt trackbar row
WINDOW_CHROME = (40, 110)  # width and height taken by borders, title bar and panels
KEY_ESC, KEY_SPACE = 27, 32
POLL_MS = 30


@dataclass(frozen=True)
class PreviewRequest:
    """What ``noisecli preview`` was asked for."""

    source: str
    spec: NoiseSpec
    seed: int
    zoom: float | None = None
    save: str | None = None
    out_dir: str = "."


def difference_gain(diff: np.ndarray) -> int:
    """A power of two (1..32) that brings the difference's 3σ to about 128 levels."""
    std = float(diff.std())
    if std <= 0:
        return 1
    return int(2 ** min(5, max(0, math.floor(math.log2(42.0 / std)))))


def difference_view(clean: np.ndarray, noisy: np.ndarray) -> tuple[np.ndarray, int]:
    """``128 + gain · (noisy - clean)`` in 8-bit levels (uint8 BGR) and the gain."""
    a, _ = canvas.to_bgr8(clean)
    b, _ = canvas.to_bgr8(noisy)
    diff = b - a
    gain = difference_gain(diff)
    view = np.clip(np.rint(128.0 + gain * diff), 0, 255).astype(np.uint8)
    return view, gain


def file_suffix(spec: NoiseSpec, seed: int) -> str:
    """``_gaussian_std25_seed7``: the noise, the options given and the seed, for file names."""
    parts = [spec.cls.name]
    for name, value in spec.options.items():
        text = name if value is True else f"{name}{value}"
        parts.append(re.sub(r"[^A-Za-z0-9.+-]", "", text.replace("%", "pct")))
    parts.append(f"seed{seed}")
    return "_" + "_".join(parts)


def save_format(array: np.ndarray) -> str:
    """PNG when it holds the image losslessly, TIFF otherwise (float32)."""
    return "png" if array.dtype.name in FORMAT_DTYPES["png"] else "tiff"


class PreviewState:
    """The image, the noise options and the seed shown; computes what the window draws."""

    def __init__(self, request: PreviewRequest, image: np.ndarray) -> None:
        self.request = request
        self.image = image
        self.rel = Path(request.source).name  # the stream key of `noisecli image SOURCE`
        self.spec = request.spec
        self.seed = request.seed
        self.diff = False
        self.error = ""
        self._key: tuple[object, ...] | None = None
        self._noisy = image

    def set_option(self, name: str, text: str, clear: str | None = None) -> None:
        spec = self.spec.with_option(name, text)
        self.spec = spec.with_option(clear, None) if clear else spec

    def noisy(self) -> np.ndarray:
        """The full-resolution noisy image (cached); a rejected value keeps the last one."""
        key = (tuple(sorted(self.spec.options.items())), self.seed)
        if key != self._key:
            try:
                noise = self.spec.build()
            except NoiseCliError as exc:
                self.error = str(exc)
                return self._noisy
            self._noisy = noise_as_batch(self.image, noise, self.seed, self.rel)
            self._key = key
            self.error = ""
        return self._noisy

    def describe(self) -> str:
        try:
            return f"{self.spec.build().describe()} seed {self.seed}"
        except NoiseCliError:
            return f"{self.spec.label()} seed {self.seed}"

    def title(self) -> str:
        return f"{WINDOW}: {self.rel} - {self.describe()}"

    def frame(self, scale: float) -> np.ndarray:
        """Original | noisy (or difference), each under a two-line label."""
        noisy = self.noisy()
        height, width = self.image.shape[:2]
        size = f"{width}x{height} {self.image.dtype.name}"
        zoom = "" if scale == 1 else f", shown at {scale:.0%}"
        left = canvas.display_image(self.image, scale)
        if self.diff:
            view, gain = difference_view(self.image, noisy)
            right = canvas.display_image(view, scale)
            second = f"difference x{gain} (grey = no change)"
        else:
            right = canvas.display_image(noisy, scale)
            second = f"PSNR {format_db(psnr(self.image, noisy))}"
        if self.error:
            second = f"rejected: {self.error}"
        return side_by_side(
            left, right, ["original", f"{self.rel} {size}{zoom}"], [self.describe(), second]
        )

    def save(self) -> tuple[Path, str]:
        """Write the noisy image at full resolution; return its path and the command."""
        from noisecli.batch.atomic import write_bytes_atomic

        noisy = self.noisy()
        fmt = save_format(noisy)
        suffix = file_suffix(self.spec, self.seed)
        out_dir = self.request.out_dir
        path = Path(out_dir) / f"{Path(self.rel).stem}{suffix}{FORMAT_EXTENSION[fmt]}"
        write_bytes_atomic(path, encode_image(noisy, fmt))
        extra = ["--format", fmt, "--suffix", suffix]
        return path, reproduce_command(self.request.source, out_dir, self.spec, self.seed, extra)


def side_by_side(
    left: np.ndarray, right: np.ndarray, left_lines: list[str], right_lines: list[str]
) -> np.ndarray:
    """Two labelled pictures next to each other, ``canvas.GAP`` pixels apart."""
    a = canvas.labelled(left, left_lines)
    b = canvas.labelled(right, right_lines)
    gap = np.empty((a.shape[0], canvas.GAP, 3), np.uint8)
    gap[:] = canvas.BACKGROUND
    return np.hstack([a, gap, b])


def fit_to_screen(height: int, width: int, screen: tuple[int, int], sliders: int) -> float:
    """The largest scale (at most 1) at which both panes, labels and sliders fit the screen."""
    room_w = screen[0] - WINDOW_CHROME[0] - canvas.GAP
    room_h = screen[1] - WINDOW_CHROME[1] - 2 * canvas.LINE - sliders * SLIDER_HEIGHT
    return min(1.0, room_w / (2 * width), max(1, room_h) / height)


class PreviewWindow:
    """The OpenCV window, its sliders and its keys over a :class:`PreviewState`."""

    def __init__(self, state: PreviewState, scale: float | None, screen: tuple[int, int]) -> None:
        self.state = state
        self.sliders: dict[str, tuple[Slider, str | None]] = {}
        main = main_param(state.spec.cls)
        severity = severity_param(state.spec.cls)
        for param, other in ((main, severity), (severity, main)):
            if param is not None and param.name not in self.sliders:
                slider = slider_for(state.spec, param.name)
                if slider is not None:
                    clear = other.name if other is not None and other is not param else None
                    self.sliders[slider.label] = (slider, clear)
        count = len(self.sliders) + 1
        height, width = state.image.shape[:2]
        self.scale = scale if scale is not None else fit_to_screen(height, width, screen, count)
        self.seed_max = max(SEED_SLIDER_MAX, min(state.seed, 2**31 - 1))
        self.dirty = True
        # Qt calls a trackbar's callback when it is created or its range set: only moves
        # after open() away from the last known position change the noise
        self.ready = False
        self.positions: dict[str, int] = {}

    def _on_slider(self, label: str) -> object:
        slider, clear = self.sliders[label]

        def changed(position: int) -> None:
            if not self.ready or position == self.positions.get(label):
                return
            self.positions[label] = position
            self.state.set_option(slider.param, slider.text(position), clear)
            self.dirty = True

        return changed

    def _on_seed(self, position: int) -> None:
        if self.ready and position != min(self.state.seed, self.seed_max):
            self.state.seed = position
            self.dirty = True

    def open(self) -> None:
        cv = cv2()
        from noisecli.look.display import use_system_fonts

        use_system_fonts()
        cv.namedWindow(WINDOW, cv.WINDOW_AUTOSIZE | cv.WINDOW_GUI_NORMAL)
        cv.setWindowTitle(WINDOW, self.state.title())
        for label, (slider, _) in self.sliders.items():
            start = slider.position(slider.start)
            self.positions[label] = start
            cv.createTrackbar(label, WINDOW, start, slider.maximum, self._on_slider(label))
            if slider.minimum:
                cv.setTrackbarMin(label, WINDOW, slider.minimum)
        cv.createTrackbar(
            "seed", WINDOW, min(self.state.seed, self.seed_max), self.seed_max, self._on_seed
        )
        self.ready = True

    def show(self) -> None:
        cv = cv2()
        cv.imshow(WINDOW, self.state.frame(self.scale))
        cv.setWindowTitle(WINDOW, self.state.title())
        self.dirty = False

    def key(self, code: int) -> bool:
        """Act on one key; False when the window should close."""
        if code in (ord("q"), ord("Q"), KEY_ESC):
            return False
        if code == KEY_SPACE:
            # another seed of the slider's range, never the one shown
            offset = 1 + secrets.randbelow(self.seed_max)
            self.state.seed = (min(self.state.seed, self.seed_max) + offset) % (self.seed_max + 1)
            cv2().setTrackbarPos("seed", WINDOW, self.state.seed)
            self.dirty = True
        elif code in (ord("d"), ord("D")):
            self.state.diff = not self.state.diff
            self.dirty = True
        elif code in (ord("s"), ord("S")):
            path, command = self.state.save()
            print(f"saved {path}", flush=True)
            print(f"  {command}", flush=True)
        return True

    def run(self) -> int:
        cv = cv2()
        self.open()
        try:
            while True:
                if self.dirty:
                    self.show()
                code = cv.waitKey(POLL_MS)
                if code != -1 and not self.key(code & 0xFF):
                    break
                if cv.getWindowProperty(WINDOW, cv.WND_PROP_VISIBLE) < 1:
                    break
        finally:
            cv.destroyAllWindows()
            cv.waitKey(1)
        return 0


def run_preview(request: PreviewRequest) -> int:
    """Open the window (after checking for a display), or write ``--save`` without one."""
    image = load_image(request.source)
    state = PreviewState(request, image)
    state.spec.build()  # reject bad options before probing for a display
    if request.save:
        canvas.write_png(state.frame(request.zoom or 1.0), request.save)
        print(f"wrote {request.save}", flush=True)
        return 0
    from noisecli.look.display import probe_display

    screen = probe_display()
    return PreviewWindow(state, request.zoom, (screen.width, screen.height)).run()
