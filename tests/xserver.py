"""A private virtual X server (Xvfb) for window tests, with screenshots and xdotool.

Xvfb runs on a random unused display number and keeps its framebuffer in an XWD file
(``-fbdir``), which is the screenshot. The tools come from scripts/install-system-deps.sh
(`make test` runs it as root). Without them the tests skip with the reason, except under
CI=true, where they fail: CI must never silently skip them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

SCREEN = (1366, 900)  # not display.DEFAULT_SCREEN, so a measured size shows
START_TIMEOUT = 30.0


def require_tools(*tools: str) -> None:
    """Skip (or, under CI=true, fail) when a system tool is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed: run scripts/install-system-deps.sh as root"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: window tests must run)")
    pytest.skip(reason)


def read_xwd(data: bytes) -> np.ndarray:
    """Decode a 24/32-bit TrueColor XWD image (the Xvfb framebuffer) to BGR uint8."""
    header = struct.unpack(">25I", data[:100])
    header_size, _, _, depth, width, height = header[:6]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = (
        header[7],
        header[11],
        header[12],
        header[19],
    )
    assert depth == 24 and bits_per_pixel == 32, (depth, bits_per_pixel)
    offset = header_size + 12 * ncolors
    rows = np.frombuffer(data, np.uint8, count=height * bytes_per_line, offset=offset)
    pixels = rows.reshape(height, bytes_per_line)[:, : width * 4].reshape(height, width, 4)
    if byte_order == 1:  # MSBFirst: X R G B
        return np.ascontiguousarray(pixels[:, :, 3:0:-1])
    return np.ascontiguousarray(pixels[:, :, :3])  # LSBFirst: B G R X


class XServer:
    def __init__(self, display: str, framebuffer: Path) -> None:
        self.display = display
        self.framebuffer = framebuffer

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DISPLAY"] = self.display
        return env

    def screenshot(self) -> np.ndarray:
        return read_xwd(self.framebuffer.read_bytes())

    def xdotool(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=30
        )
        if check and done.returncode != 0:
            raise AssertionError(f"xdotool {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout.strip()


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> object:
    """Poll until ``condition()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _answers(display: str) -> bool:
    """True when the server on ``display`` accepts a client and has our screen size."""
    done = subprocess.run(
        ["xdotool", "getdisplaygeometry"],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.split() == [str(SCREEN[0]), str(SCREEN[1])]


def start_xvfb(fbdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on a random unused display number from 100..999, once it answers.

    Random high numbers (not the lowest free one, as ``-displayfd`` picks) keep consecutive
    tests and concurrent runs from reusing a number whose previous server is still going.
    """
    for _ in range(20):
        number = 100 + secrets.randbelow(900)
        if Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists():
            continue
        proc = subprocess.Popen(
            [
                "Xvfb",
                f":{number}",
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-fbdir",
                str(fbdir),
                "-nolisten",
                "tcp",
                "-noreset",  # else the server resets whenever its last client leaves
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if _answers(f":{number}"):
                return proc, f":{number}"
            time.sleep(0.05)
        stop(proc)  # the number was taken meanwhile, or the server hung: try another
    raise AssertionError("Xvfb did not start on any of 20 display numbers")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def xserver(tmp_path: Path) -> Iterator[XServer]:
    """Start Xvfb on a free display, yield it, stop it."""
    require_tools("Xvfb", "xdotool")
    fbdir = tmp_path / "xvfb"
    fbdir.mkdir()
    proc, display = start_xvfb(fbdir)
    try:
        server = XServer(display, fbdir / "Xvfb_screen0")
        yield server
        # the screen as the test left it, to look at when a test failed
        cv2.imwrite(str(tmp_path / "last-screen.png"), server.screenshot())
    finally:
        stop(proc)
