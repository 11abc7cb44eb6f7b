"""The noise family from the command line: --noise NAME, --severity, `noisecli noises`."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from noisecli.cli import main
from noisecli.noise import NOISES
from noisecli.noise.severity import TARGETS
from tests.conftest import read_image, run_exe, synthetic_image, write_image

IMAGE_NOISES = [cls for cls in NOISES if "image" in cls.media]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write_image(folder / "colour.png", synthetic_image(24, 32, 3, "uint8", seed=3))
    write_image(folder / "grey16.png", synthetic_image(20, 16, 1, "uint16", seed=4))
    return folder


def manifest(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "metadata.csv", newline="") as fh:
        return {row["file_name"]: row for row in csv.DictReader(fh)}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def example_options(cls: type) -> list[str]:
    """The options of the example that `noisecli noises` prints for a noise."""
    code, text = invoke("noises")
    assert code == 0
    prefix = f"  example: noisecli image in/ -o out/ --noise {cls.name} "
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, cls.name
    return shlex.split(lines[0][len(prefix) :])


@pytest.mark.parametrize("cls", IMAGE_NOISES, ids=lambda c: c.name)
def test_every_noise_runs_from_the_cli_with_its_listed_example(
    cls: type, photos: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["image", str(photos), "-o", str(out), "--noise", cls.name, "--seed", "4", "-j", "1"]
    code, text = invoke(*args, *example_options(cls), "-q")
    assert code == 0, text
    rows = manifest(out)
    assert set(rows) == {"colour.png", "grey16.png"}
    for name, row in rows.items():
        assert row["noise"] == cls.name
        assert json.loads(row["params"])
        src = read_image(photos / name)
        dst = read_image(out / name)
        assert dst.dtype == src.dtype and dst.shape == src.shape
        assert not np.array_equal(dst, src)


def test_alias_and_severity_are_recorded(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = invoke(
        "image", str(photos), "-o", str(out), "--noise", "shot", "--severity", "2", "-j", "1"
    )
    assert code == 0, text
    params = json.loads(manifest(out)["colour.png"]["params"])
    assert manifest(out)["colour.png"]["noise"] == "poisson"
    assert params == {"severity": 2, "preset": "imagenet-c", "photons": 25}


def test_severity_range_and_preset(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = invoke(
        *("image", str(photos), "-o", str(out), "--noise", "speckle", "--copies", "4"),
        *("--severity", "1:5", "--preset", "cifar10-c", "--seed", "2", "-j", "1", "-q"),
    )
    assert code == 0, text
    table = dict(zip(range(1, 6), (0.06, 0.1, 0.12, 0.16, 0.2), strict=True))
    rows = manifest(out)
    assert len(rows) == 8
    for row in rows.values():
        params = json.loads(row["params"])
        assert params["preset"] == "cifar10-c"
        assert params["std"] == table[params["severity"]]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--noise", "gaussian", "--severity", "3", "--std", "10"], "--severity and --std"),
        (["--noise", "gaussian", "--preset", "cifar10-c"], "--preset applies only"),
        (["--noise", "poisson", "--severity", "9"], "above the maximum"),
        (["--noise", "uniform", "--severity", "1"], "does not apply"),
        (["--noise", "sensor", "--iso-like", "800", "--shot", "0.01"], "--iso-like and --shot"),
        (["--noise", "poisson", "--photons", "0"], "greater than 0"),
        (["--noise", "salt-pepper", "--amount", "1.5"], "above the maximum"),
        (["--noise", "poisson", "--std", "3"], "does not apply"),
        (["--noise", "nosuch"], "unknown noise"),
    ],
)
def test_usage_errors_exit_2(options: list[str], message: str, photos: Path, tmp_path: Path):
    code, text = invoke("image", str(photos), "-o", str(tmp_path / "out"), *options)
    assert code == 2
    assert message in text
    assert not (tmp_path / "out").exists()


def test_noises_lists_every_noise_with_parameters_units_and_example() -> None:
    code, text = invoke("noises")
    assert code == 0
    for cls in NOISES:
        assert f"{cls.name} (" in text
        for param in cls.cli_params:
            assert "--" + param.name.replace("_", "-") in text
    for name in TARGETS:
        assert f"imagenet-c severities 1..5: --{TARGETS[name][0]}" in text
    assert "8-bit levels" in text and "fraction" in text and "[0, 1]" in text
    assert "--std 8%, 12%, 18%, 26%, 38%" in text
    assert "--photons 500, 250, 100, 75, 50" in text


def test_shared_option_help_is_generic() -> None:
    code, text = invoke("image", "--help")
    assert code == 0
    assert "units differ by noise" in " ".join(text.split())


def test_installed_executable_matches_the_cli_runner(photos: Path, tmp_path: Path) -> None:
    options = ["--noise", "impulse", "--severity", "3", "--seed", "11", "-j", "1", "-q"]
    proc = run_exe("image", str(photos), "-o", str(tmp_path / "a"), *options)
    assert proc.returncode == 0, proc.stderr
    code, text = invoke("image", str(photos), "-o", str(tmp_path / "b"), *options)
    assert code == 0, text
    for name in ("colour.png", "grey16.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    params = json.loads(manifest(tmp_path / "a")["colour.png"]["params"])
    assert params["amount"] == 0.09 and params["severity"] == 3


def test_installed_executable_lists_noises_and_rejects_conflicts(
    photos: Path, tmp_path: Path
) -> None:
    proc = run_exe("noises")
    assert proc.returncode == 0
    assert all(f"{cls.name} (".encode() in proc.stdout for cls in NOISES)
    proc = run_exe(
        *("image", str(photos), "-o", str(tmp_path / "o"), "--noise", "speckle"),
        *("--severity", "2", "--std", "0.3"),
    )
    assert proc.returncode == 2
    assert b"exclude each other" in proc.stderr
