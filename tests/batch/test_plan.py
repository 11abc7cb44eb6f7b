from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import pytest

from noisecli.api.dataset import medium_for
from noisecli.batch import job as batch_job
from noisecli.batch import plan as batch_plan
from noisecli.batch.job import FileResult, Job
from noisecli.batch.plan import Plan
from noisecli.config import RunConfig
from noisecli.errors import UsageError
from noisecli.image.medium import IMAGE
from noisecli.noise import Gaussian
from tests.conftest import synthetic_image, write_image


def plan(cfg: RunConfig) -> Plan:
    """The plan of ``cfg`` for its own medium."""
    return batch_plan.plan(cfg, medium_for(cfg.media))


def process_file(job: Job, cfg: RunConfig) -> FileResult:
    """One job run as a worker runs it, with the medium's job function."""
    return batch_job.process_file(job, cfg, medium_for(cfg.media).work)


def cfg(inputs: tuple[str, ...], output: str, **kw: Any) -> RunConfig:
    kw = {"seed": 1, "jobs": 1, **kw}
    return RunConfig(inputs=inputs, output=output, noise=Gaussian(), **kw)


def test_plan_mirrors_each_input_tree(dataset: Any, tmp_path: Path) -> None:
    root = dataset(6)
    out = tmp_path / "out"
    p = plan(cfg((str(root),), str(out)))
    rels = sorted(Path(j.dst).relative_to(out).as_posix() for j in p.jobs)
    assert rels == sorted(j.rel for j in p.jobs)
    assert "nested/deeper/img002.jpg" in rels and "img000.jpg" in rels
    assert p.ignored == [str(root / "notes.txt")]


def test_plan_files_and_globs(dataset: Any, tmp_path: Path) -> None:
    root = dataset(6)
    out = tmp_path / "out"
    single = root / "nested" / "img001.png"
    p = plan(cfg((f"{root}/**/*.png", str(single)), str(out)))
    dsts = [Path(j.dst).relative_to(out).as_posix() for j in p.jobs if j.error is None]
    # the glob's root is `root`: the tree below it is mirrored
    assert {"img003.png", "nested/img001.png", "nested/deeper/img005.png"} <= set(dsts)
    # the single file maps to OUT/img001.png
    assert "img001.png" in dsts
    assert all(not d.endswith(".jpg") for d in dsts)


def test_plan_reports_collisions_as_job_errors(tmp_path: Path) -> None:
    a = write_image(tmp_path / "a" / "x.png", synthetic_image(4, 4))
    b = write_image(tmp_path / "b" / "x.png", synthetic_image(4, 4))
    p = plan(cfg((str(a), str(b)), str(tmp_path / "out")))
    assert p.jobs[0].error is None
    assert p.jobs[1].error is not None and "also the output of" in p.jobs[1].error


def test_output_inside_input_is_never_read(dataset: Any) -> None:
    root = dataset(3)
    out = root / "noisy"
    write_image(out / "old.png", synthetic_image(4, 4))
    with pytest.raises(UsageError, match="inside the input directory"):
        plan(cfg((str(root),), str(out)))
    p = plan(cfg((str(root),), str(out), allow_nested_output=True))
    assert all("noisy" not in Path(j.src).parts for j in p.jobs)
    assert len(p.jobs) == 3
    globbed = plan(cfg((f"{root}/**/*.png",), str(out), allow_nested_output=True))
    assert all("noisy" not in Path(j.src).parts for j in globbed.jobs)


@pytest.mark.parametrize(
    ("inputs", "output", "reason"),
    [
        (("missing-dir",), "out", "input not found"),
        (("nothing/*.png",), "out", "no image file matches"),
        (("-", "x.png"), "-", "needs '-o -'"),
        (("-",), "out", "needs '-o -'"),
    ],
)
def test_plan_usage_errors(
    tmp_path: Path, inputs: tuple[str, ...], output: str, reason: str
) -> None:
    with pytest.raises(UsageError, match=reason):
        plan(cfg(tuple(str(tmp_path / i) if i != "-" else i for i in inputs), output))


def test_output_equal_to_input_dir_is_refused(dataset: Any) -> None:
    root = dataset(2)
    with pytest.raises(UsageError, match="is the input directory"):
        plan(cfg((str(root),), str(root)))


def test_output_that_is_a_file_is_refused(dataset: Any, tmp_path: Path) -> None:
    root = dataset(2)
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        plan(cfg((str(root),), str(target)))


def test_plan_records_the_outputs_that_exist(tmp_path: Path) -> None:
    """Existing outputs are remembered as names (a dangling link too), not with --overwrite;
    an output that links to its input is still the input itself."""
    root, out = tmp_path / "in", tmp_path / "out"
    for name in ("a", "b", "c", "d"):
        write_image(root / f"{name}.png", synthetic_image(8, 8))
    out.mkdir()
    (out / "a.png").write_bytes(b"old")
    os.symlink(out / "missing.png", out / "b.png")
    p = plan(cfg((str(root),), str(out)))
    assert p.existing == {str(out / "a.png"), str(out / "b.png")}
    assert plan(cfg((str(root),), str(out), overwrite=True)).existing == set()
    os.symlink(root / "d.png", out / "d.png")
    with pytest.raises(UsageError, match="would be the input file itself"):
        plan(cfg((str(root),), str(out), overwrite=True))


def test_outputs_in_absent_or_empty_folders_are_not_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh run looks at each output folder once, not at each output; a folder that
    holds something has each of its outputs looked up as before."""
    root, out = tmp_path / "in", tmp_path / "out"
    for name in ("x/a", "x/b", "y/c", "z/d"):
        write_image(root / f"{name}.png", synthetic_image(8, 8))
    (out / "y").mkdir(parents=True)  # empty
    (out / "z").mkdir()
    (out / "z" / "d.png").write_bytes(b"old")
    looked: list[str] = []
    real = os.lstat

    def spy(path: Any, *args: Any, **kw: Any) -> Any:
        if os.fspath(path).startswith(str(out) + os.sep):
            looked.append(os.path.relpath(os.fspath(path), out))
        return real(path, *args, **kw)

    monkeypatch.setattr(batch_plan.os, "lstat", spy)
    p = plan(cfg((str(root),), str(out)))
    assert p.existing == {str(out / "z" / "d.png")}
    assert looked == [os.path.join("z", "d.png")]


@pytest.mark.parametrize(
    ("kw", "copy", "expected"),
    [
        ({}, 0, "a/b.JPG"),
        ({"suffix": "_noisy"}, 0, "a/b_noisy.JPG"),
        ({"copies": 3}, 2, "a/b_n2.JPG"),
        ({"copies": 2, "suffix": "_x", "format": "png"}, 1, "a/b_x_n1.png"),
        ({"format": "tiff"}, 0, "a/b.tif"),
    ],
)
def test_output_name(kw: dict[str, Any], copy: int, expected: str) -> None:
    name = batch_plan.output_name(Path("a/b.JPG"), cfg(("i",), "o", **kw), copy, IMAGE)
    assert name.as_posix() == expected


def test_process_file_statuses(tmp_path: Path) -> None:
    src = write_image(tmp_path / "in.png", synthetic_image(8, 8))
    dst = tmp_path / "out" / "in.png"
    job = Job(str(src), str(dst), "in.png", 0)
    first = process_file(job, cfg((str(src),), str(tmp_path / "out")))
    assert first.status == "written" and dst.is_file()
    before = dst.read_bytes()
    again = process_file(job, cfg((str(src),), str(tmp_path / "out"), seed=2))
    assert again.status == "failed" and "output exists" in again.message
    assert dst.read_bytes() == before
    skipped = process_file(job, cfg((str(src),), str(tmp_path / "out"), skip_existing=True))
    assert skipped.status == "skipped"
    over = process_file(job, cfg((str(src),), str(tmp_path / "out"), overwrite=True, seed=2))
    assert over.status == "written" and dst.read_bytes() != before


def test_process_file_never_raises_for_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "bad.png"
    src.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    result = process_file(
        Job(str(src), str(tmp_path / "o.png"), "bad.png", 0), cfg((str(src),), "o")
    )
    assert result.status == "failed" and "truncated PNG" in result.message
    assert not (tmp_path / "o.png").exists()
    missing = process_file(
        Job(str(tmp_path / "nope.png"), str(tmp_path / "o2.png"), "n", 0), cfg(("x",), "o")
    )
    assert missing.status == "failed" and "no such file" in missing.message


@pytest.mark.parametrize(
    "rel",
    ["b.JPG", "a/b.png", "a/b", "a/.png", "a/b.", "a/b.tar.gz", "a.b/c", "a/..png", "x/ y .png"],
)
@pytest.mark.parametrize(
    "kw", [{}, {"suffix": "_x"}, {"copies": 2}, {"format": "png"}, {"suffix": "_s", "copies": 3}]
)
def test_output_rel_splits_names_as_pathlib_does(rel: str, kw: dict[str, Any]) -> None:
    config = cfg(("i",), "o", **kw)
    for copy in range(config.copies):
        path = Path(rel)
        ext = path.suffix
        if config.format != "keep":
            ext = IMAGE.format_extension[config.format]
        elif ext.lower() not in IMAGE.extensions:
            ext = ext or IMAGE.default_extension
        tag = f"_n{copy}" if config.copies > 1 else ""
        expected = path.with_name(f"{path.stem}{config.suffix}{tag}{ext}").as_posix()
        assert batch_plan.output_rel(rel, config, copy, IMAGE) == expected


@pytest.mark.parametrize("out", ["out", "out/", "./out", "out//", "out/./x/..", ".", "abs"])
def test_planned_outputs_are_spelled_as_pathlib_joins_them(
    dataset: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    dataset(6)
    monkeypatch.chdir(tmp_path)
    out = str(tmp_path / "abs") if out == "abs" else out
    p = plan(cfg(("data",), out))
    assert len(p.jobs) == 6
    for job in p.jobs:
        assert job.dst == str(Path(out) / job.rel)
        assert job.src == os.path.join("data", *job.rel.split("/"))


def test_absolute_paths_of_many_files_are_those_of_os_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = ["a", "..", ".", "", "x.png", "/", "//", ".h"]
    paths = {
        "".join(p if p.startswith("/") else p + "/" for p in c[:-1]) + c[-1]
        for c in itertools.product(parts, repeat=4)
    }
    for cwd in (tmp_path, Path("/")):
        monkeypatch.chdir(cwd)
        absolute = batch_plan._Cwd()
        for path in sorted(paths) * 2:  # the second time from the folder cache
            assert absolute.abspath(path) == os.path.abspath(path), path
