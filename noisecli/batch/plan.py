"""Planning: inputs (files, folders, globs, URLs) -> jobs, mirroring each input's tree under -o."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    # local outputs found at planning, before the run (not looked for with --overwrite,
    # where whether an output exists does not matter)
    existing: set[str] = field(default_factory=set)


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


def output_rel(rel: str, cfg: RunConfig, copy: int, medium: Medium) -> str:
    """``a/b.jpg`` -> ``a/b{suffix}[_n{copy}].{ext}`` following ``--format`` (``/``-separated
    relative paths as strings; the stem and suffix as pathlib splits a name)."""
    head, sep, name = rel.rpartition("/")
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")
    if cfg.format != "keep":
        ext = medium.format_extension[cfg.format]
    elif ext.lower() not in medium.extensions:
        ext = ext or medium.default_extension
    tag = f"_n{copy}" if cfg.copies > 1 else ""
    return f"{head}{sep}{stem}{cfg.suffix}{tag}{ext}"


def output_name(rel: Path, cfg: RunConfig, copy: int, medium: Medium) -> Path:
    """:func:`output_rel` for a Path."""
    return Path(output_rel(rel.as_posix(), cfg, copy, medium))


def _clean(rel: str) -> str:
    """``rel`` as pathlib would spell it (no empty or ``.`` parts, no trailing ``/``);
    the usual relative path of a directory walk is returned as it is, without a Path."""
    if rel.startswith(("/", "./")) or rel.endswith(("/", "/.")) or rel in ("", "."):
        return Path(rel).as_posix()
    if "//" in rel or "/./" in rel:
        return Path(rel).as_posix()
    return rel


def _join_prefix(out: str) -> str | None:
    """What ``join(out, rel)`` puts before a clean relative ``rel`` (``None``: use join)."""
    if is_url(out):
        return out.rstrip("/") + "/"
    if os.sep != "/":
        return None
    return join(out, "x")[:-1]


class _Cwd:
    """``os.path.abspath`` for many files of few folders: the working directory is read
    once (planning never changes it) and each folder is made absolute once."""

    def __init__(self) -> None:
        self.cwd = os.getcwd()
        self._folders: dict[str, str] = {}

    def abspath(self, path: str) -> str:
        head, sep, name = path.rpartition("/")
        if os.sep != "/" or name in ("", ".", ".."):
            return os.path.abspath(path)
        folder = self._folders.get(head) if sep else self.cwd
        if folder is None:
            folder = os.path.normpath(os.path.join(self.cwd, head + "/"))
            self._folders[head] = folder
        return folder + name if folder.endswith("/") else f"{folder}/{name}"


class _EmptyFolders:
    """Whether an output folder is absent or empty, looked up once per folder: nothing in
    it can exist then, and a fresh run needs no lookup per output."""

    def __init__(self) -> None:
        self._seen: dict[str, bool] = {}

    def holds_nothing(self, path: str) -> bool:
        folder = os.path.dirname(path) or "."
        empty = self._seen.get(folder)
        if empty is None:
            try:
                with os.scandir(folder) as entries:
                    empty = next(entries, None) is None
            except (FileNotFoundError, NotADirectoryError):
                empty = True
            except OSError:  # unreadable: look up each output
                empty = False
            self._seen[folder] = empty
        return empty


def _probe(dst: str, src: str, cwd: _Cwd, folders: _EmptyFolders) -> tuple[bool, bool]:
    """(whether ``dst`` is the file ``src`` itself, whether ``dst`` exists as a name, like
    ``os.path.lexists``); the existence of a URL output is not looked up (False)."""
    if is_url(dst) or is_url(src):
        return dst == src, False
    if cwd.abspath(dst) == cwd.abspath(src):
        return True, True
    if folders.holds_nothing(dst):
        return False, False
    try:  # one lstat when the output does not exist yet (the usual case)
        st = os.lstat(dst)
    except OSError:
        return False, False
    try:
        if stat.S_ISLNK(st.st_mode):
            st = os.stat(dst)
        return os.path.samestat(st, os.stat(src)), True
    except OSError:
        return False, True


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
    """Expand inputs into jobs, one per (file, copy), mirroring each input's tree under -o.

    A sweep makes one job per (file, variant, copy), the variant's as ``OUT/<noise>/
    <severity>/<path>``, with ``rel`` (its output key) ``<noise>/<severity>/<path>``; the
    job holds the variant's index, not its noise.
    """
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
    existing: set[str] = set()
    claimed: dict[str, str] = {}
    prefix = _join_prefix(out)
    cwd = _Cwd()
    folders = _EmptyFolders()
    normcase = os.path.normcase
    # a sweep: every file once per variant, under OUT/<noise>/<severity>/, keyed by that path
    groups: list[tuple[int | None, str]] = [
        (i, v.prefix + "/") for i, v in enumerate(cfg.variants)
    ] or [(None, "")]
    for src, rel in sources:
        clean = _clean(rel)
        for variant, group in groups:
            for copy in range(cfg.copies):
                name = output_rel(group + clean, cfg, copy, medium)
                dst = prefix + name if prefix is not None else join(out, name)
                key = normcase(dst)
                error = None
                if key in claimed:
                    error = f"output {dst} is also the output of {claimed[key]}; rename one input"
                else:
                    itself, found = _probe(dst, src, cwd, folders)
                    if itself:
                        raise UsageError(f"the output for {src} would be the input file itself")
                    if found and not cfg.overwrite:
                        existing.add(dst)
                    claimed[key] = src
                jobs.append(Job(src, dst, group + rel, copy, error, variant=variant))
    return Plan(jobs, ignored, out, existing)
