"""`--recipe` from the shell: images and audio, what the manifest says, usage errors."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import noisecli.api.dataset
from noisecli.cli import RECIPE_EXAMPLE, main
from noisecli.noise.recipe import Recipe
from tests.audio_support import snr_db, speech_like, write
from tests.conftest import read_image, run_exe, synthetic_image, tree_digest, write_image

EXAMPLES = Path(__file__).parents[1] / "examples" / "recipes"

HALF = """\
# every image gets gaussian noise; half of them salt-and-pepper too
medium = "image"

[[step]]
noise = "gaussian"
std = "5:20"

[[step]]
noise = "salt-pepper"
amount = 0.02
p = 0.5
"""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "metadata.csv", newline="") as fh:
        return {row["file_name"]: row for row in csv.DictReader(fh)}


def applied(out: Path) -> dict[str, list[int]]:
    """Per output, the positions of the steps applied."""
    return {
        name: [s["step"] for s in json.loads(row["params"])["steps"]]
        for name, row in rows(out).items()
    }


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    for i in range(40):
        sub = folder / ("a" if i % 2 else "b")
        write_image(sub / f"p{i:02d}.png", synthetic_image(12, 16, 3, "uint8", seed=i))
    return folder


@pytest.fixture
def half(tmp_path: Path) -> Path:
    path = tmp_path / "recipes" / "half.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(HALF)
    return path


def test_image_recipe_run_and_its_manifest(photos: Path, half: Path, tmp_path: Path) -> None:
    """p = 0.5 over 40 images: about half get the step, the same ones on every rerun and
    whatever -j."""
    out = tmp_path / "out"
    code, text = invoke("image", str(photos), "-o", str(out), "--recipe", str(half), "--seed", "3")
    assert code == 0, text
    first = applied(out)
    assert len(first) == 40
    assert set(map(tuple, first.values())) == {(0,), (0, 1)}
    with_step = sum(1 for steps in first.values() if steps == [0, 1])
    assert 8 <= with_step <= 32  # binomial(40, 0.5): 4.4 standard deviations either side
    for name, row in rows(out).items():
        params = json.loads(row["params"])
        assert params["skipped"] == ([] if first[name] == [0, 1] else [1])
        assert 5 <= params["steps"][0]["std"] <= 20
        assert row["noise"] == "recipe:half.toml"
    digest = tree_digest(out)
    for jobs in ("1", "2"):
        again = tmp_path / f"again-j{jobs}"
        args = ("image", str(photos), "-o", str(again), "--recipe", str(half), "--seed", "3")
        code, text = invoke(*args, "-j", jobs, "-q")
        assert code == 0, text
        assert applied(again) == first
        assert tree_digest(again) == digest
        assert {n: r["params"] for n, r in rows(again).items()} == {
            n: r["params"] for n, r in rows(out).items()
        }
    other = tmp_path / "other-seed"
    code, _ = invoke("image", str(photos), "-o", str(other), "--recipe", str(half), "--seed", "4")
    assert code == 0 and applied(other) != first


def test_the_shipped_recipes_run_from_the_shell(photos: Path, tmp_path: Path) -> None:
    for name in ("camera.toml", "augment.toml", "cifar-like.toml"):
        out = tmp_path / name
        recipe = str(EXAMPLES / name)
        code, text = invoke("image", str(photos / "a"), "-o", str(out), "--recipe", recipe, "-q")
        assert code == 0, (name, text)
        assert {r["noise"] for r in rows(out).values()} == {f"recipe:{name}"}
        src = read_image(photos / "a" / "p01.png")
        assert read_image(out / "p01.png").shape == src.shape


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--noise", "gaussian"], "--recipe and --noise exclude each other"),
        (["--std", "5"], "--recipe and --std exclude each other"),
        (["--mono"], "--recipe and --mono exclude each other"),
        (["--severity", "2"], "--recipe and --severity exclude each other"),
        (["--sweep", "gaussian"], "--sweep and --recipe exclude each other"),
    ],
)
def test_recipe_excludes_the_noise_options(
    options: list[str], message: str, photos: Path, half: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, text = invoke("image", str(photos), "-o", str(out), "--recipe", str(half), *options)
    assert code == 2
    assert message in text
    assert not out.exists()


BAD = [
    ("syntax", '[[step]]\nnoise = "gaussian"\nstd = 5:30\n', 3, "invalid TOML"),
    ("unknown-noise", '[[step]]\nnoise = "gausian"\n', 2, "unknown noise 'gausian'"),
    ("bad-value", '\n[[step]]\nnoise = "gaussian"\nstd = "-3"\n', 4, "below the minimum"),
    ("audio-noise", '[[step]]\nnoise = "pink"\nsnr = 3\n', 2, "audio noise, but this is an image"),
    ("audio-recipe", 'medium = "audio"\n[[step]]\nnoise = "pink"\nsnr = 3\n', 1, "not for image"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_recipe_stops_before_any_work(
    name: str,
    text: str,
    line: int,
    message: str,
    photos: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recipe = tmp_path / f"{name}.toml"
    recipe.write_text(text)
    calls: list[Any] = []
    monkeypatch.setattr(noisecli.api.dataset, "run_dataset", lambda *a: calls.append(a))
    before = tree_digest(photos)
    out = tmp_path / "out"
    code, output = invoke("image", str(photos), "-o", str(out), "--recipe", str(recipe))
    assert code == 2, output
    assert f"{recipe}:{line}" in output and message in output
    assert calls == []  # nothing planned, read or written
    assert not out.exists()  # so no manifest either
    assert tree_digest(photos) == before


def test_a_missing_recipe_file_is_a_usage_error(photos: Path, tmp_path: Path) -> None:
    code, text = invoke("image", str(photos), "-o", str(tmp_path / "o"), "--recipe", "nope.toml")
    assert code == 2 and "nope.toml: cannot read the recipe" in text


# -- audio --------------------------------------------------------------------------------------

SPEECH = """\
medium = "audio"

[[step]]
noise = "background"
background = "noises/"     # beside this file
snr = "5:15"

[[step]]
noise = "white"
level = "-50dBFS"
p = 0.5
"""


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    folder = tmp_path / "speech"
    for i in range(6):
        write(folder / f"s{i}.wav", speech_like(12000, 16000, 1, seed=i), 16000)
    return folder


@pytest.fixture
def speech_recipe(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir(exist_ok=True)
    write(folder / "noises" / "hum.wav", speech_like(5000, 16000, 1, seed=9) * 0.5, 16000)
    (folder / "speech.toml").write_text(SPEECH)
    return folder / "speech.toml"


def test_audio_recipe_run_records_each_steps_level(
    speech: Path, speech_recipe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "speech")  # the recordings are found beside the recipe
    out = tmp_path / "out"
    args = ["audio", str(speech), "-o", str(out), "--recipe", str(speech_recipe), "--seed", "2"]
    code, text = invoke(*args, "-j", "1")
    assert code == 0, text
    table = rows(out)
    assert len(table) == 6
    seen_white = 0
    for name, row in table.items():
        assert row["noise"] == "recipe:speech.toml"
        params = json.loads(row["params"])
        background = params["steps"][0]
        assert background["noise"] == "background" and background["step"] == 0
        assert background["background"].endswith("noises/hum.wav")
        assert 5 <= background["snr_db"] <= 15
        assert background["snr_reached_db"] == pytest.approx(background["snr_db"], abs=1e-3)
        for step in params["steps"][1:]:
            seen_white += 1
            assert step["noise"] == "white" and step["level_dbfs"] == -50
            assert step["level_reached_dbfs"] == pytest.approx(-50, abs=1e-3)
        assert "snr_reached_db" in params and "clipped_samples" in params
        import soundfile as sf

        clean, _ = sf.read(speech / name)
        noisy, _ = sf.read(out / name)
        if len(params["steps"]) == 1:  # the background alone: its SNR, to PCM_16 rounding
            assert snr_db(clean, noisy) == pytest.approx(background["snr_db"], abs=0.05)
    assert 0 < seen_white < 6
    again = tmp_path / "again"
    code, _ = invoke("audio", str(speech), "-o", str(again), "--recipe", str(speech_recipe),
                     "--seed", "2", "-j", "2", "-q")  # fmt: skip
    assert code == 0
    assert tree_digest(again) == tree_digest(out)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--snr", "10"], "--snr/--level do not apply with --recipe"),
        (["--level", "-40"], "--snr/--level do not apply with --recipe"),
        (["--noise", "pink"], "--recipe and --noise exclude each other"),
        (["--background", "x/"], "--recipe and --background exclude each other"),
    ],
)
def test_audio_recipe_usage_errors(
    options: list[str], message: str, speech: Path, speech_recipe: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, text = invoke("audio", str(speech), "-o", str(out), "--recipe", str(speech_recipe),
                        *options)  # fmt: skip
    assert code == 2 and message in text
    assert not out.exists()


def test_missing_recordings_name_the_recipe_line(speech: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "lost.toml"
    recipe.write_text(SPEECH)  # no noises/ beside it
    out = tmp_path / "out"
    code, text = invoke("audio", str(speech), "-o", str(out), "--recipe", str(recipe))
    assert code == 2
    assert f"{recipe}:5: background:" in text and "neither a file nor a directory" in text
    assert not out.exists()


def test_an_image_recipe_is_refused_for_audio(speech: Path, half: Path, tmp_path: Path) -> None:
    code, text = invoke("audio", str(speech), "-o", str(tmp_path / "o"), "--recipe", str(half))
    assert code == 2 and "not for audio" in text


def test_the_shipped_speech_recipe_runs(speech: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shipped"
    shutil.copytree(EXAMPLES, folder)
    write(folder / "noises" / "room.wav", speech_like(30000, 16000, 1, seed=3), 16000)
    out = tmp_path / "out"
    code, text = invoke("audio", str(speech), "-o", str(out), "--recipe",
                        str(folder / "speech.toml"), "-q")  # fmt: skip
    assert code == 0, text
    assert len(rows(out)) == 6


# -- documentation ------------------------------------------------------------------------------


def test_noises_documents_the_recipe_format_with_a_valid_example(tmp_path: Path) -> None:
    code, text = invoke("noises")
    assert code == 0
    assert "recipe files (--recipe FILE)" in text
    for words in ("[[step]]", "p = 0.3", "one_of", "weight", "snr = DB", "level = DBFS"):
        assert words in text, words
    assert "relative to the folder of the recipe file" in " ".join(text.split())
    block = text.split("  example:\n", 1)[1].split("  use:", 1)[0]
    example = re.sub(r"^    ", "", block, flags=re.M)
    assert Recipe.from_toml(example) == Recipe.from_toml(RECIPE_EXAMPLE)
    assert Recipe.from_toml(example).medium == "image"
    photo = synthetic_image(20, 20, 3, "uint8", seed=1)
    write_image(tmp_path / "in" / "x.png", photo)
    (tmp_path / "camera.toml").write_text(example)
    code, out = invoke("image", str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--recipe",
                       str(tmp_path / "camera.toml"))  # fmt: skip
    assert code == 0, out
    assert not np.array_equal(read_image(tmp_path / "o" / "x.png"), photo)


def test_help_shows_recipe_examples() -> None:
    code, text = invoke("image", "--help")
    assert code == 0
    assert "--recipe FILE" in text
    assert "noisecli image photos/ -o noisy/ --recipe camera.toml" in text
    assert "--sweep gaussian,shot,impulse,speckle --severity 1:5" in text
    code, text = invoke("audio", "--help")
    assert code == 0 and "noisecli audio speech/ -o aug/ --recipe speech.toml" in text


def test_installed_executable_runs_a_recipe(photos: Path, half: Path, tmp_path: Path) -> None:
    args = ("image", str(photos / "a"), "--recipe", str(half), "--seed", "6", "-q")
    proc = run_exe(args[0], args[1], "-o", str(tmp_path / "exe"), *args[2:])
    assert proc.returncode == 0, proc.stderr
    code, text = invoke(args[0], args[1], "-o", str(tmp_path / "runner"), *args[2:])
    assert code == 0, text
    assert tree_digest(tmp_path / "exe") == tree_digest(tmp_path / "runner")
    proc = run_exe("image", str(photos), "-o", str(tmp_path / "bad"), "--recipe", str(half),
                   "--std", "3")  # fmt: skip
    assert proc.returncode == 2 and b"exclude each other" in proc.stderr
