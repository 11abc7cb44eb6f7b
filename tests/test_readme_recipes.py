"""The README's "Recipes" section runs as written: its TOML, shell lines, manifest row,
Python block and sweep tree are checked against real runs, so the README cannot drift."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from noisecli.batch.manifest import COLUMNS
from noisecli.cli import main
from noisecli.noise.recipe import Recipe
from tests.audio_support import speech_like, write
from tests.conftest import synthetic_image, write_image

README = Path(__file__).resolve().parent.parent / "README.md"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Recipes\n")
    return text[start : text.index("\n## ", start + 1)]


def blocks(kind: str) -> list[str]:
    return [textwrap.dedent(b) for b in re.findall(rf"```{kind}\n(.*?)```", section(), re.S)]


def indented_blocks(kind: str) -> list[str]:
    """Blocks inside list items (indented fences) too."""
    found = re.findall(rf"^( *)```{kind}\n(.*?)^\1```", section(), re.S | re.M)
    return [textwrap.dedent(body) for _, body in found]


def tree(root: Path) -> str:
    """The tree as `tree` draws it (entries sorted, folders with a trailing /)."""
    lines = [f"{root.name}/"]

    def walk(path: Path, prefix: str) -> None:
        names = sorted(os.listdir(path))
        for i, name in enumerate(names):
            last = i == len(names) - 1
            full = path / name
            lines.append(
                prefix + ("└── " if last else "├── ") + name + ("/" if full.is_dir() else "")
            )
            if full.is_dir():
                walk(full, prefix + ("    " if last else "│   "))

    walk(root, "")
    return "\n".join(lines) + "\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What the section's commands name: camera.toml, speech.toml and its noises/, photos/,
    speech/ and val/ (the two files of the tree)."""
    camera, speech = indented_blocks("toml")
    (tmp_path / "camera.toml").write_text(camera)
    (tmp_path / "speech.toml").write_text(speech)
    for i, name in enumerate(("beach.jpg", "city.jpg")):
        write_image(tmp_path / "photos" / name, synthetic_image(60, 80, 3, "uint8", seed=i))
    for i in range(2):
        write(tmp_path / "speech" / f"s{i}.wav", speech_like(16000, 16000, 1, seed=i), 16000)
    write(tmp_path / "noises" / "room.wav", speech_like(8000, 16000, 1, seed=7) * 0.5, 16000)
    for i, name in enumerate(("n01440764/img1.png", "n01443537/img2.png")):
        write_image(tmp_path / "val" / name, synthetic_image(30, 40, 3, "uint8", seed=i))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_shell_lines() -> None:
    for block in blocks("sh"):
        for line in block.splitlines():
            args = shlex.split(line, comments=True)
            assert args[0] == "noisecli", line
            result = CliRunner().invoke(main, [*args[1:], "-q"])
            assert result.exit_code == 0, (line, result.output)


def test_the_toml_examples_are_the_shipped_recipes_format() -> None:
    camera, speech = (Recipe.from_toml(b) for b in indented_blocks("toml"))
    assert camera.medium == "image" and len(camera.steps) == 3
    assert speech.medium == "audio"
    shipped = Recipe.load(README.parent / "examples" / "recipes" / "speech.toml")
    assert [s.noise.name for s in speech.steps] == [s.noise.name for s in shipped.steps]


def test_the_shell_lines_run_and_the_tree_is_what_the_sweep_writes(workdir: Path) -> None:
    run_shell_lines()
    assert (workdir / "noisy" / "beach.jpg").is_file()
    assert len(list((workdir / "aug").glob("*.wav"))) == 2
    trees = [b for b in blocks("text") if b.startswith("bench/")]
    assert len(trees) == 1
    assert tree(workdir / "bench") == trees[0]
    assert sorted(p.name for p in (workdir / "bench-c").iterdir()) == [
        "gaussian", "impulse", "metadata.csv", "shot", "speckle"
    ]  # fmt: skip


def test_the_manifest_row_is_shaped_as_a_real_run_writes_it(workdir: Path) -> None:
    run_shell_lines()
    shown = next(b for b in blocks("text") if b.startswith("file_name,"))
    header, row = list(csv.reader(io.StringIO(shown)))
    assert header == list(COLUMNS)
    shown_row = dict(zip(header, row, strict=True))
    assert json.loads(blocks("json")[0]) == json.loads(shown_row["params"])
    with open(workdir / "noisy" / "metadata.csv", newline="") as fh:
        real = {r["file_name"]: r for r in csv.DictReader(fh)}["beach.jpg"]
    for key in ("file_name", "source", "copy", "noise", "seed"):
        assert real[key] == shown_row[key]
    params, shown_params = json.loads(real["params"]), json.loads(shown_row["params"])
    assert set(params) == set(shown_params) == {"steps", "skipped"}

    def keys(record: dict[str, object]) -> set[str]:
        return set(record)

    real_shapes = {s["noise"]: keys(s) for s in params["steps"]}
    for step in shown_params["steps"]:
        if step["noise"] in real_shapes:
            assert keys(step) == real_shapes[step["noise"]]


def test_the_python_block_runs(workdir: Path) -> None:
    (code,) = blocks("python")
    assert re.search(r"^assert ", code, re.M)
    exec(compile(code, "README.md: Recipes", "exec"), {"__name__": "readme_snippet"})
    assert (workdir / "noisy-py" / "metadata.csv").is_file()
