"""`preview` without a usable display, `--save`, fonts and the fit to the screen."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from noisecli.cli import main
from noisecli.look import canvas, display
from noisecli.look.display import NoDisplayError, probe_display, system_font_dir, use_system_fonts
from noisecli.look.levels import noise_as_batch
from noisecli.look.preview import fit_to_screen
from noisecli.noise import Gaussian
from tests.conftest import NOISECLI_EXE, read_image, synthetic_image, write_image
from tests.xserver import SCREEN, require_tools, xserver

__all__ = ["xserver"]

STRIP = 2 * canvas.LINE + 4


def headless_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}


def run_preview(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NOISECLI_EXE), "preview", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def unused_display() -> str:
    """A display number with no X server listening (its socket is absent)."""
    number = 4242
    while Path(f"/tmp/.X11-unix/X{number}").exists():
        number += 1
    return f":{number}"


def test_no_display_exits_2_with_one_line(tmp_path: Path) -> None:
    write_image(tmp_path / "photo.png", synthetic_image(20, 30))
    done = run_preview(tmp_path, headless_env(), "photo.png", "--std", "25")
    assert done.returncode == 2  # an exit code, never a signal (negative)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "DISPLAY is not set" in lines[0] and "--save" in lines[0]
    assert done.stdout == ""


def test_dead_display_is_probed_in_a_child_and_exits_2(tmp_path: Path) -> None:
    # OpenCV's Qt aborts the whole process when the display is unreachable; the probe
    # child takes that abort, the preview reports it in one line.
    write_image(tmp_path / "photo.png", synthetic_image(20, 30))
    env = headless_env() | {"DISPLAY": unused_display()}
    done = run_preview(tmp_path, env, "photo.png")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "cannot open a window on display" in lines[0]


def test_headless_opencv_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def child(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 3, "", "no GUI")

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(display.subprocess, "run", child)
    with pytest.raises(NoDisplayError, match="headless"):
        probe_display()


def test_probe_reports_the_screen_of_a_live_display(xserver: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("DISPLAY", xserver.display)
    screen = probe_display()
    assert (screen.width, screen.height) == SCREEN


def test_save_writes_side_by_side_without_a_display(tmp_path: Path) -> None:
    image = synthetic_image(60, 80, seed=5)
    write_image(tmp_path / "photo.png", image)
    done = run_preview(
        tmp_path, headless_env(), "photo.png", "--std", "15", "--seed", "9", "--save", "side.png"
    )
    assert done.returncode == 0, done.stderr
    side = read_image(tmp_path / "side.png")
    assert side.shape == (STRIP + 60, 2 * 80 + canvas.GAP, 3)
    assert np.array_equal(side[STRIP:, :80], image)
    noisy = noise_as_batch(image, Gaussian.from_options({"std": "15"}), 9, "photo.png")
    assert np.array_equal(side[STRIP:, 80 + canvas.GAP :], noisy)


@pytest.mark.parametrize("kind", ["uint16-gray", "rgba", "float32"])
def test_save_shows_uint16_rgba_and_float_images(tmp_path: Path, kind: str) -> None:
    if kind == "uint16-gray":
        image = synthetic_image(40, 50, channels=1, dtype="uint16", seed=1)
        name = "photo.png"
    elif kind == "rgba":
        image = synthetic_image(40, 50, channels=4, seed=1)
        name = "photo.png"
    else:
        image = synthetic_image(40, 50, dtype="float32", seed=1)
        name = "photo.tif"
    write_image(tmp_path / name, image)
    out = tmp_path / "side.png"
    result = CliRunner().invoke(
        main, ["preview", str(tmp_path / name), "--seed", "2", "--zoom", "2", "--save", str(out)]
    )
    assert result.exit_code == 0, result.output
    side = read_image(out)
    assert side.shape == (STRIP + 80, 2 * 100 + canvas.GAP, 3)  # --zoom 2 enlarges
    assert np.array_equal(side[STRIP:, :100], canvas.display_image(image, 2.0))
    noisy = noise_as_batch(image, Gaussian(), 2, name)
    assert np.array_equal(side[STRIP:, 100 + canvas.GAP :], canvas.display_image(noisy, 2.0))


def test_preview_usage_errors_come_before_any_window(tmp_path: Path) -> None:
    write_image(tmp_path / "photo.png", synthetic_image(20, 30))
    bad = run_preview(tmp_path, headless_env(), "photo.png", "--std", "-3")
    assert bad.returncode == 2 and "--std" in bad.stderr
    missing = run_preview(tmp_path, headless_env(), "nope.png", "--save", "x.png")
    assert missing.returncode == 1 and "nope.png" in missing.stderr


def test_fonts_point_at_a_system_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_tools("Xvfb")  # the same system packages bring the fonts
    found = system_font_dir()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no system fonts: run scripts/install-system-deps.sh")
        pytest.skip("no system fonts installed")
    monkeypatch.setenv("QT_QPA_FONTDIR", str(tmp_path))  # empty, like the wheel's own
    use_system_fonts()
    assert os.environ["QT_QPA_FONTDIR"] == found
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "a.ttf").write_bytes(b"")
    monkeypatch.setenv("QT_QPA_FONTDIR", str(mine))
    use_system_fonts()
    assert os.environ["QT_QPA_FONTDIR"] == str(mine)  # a directory with fonts is kept


def test_fit_to_screen_never_enlarges() -> None:
    assert fit_to_screen(300, 400, (1920, 1080), 2) == 1.0
    scale = fit_to_screen(3000, 4000, (1280, 800), 2)
    assert scale < 1 and 2 * 4000 * scale <= 1280 and 3000 * scale <= 800


def test_missing_tools_skip_locally_but_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.xserver as xs

    monkeypatch.setattr(xs.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_tools("Xvfb", "xdotool")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="install-system-deps"):
        require_tools("Xvfb")
