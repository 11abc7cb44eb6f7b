"""Planning: inputs (files, folders, globs, URLs) -> jobs, mirroring each input's tree under -o."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from noisecli.batch.atomic import is_temp_file
from noisecli.batch.job import STDIO, Job
from noisecli.batch.medium import Medium
from noisecli.batch.storage import filesystem, full_url, is_url, join, local
from noisecli.config import RunConfig
from noisecli.errors import UsageError


@dataclass
class Plan:
    jobs: list[Job]
    ignored: list[str]
    output_root: str | None  # a local directory or a URL prefix; None for stdout


_GLOB_CHARS = frozenset("*?[")


def _has_magic(text: str) -> bool:
    return any(c in _GLOB_CHARS for c in text)


def _glob_root(pattern: str) -> str:
    """The directory part of a pattern before its first wildcard."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts:
        if _has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _walk(
    root: str, exclude: Path | None, ignored: list[str], wanted: Callable[[str], bool]
) -> Iterator[tuple[str, str]]:
    """(file, path relative to root) under ``root`` in sorted order, never entering ``exclude``.

    Strings rather than Path objects: a plan may hold millions of files.
    """
    skip = len(os.path.join(root, ""))
    for dirpath, dirnames, filenames in os.walk(root):
        if exclude is not None:
            dirnames[:] = [d for d in dirnames if Path(dirpath, d).resolve() != exclude]
        dirnames.sort()
        for name in sorted(filenames):
            if is_temp_file(name):
                continue
            full = os.path.join(dirpath, name)
            if wanted(name):
                yield full, full[skip:].replace(os.sep, "/")
            else:
                ignored.append(full)


def _check_nesting(input_dir: Path, out: Path | None, allowed: bool) -> None:
    """Refuse an output directory equal to or inside an input directory (unless allowed)."""
    if out is None:
        return
    resolved = input_dir.resolve()
    if out == resolved:
        raise UsageError(f"the output directory is the input directory {input_dir}")
    if _inside(out, resolved) and not allowed:
        raise UsageError(
            f"the output directory is inside the input directory {input_dir}; "
            "choose another -o, or pass --allow-nested-output (OUT is then never read as input)"
        )


def _local_sources(
    item: str,
    cfg: RunConfig,
    wanted: Callable[[str], bool],
    exclude: Path | None,
    ignored: list[str],
) -> list[tuple[str, str]]:
    """(file, path relative to the input root) for every file of a local input."""
    path = Path(item)
    if path.is_dir():
        _check_nesting(path, exclude, cfg.allow_nested_output)
        return list(_walk(item, exclude, ignored, wanted))
    if path.exists() or path.is_symlink():
        return [(item, path.name)]
    if not _has_magic(item):
        raise UsageError(f"input not found: {item}")
    root = _glob_root(item)
    matches = sorted(glob.glob(item, recursive=True))
    files = [m for m in matches if os.path.isfile(m) and wanted(m)]
    if exclude is not None:
        files = [f for f in files if not _inside(Path(f).resolve(), exclude)]
    if not files:
        raise UsageError(f"no {cfg.media} file matches {item!r}")
    ignored.extend(m for m in matches if os.path.isfile(m) and not wanted(m))
    return [(f, Path(os.path.relpath(f, root)).as_posix()) for f in files]


def output_name(rel: Path, cfg: RunConfig, copy: int, medium: Medium) -> Path:
    """``a/b.jpg`` -> ``a/b{suffix}[_n{copy}].{ext}`` following ``--format``."""
    ext = rel.suffix
    if cfg.format != "keep":
        ext = medium.format_extension[cfg.format]
    elif ext.lower() not in medium.extensions:
        ext = ext or medium.default_extension
    tag = f"_n{copy}" if cfg.copies > 1 else ""
    return rel.with_name(f"{rel.stem}{cfg.suffix}{tag}{ext}")


def _same_file(dst: str, src: str) -> bool:
    if is_url(dst) or is_url(src):
        return dst == src
    if os.path.abspath(dst) == os.path.abspath(src):
        return True
    try:
        return os.path.exists(dst) and os.path.samefile(dst, src)
    except OSError:
        return False


def _url_sources(
    item: str, out: str, cfg: RunConfig, wanted: Callable[[str], bool], ignored: list[str]
) -> list[tuple[str, str]]:
    """(URL, path relative to the input root) for every file of a URL input."""
    fs, inner = filesystem(item)
    if _has_magic(inner):
        root = _glob_root(inner)
        found = [
            p for p, info in sorted(fs.glob(inner, detail=True).items()) if info["type"] == "file"
        ]
    elif fs.isdir(inner):
        root = inner.rstrip("/")
        found = sorted(fs.find(inner))
    elif fs.exists(inner):
        root = inner.rsplit("/", 1)[0]
        found = [inner]
    else:
        raise UsageError(f"input not found: {item}")
    out_inner = filesystem(out)[1].rstrip("/") + "/" if is_url(out) else None
    if out_inner is not None and (out_inner == root + "/" or out_inner.startswith(root + "/")):
        if out_inner == root + "/" or not cfg.allow_nested_output:
            raise UsageError(
                f"the output {out} is inside the input {item}; choose another -o"
                + ("" if out_inner == root + "/" else " or pass --allow-nested-output")
            )
        found = [f for f in found if not f.startswith(out_inner)]
    pairs = []
    for path in found:
        name = path.rsplit("/", 1)[-1]
        if is_temp_file(name):
            continue
        if wanted(name):
            pairs.append((full_url(fs, path), path[len(root) :].lstrip("/")))
        else:
            ignored.append(full_url(fs, path))
    if not pairs and _has_magic(inner):
        raise UsageError(f"no {cfg.media} file matches {item!r}")
    return pairs


def plan(cfg: RunConfig, medium: Medium) -> Plan:
    """Expand inputs into jobs, one per (file, copy), mirroring each input's tree under -o."""
    if STDIO in cfg.inputs or cfg.to_stdout:
        if cfg.inputs != (STDIO,) or not cfg.to_stdout:
            raise UsageError("'-' reads one image from stdin and needs '-o -' (and no other input)")
        if cfg.copies != 1:
            raise UsageError("--copies is not available with stdin/stdout")
        return Plan([Job(STDIO, STDIO, STDIO, 0)], [], None)
    out = local(cfg.output)
    out_root = None if is_url(out) else Path(out)
    if out_root is not None and out_root.exists() and not out_root.is_dir():
        raise UsageError(f"-o {cfg.output} exists and is not a directory")
    wanted = medium.wanted
    exclude = out_root.resolve() if out_root is not None else None
    sources: list[tuple[str, str]] = []
    ignored: list[str] = []
    for item in map(local, cfg.inputs):
        if is_url(item):
            sources.extend(_url_sources(item, out, cfg, wanted, ignored))
        else:
            sources.extend(_local_sources(item, cfg, wanted, exclude, ignored))
    jobs: list[Job] = []
    claimed: dict[str, str] = {}
    for src, rel in sources:
        for copy in range(cfg.copies):
            dst = join(out, output_name(Path(rel), cfg, copy, medium).as_posix())
            key = os.path.normcase(dst)
            error = None
            if key in claimed:
                error = f"output {dst} is also the output of {claimed[key]}; rename one input"
            elif _same_file(dst, src):
                raise UsageError(f"the output for {src} would be the input file itself")
            else:
                claimed[key] = src
            jobs.append(Job(src, dst, rel, copy, error))
    return Plan(jobs, ignored, out)
