"""`noisecli image --sweep`: every noise at every severity in one run, ImageNet-C's layout."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from noisecli.batch.job import Job
from noisecli.batch.manifest import COLUMNS, SWEEP_COLUMNS
from noisecli.batch.plan import plan
from noisecli.cli import main
from noisecli.config import RunConfig
from noisecli.image.engine import noise_image
from noisecli.image.medium import IMAGE
from noisecli.noise.recipe import Sweep
from noisecli.noise.severity import TABLES
from noisecli.rng.keys import file_key, output_random
from tests.conftest import read_image, synthetic_image, tree_digest, write_image

FILES = ("a.png", "sub/b.png", "sub/deeper/c.jpg")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def manifest(out: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(out / "metadata.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or ()), list(reader)


@pytest.fixture
def val(tmp_path: Path) -> Path:
    root = tmp_path / "val"
    for i, name in enumerate(FILES):
        write_image(root / name, synthetic_image(20, 24, 3, "uint8", seed=i))
    return root


def sweep(val: Path, out: Path, *extra: str) -> None:
    code, text = invoke(
        *("image", str(val), "-o", str(out), "--sweep", "gaussian,shot", "--severity", "1:2"),
        *("--seed", "5", "-q", *extra),
    )
    assert code == 0, text


def test_the_tree_of_a_sweep(val: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    sweep(val, out)
    expected = {f"{n}/{s}/{f}" for n in ("gaussian", "shot") for s in (1, 2) for f in FILES}
    assert set(tree_digest(out)) == expected
    assert [p.name for p in out.iterdir() if p.is_file()] == ["metadata.csv"]  # one manifest


def test_the_manifest_of_a_sweep(val: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    sweep(val, out)
    header, rows = manifest(out)
    assert header == [*COLUMNS, *SWEEP_COLUMNS]
    assert len(rows) == 12
    for row in rows:
        folder, severity, *_ = row["file_name"].split("/")
        assert row["corruption"] == folder and row["severity"] == severity
        assert row["noise"] == {"gaussian": "gaussian", "shot": "poisson"}[folder]
        params = json.loads(row["params"])
        assert params["severity"] == int(severity) and params["preset"] == "imagenet-c"
        if folder == "shot":
            assert params["photons"] == TABLES["imagenet-c"]["poisson"][int(severity) - 1]


def test_reruns_and_jobs_give_the_same_bytes(val: Path, tmp_path: Path) -> None:
    sweep(val, tmp_path / "j1", "-j", "1")
    sweep(val, tmp_path / "j2", "-j", "2")
    sweep(val, tmp_path / "again", "-j", "2")
    first = tree_digest(tmp_path / "j1")
    assert tree_digest(tmp_path / "j2") == first == tree_digest(tmp_path / "again")
    assert manifest(tmp_path / "j1") == manifest(tmp_path / "j2")
    assert len(set(first.values())) == len(first)  # no two outputs alike


def test_each_output_is_keyed_by_its_own_path(val: Path, tmp_path: Path) -> None:
    """An output's bytes are those of its variant's noise with the key of its path below OUT,
    so each one is the same whatever else the sweep holds."""
    out = tmp_path / "bench"
    sweep(val, out)
    variant = Sweep("shot", 2).variants[0]
    image = read_image(val / "sub" / "b.png")
    rnd = output_random(5, file_key("shot/2/sub/b.png", 0))
    expected, _ = noise_image(image, variant.noise, rnd)
    assert read_image(out / "shot/2/sub/b.png").tobytes() == expected.tobytes()
    alone = tmp_path / "alone"
    code, text = invoke("image", str(val), "-o", str(alone), "--sweep", "shot", "--severity", "2",
                        "--seed", "5", "-q")  # fmt: skip
    assert code == 0, text
    assert tree_digest(alone) == {k: v for k, v in tree_digest(out).items() if k[:7] == "shot/2/"}


def test_preset_and_aliases_as_folder_names(val: Path, tmp_path: Path) -> None:
    out = tmp_path / "c"
    args = ["--sweep", "impulse,normal", "--severity", "3", "--preset", "cifar10-c", "-q"]
    code, text = invoke("image", str(val / "a.png"), "-o", str(out), *args)
    assert code == 0, text
    _, rows = manifest(out)
    got = {(r["file_name"], r["noise"], json.loads(r["params"])["preset"]) for r in rows}
    assert got == {
        ("impulse/3/a.png", "salt-pepper", "cifar10-c"),
        ("normal/3/a.png", "gaussian", "cifar10-c"),
    }


def test_default_severities_are_one_to_five(val: Path, tmp_path: Path) -> None:
    out = tmp_path / "all"
    code, _ = invoke("image", str(val / "a.png"), "-o", str(out), "--sweep", "speckle", "-q")
    assert code == 0
    assert sorted(tree_digest(out)) == [f"speckle/{s}/a.png" for s in range(1, 6)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--sweep", "gaussian", "--noise", "gaussian"], "--sweep and --noise exclude each other"),
        (["--sweep", "gaussian", "--recipe", "x.toml"], "--sweep and --recipe exclude each other"),
        (["--sweep", "gaussian", "--std", "5"], "--sweep takes --severity and --preset only"),
        (["--sweep", "gaussian,uniform"], "'uniform' has no severity table; the noises with one"),
        (["--sweep", "shot,poisson"], "the same noise"),
        (["--sweep", "gaussian", "--severity", "0:3"], "below the minimum"),
    ],
)
def test_sweep_usage_errors(options: list[str], message: str, val: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = invoke("image", str(val), "-o", str(out), *options)
    assert code == 2, text
    assert message in text
    assert not out.exists()


def test_a_sweep_needs_files(tmp_path: Path) -> None:
    code, text = invoke("image", "-", "-o", "-", "--sweep", "gaussian")
    assert code == 2 and "'-' is not supported" in text
    code, text = invoke("audio", str(tmp_path), "-o", str(tmp_path / "o"), "--sweep", "gaussian")
    assert code == 2 and "No such option '--sweep'" in text


def test_the_plan_holds_an_index_per_job_not_a_noise(val: Path, tmp_path: Path) -> None:
    cfg = RunConfig((str(val),), str(tmp_path / "o"), Sweep("gaussian,impulse", "1:5"), jobs=1)
    jobs = plan(cfg, IMAGE).jobs
    assert len(jobs) == 3 * 10
    assert all(isinstance(j.variant, int) for j in jobs)
    assert {type(getattr(j, f)) for j in jobs for f in Job.__slots__} <= {
        str,
        int,
        bool,
        type(None),
    }
    job = next(j for j in jobs if j.dst.endswith("impulse/4/sub/b.png"))
    assert job.rel == "impulse/4/sub/b.png"
    assert cfg.noise_of(job.variant).name == "salt-pepper"
    assert len(pickle.dumps(job)) < 300


def test_dry_run_lists_every_variant(val: Path, tmp_path: Path) -> None:
    code, text = invoke("image", str(val / "a.png"), "-o", str(tmp_path / "o"), "--sweep",
                        "gaussian,shot", "--severity", "1,3", "--dry-run")  # fmt: skip
    assert code == 0
    assert [line.split(" -> ")[1].split("/o/")[1] for line in text.splitlines()] == [
        "gaussian/1/a.png",
        "gaussian/3/a.png",
        "shot/1/a.png",
        "shot/3/a.png",
    ]
    assert not (tmp_path / "o").exists()


def test_a_later_plain_run_keeps_the_sweep_columns(val: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    sweep(val, out)
    code, text = invoke("image", str(val / "a.png"), "-o", str(out), "--std", "5", "-q")
    assert code == 0, text
    header, rows = manifest(out)
    assert header == [*COLUMNS, *SWEEP_COLUMNS]
    by_name = {r["file_name"]: r for r in rows}
    assert len(by_name) == 13
    assert (by_name["a.png"]["corruption"], by_name["a.png"]["severity"]) == ("", "")
    assert by_name["shot/1/a.png"]["corruption"] == "shot"


def test_a_sweep_into_a_url_writes_the_same_manifest(val: Path, tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    from noisecli.api.dataset import process_dataset

    sweep(val, tmp_path / "local")
    cfg = RunConfig((str(val),), "memory://sweep-out", Sweep("gaussian,shot", "1:2"), seed=5,
                    jobs=1, quiet=True)  # fmt: skip
    assert process_dataset(cfg).exit_code == 0
    fs = fsspec.filesystem("memory")
    text = fs.cat("/sweep-out/metadata.csv").decode()
    local = (tmp_path / "local" / "metadata.csv").read_text()
    assert text.replace("\r\n", "\n") == local.replace("\r\n", "\n")
    for name, digest in tree_digest(tmp_path / "local").items():
        import hashlib

        assert hashlib.sha256(fs.cat(f"/sweep-out/{name}")).hexdigest() == digest
    fs.rm("/sweep-out", recursive=True)
