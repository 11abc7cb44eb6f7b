"""The preview window under a private Xvfb: panes, keys, a slider, saving and closing."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from noisecli.look import canvas
from noisecli.look.preview import difference_view
from noisecli.noise import Gaussian
from tests.conftest import NOISECLI_EXE, read_image, write_image
from tests.xserver import XServer, wait_for, xserver

__all__ = ["xserver"]

HEIGHT, WIDTH = 240, 320  # 230,400 colour values per pane


def flat_image() -> np.ndarray:
    """Smooth colours kept within 90..165, so σ = 20 noise never clips (4.5 σ margin)."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    planes = [
        128 + 37 * np.sin(2 * np.pi * xx / WIDTH),
        128 + 37 * np.cos(2 * np.pi * yy / HEIGHT),
        128 + 37 * np.sin(2 * np.pi * (xx + yy) / (WIDTH + HEIGHT)),
    ]
    return np.rint(np.stack(planes, axis=-1)).astype(np.uint8)


def batch_noise(image: np.ndarray, std: float | None, seed: int, **more: str) -> np.ndarray:
    """What `noisecli image photo.png --std STD --seed SEED [more]` writes."""
    from noisecli.look.levels import noise_as_batch

    options = ({} if std is None else {"std": std}) | more
    return noise_as_batch(image, Gaussian.from_options(options), seed, "photo.png")


class Preview:
    """A running `noisecli preview` and what it shows."""

    def __init__(self, x: XServer, proc: subprocess.Popen[bytes], stdout: Path) -> None:
        self.x = x
        self.proc = proc
        self.stdout = stdout
        found = wait_for(
            lambda: (
                self.alive()
                and self.x.xdotool("search", "--name", "noisecli preview: photo.png", check=False)
            ),
            "the preview window",
        )
        self.window = str(found).split()[0]
        # Xvfb has no window manager, and Qt then sometimes never gets the Expose of its
        # first map and leaves the window unpainted (also reported on desktops: opencv-python
        # issue 362). Map it again, as a window manager's reparenting does, to deliver one.
        wait_for(
            lambda: self.window in self.x.xdotool("search", "--onlyvisible", "--name", "noisecli"),
            "the window to be mapped",
        )
        self.x.xdotool("windowunmap", "--sync", self.window)
        self.x.xdotool("windowmap", "--sync", self.window)

    def alive(self) -> bool:
        """True while the preview runs; its exit before the test ends it is a failure."""
        if self.proc.poll() is None:
            return True
        assert self.proc.stderr is not None
        raise AssertionError(f"preview exited {self.proc.returncode}: {self.proc.stderr.read()!r}")

    def title(self) -> str:
        return self.x.xdotool("getwindowname", self.window)

    def key(self, name: str) -> None:
        self.x.xdotool("windowfocus", "--sync", self.window)
        self.x.xdotool("key", name)

    def panes(self, original: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(original pane, right pane) found in a screenshot, or None while not drawn."""
        shot = self.x.screenshot()
        scores = cv2.matchTemplate(shot, original, cv2.TM_SQDIFF)
        _, _, (x, y), _ = cv2.minMaxLoc(scores)  # best match (float scores: check it exactly)
        h, w = original.shape[:2]
        left = shot[y : y + h, x : x + w]
        if not np.array_equal(left, original):
            return None
        right = shot[y : y + h, x + w + canvas.GAP : x + 2 * w + canvas.GAP]
        return left, right

    def right_pane_equals(self, original: np.ndarray, expected: np.ndarray) -> bool:
        found = self.alive() and self.panes(original)
        return found is not None and np.array_equal(found[1], expected)

    def param(self, name: str) -> str:
        """The value of ``name=VALUE`` in the title ("" if absent)."""
        match = re.search(rf"{name}=([\d.]+)", self.title())
        return match[1] if match else ""

    def seed(self) -> int:
        match = re.search(r"seed (\d+)", self.title())
        assert match, self.title()
        return int(match[1])


@pytest.fixture
def preview(xserver: XServer, tmp_path: Path) -> Iterator[tuple[Preview, np.ndarray]]:
    image = flat_image()
    write_image(tmp_path / "photo.png", image)
    (tmp_path / "saved").mkdir()
    stdout = tmp_path / "stdout.txt"
    with open(stdout, "wb") as out:
        proc = subprocess.Popen(
            [
                str(NOISECLI_EXE),
                "preview",
                "photo.png",
                "--std",
                "20",
                "--seed",
                "3",
                "--out-dir",
                "saved",
            ],
            cwd=tmp_path,
            env=xserver.env,
            stdout=out,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield Preview(xserver, proc, stdout), image
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_window_shows_original_and_noisy_panes(preview: tuple[Preview, np.ndarray]) -> None:
    win, image = preview
    assert win.title().startswith("noisecli preview: photo.png")
    assert "std=20" in win.title() and "seed 3" in win.title()
    expected = batch_noise(image, 20, 3)
    wait_for(lambda: win.right_pane_equals(image, expected), "the noisy pane (std 20, seed 3)")
    found = win.panes(image)
    assert found is not None
    left, right = found
    assert np.array_equal(left, image)  # shown 1:1, pixel for pixel
    diff = right.astype(np.float64) - left.astype(np.float64)
    # n = 230,400 values of σ = 20 noise plus rounding (variance 1/12): the sample std has a
    # standard error σ/sqrt(2n) ≈ 0.030 and the mean σ/sqrt(n) ≈ 0.042; allow 5 of each.
    assert abs(diff.std() - np.sqrt(400 + 1 / 12)) < 5 * 20 / np.sqrt(2 * diff.size)
    assert abs(diff.mean()) < 5 * 20 / np.sqrt(diff.size)


def test_keys_slider_save_and_quit(preview: tuple[Preview, np.ndarray], tmp_path: Path) -> None:
    win, image = preview
    wait_for(lambda: win.right_pane_equals(image, batch_noise(image, 20, 3)), "the first view")

    # space draws a new seed: the title says which, the pane shows exactly its noise
    win.key("space")
    wait_for(lambda: win.seed() != 3, "a new seed after space")
    seed = win.seed()
    wait_for(lambda: win.right_pane_equals(image, batch_noise(image, 20, seed)), "new seed pane")

    # d shows the difference around mid-grey, d again the noisy image
    win.key("d")
    view, _ = difference_view(image, batch_noise(image, 20, seed))
    wait_for(lambda: win.right_pane_equals(image, view), "the difference view")
    win.key("d")
    wait_for(lambda: win.right_pane_equals(image, batch_noise(image, 20, seed)), "noisy again")

    # a click on the std slider's groove right of its handle raises std
    frame_height = image.shape[0] + 2 * canvas.LINE + 4
    width = int(
        win.x.xdotool("getwindowgeometry", "--shell", win.window).split("WIDTH=")[1].split()[0]
    )
    win.x.xdotool("mousemove", "--window", win.window, str(width - 20), str(frame_height + 8))
    win.x.xdotool("click", "1")
    wait_for(lambda: win.param("std") not in ("", "20"), "std to change")
    std = float(win.param("std"))
    assert std > 20
    wait_for(lambda: win.right_pane_equals(image, batch_noise(image, std, seed)), "new std pane")

    # s saves the full-resolution noisy image and prints a command writing the same bytes
    win.key("s")
    wait_for(lambda: len(win.stdout.read_text().splitlines()) >= 2, "the saved-file message")
    saved_line, command = win.stdout.read_text().splitlines()[:2]
    command = command.strip()
    assert saved_line.startswith("saved ")
    saved = tmp_path / saved_line.removeprefix("saved ")
    assert np.array_equal(read_image(saved), batch_noise(image, std, seed))
    args = shlex.split(command)
    assert args[:2] == ["noisecli", "image"] and "--seed" in args and str(seed) in args
    kept = saved.read_bytes()
    saved.rename(tmp_path / "kept.png")
    rerun = subprocess.run([str(NOISECLI_EXE), *args[1:], "-q"], cwd=tmp_path, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert saved.read_bytes() == kept

    # a click on the severity slider sets a severity in place of std
    win.x.xdotool("mousemove", "--window", win.window, str(width - 20), str(frame_height + 31))
    win.x.xdotool("click", "1")
    wait_for(lambda: win.param("severity") not in ("", "1"), "a severity")
    severity = win.param("severity")
    assert win.param("std") == ""
    expected = batch_noise(image, None, seed, severity=severity)
    wait_for(lambda: win.right_pane_equals(image, expected), "the severity pane")

    # q closes the window and the process ends with 0
    win.key("q")
    assert win.proc.wait(timeout=20) == 0
    assert win.proc.stderr is not None
    assert win.proc.stderr.read() == b""


def test_escape_closes(preview: tuple[Preview, np.ndarray]) -> None:
    win, image = preview
    wait_for(lambda: win.panes(image), "the window to be drawn")
    win.key("Escape")
    assert win.proc.wait(timeout=20) == 0
