"""Is there a screen to open a window on, and how large is it?

OpenCV's ``namedWindow`` aborts the whole process (SIGABRT, beyond any ``try``) when its Qt
backend cannot reach a display, and raises in a headless build. So the question is asked in a
child process (``python -m noisecli.look.display``) that opens and closes a window; only if the
child says so does the preview open its own. The child also reports the screen size (from
libX11 when there is one). Qt in the OpenCV wheel ships no fonts: ``use_system_fonts`` points
``QT_QPA_FONTDIR`` at a system font directory after ``import cv2``, before any window.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from noisecli.errors import UsageError

PROBE_TIMEOUT = 30.0
DEFAULT_SCREEN = (1280, 800)
FONT_SUFFIXES = (".ttf", ".otf", ".pfb", ".pfa")
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/liberation",
    "/usr/share/fonts/truetype",
    "/usr/share/fonts",
    "/usr/local/share/fonts",
)
HINT = "run it under X (DISPLAY set) or write the side-by-side image with --save PATH"


class NoDisplayError(UsageError):
    """No window can be opened here (exit code 2)."""


@dataclass(frozen=True)
class Screen:
    width: int
    height: int


def has_fonts(directory: Path) -> bool:
    try:
        return any(p.suffix.lower() in FONT_SUFFIXES for p in directory.iterdir())
    except OSError:
        return False


def system_font_dir() -> str | None:
    """A directory holding font files directly (Qt does not search subdirectories)."""
    for name in FONT_DIRS:
        if has_fonts(Path(name)):
            return name
    for root in ("/usr/share/fonts", "/usr/local/share/fonts"):
        base = Path(root)
        if base.is_dir():
            for sub in sorted(p for p in base.rglob("*") if p.is_dir()):
                if has_fonts(sub):
                    return str(sub)
    return None


def use_system_fonts() -> None:
    """Keep a ``QT_QPA_FONTDIR`` holding fonts; otherwise (the wheel sets an empty one on
    import) point it at a system font directory. Call after ``import cv2``."""
    if not sys.platform.startswith("linux"):
        return
    current = os.environ.get("QT_QPA_FONTDIR")
    if current and has_fonts(Path(current)):
        return
    found = system_font_dir()
    if found:
        os.environ["QT_QPA_FONTDIR"] = found


def x11_screen_size() -> tuple[int, int] | None:
    """Width and height of the default X screen, or None without libX11 or a display."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    try:
        xlib = ctypes.CDLL(name)
    except OSError:
        return None
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
    xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(None)
    if not display:
        return None
    try:
        screen = xlib.XDefaultScreen(display)
        return int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen))
    finally:
        xlib.XCloseDisplay(display)


def _probe_here() -> int:
    """Open and close a window in this process; print ``ok W H``. Run only in the child."""
    from noisecli.image.io import cv2

    cv = cv2()
    use_system_fonts()
    try:
        cv.namedWindow("noisecli display probe", cv.WINDOW_AUTOSIZE)
        cv.waitKey(1)
        cv.destroyWindow("noisecli display probe")
        cv.waitKey(1)
    except cv.error:
        print("OpenCV was built without window support (a headless build)", file=sys.stderr)
        return 3
    width, height = (sys.platform.startswith("linux") and x11_screen_size()) or DEFAULT_SCREEN
    print(f"ok {width} {height}")
    return 0


def _display_name() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the desktop"
    return os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")


def probe_display() -> Screen:
    """The screen to open the preview on; ``NoDisplayError`` with one line if there is none."""
    where = _display_name()
    if where is None:
        raise NoDisplayError(f"no display to open a window on (DISPLAY is not set); {HINT}")
    try:
        child = subprocess.run(
            [sys.executable, "-m", "noisecli.look.display"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise NoDisplayError(f"display {where} did not answer; {HINT}") from None
    words = child.stdout.split()
    if child.returncode == 0 and len(words) == 3 and words[0] == "ok":
        return Screen(int(words[1]), int(words[2]))
    if child.returncode == 3:
        raise NoDisplayError(f"OpenCV has no window support here (headless build); {HINT}")
    reason = next((line.strip() for line in child.stderr.splitlines() if line.strip()), "")
    detail = f" ({reason[:120]})" if reason else ""
    raise NoDisplayError(f"cannot open a window on display {where}{detail}; {HINT}")


if __name__ == "__main__":
    sys.exit(_probe_here())
