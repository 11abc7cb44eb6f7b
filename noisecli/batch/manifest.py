"""OUT/metadata.csv: one row per complete output, kept across resumed runs."""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import stat
from collections.abc import Container, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from noisecli.batch.atomic import atomic_output
from noisecli.batch.job import FileResult
from noisecli.batch.storage import exists, is_url, join, read_url, write_bytes
from noisecli.errors import NoiseCliError, OutputError

MANIFEST_NAME = "metadata.csv"
COLUMNS = ("file_name", "source", "copy", "noise", "params", "seed", "clipped_fraction")
# a sweep's rows also say which of its noises (as written: the folder) and which severity
SWEEP_COLUMNS = ("corruption", "severity")

_json_string = json.encoder.encode_basestring_ascii  # what json.dumps uses for str
_JSON_KEYS: dict[str, str] = {}  # '"std": ' for "std": the names of parameters repeat
_repr = float.__repr__
_isfinite = math.isfinite
# Path.is_file's "no such file" errors; any other error of stat is raised
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def params_json(params: Mapping[str, Any]) -> str:
    """``json.dumps(params, sort_keys=True)``, faster for the flat parameter dicts of a
    noise (str keys; float, int, bool or str values); anything else goes to json."""
    parts = []
    for key, value in sorted(params.items()):
        head = _JSON_KEYS.get(key)
        if head is None:
            if type(key) is not str:
                return json.dumps(params, sort_keys=True)
            head = _json_string(key) + ": "
            if len(_JSON_KEYS) < 256:
                _JSON_KEYS[key] = head
        kind = type(value)
        if kind is float:
            parts.append(head + (_repr(value) if _isfinite(value) else _json_nonfinite(value)))
        elif kind is bool:
            parts.append(head + ("true" if value else "false"))
        elif kind is str:
            parts.append(head + _json_string(value))
        elif kind is int:
            parts.append(head + int.__repr__(value))
        else:
            return json.dumps(params, sort_keys=True)
    return "{" + ", ".join(parts) + "}"


def _json_nonfinite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _plain(rel: str) -> bool:
    """Whether ``rel`` is a relative path that os.path.relpath would leave as it is
    (a name starting with ``.``, even a hidden one, takes the slow way)."""
    return (
        rel != "" and rel[0] not in "./" and rel[-1] != "/" and "//" not in rel and "/." not in rel
    )


def _is_file(path: str) -> bool:
    """``Path(path).is_file()`` without the Path."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return False
        raise
    except ValueError:
        return False


class _Unsorted(Exception):
    """The manifest on disk is not sorted with one row per file."""


class Manifest:
    """Rows are appended and flushed as files complete, then sorted once at the end.

    Rows of a previous run are kept when their file still exists; a file written again
    replaces its row. Only whole files are listed: a row is added after the rename. The
    file is first touched when the first output is written: a run that writes nothing
    creates no manifest and leaves an existing one as it was.
    """

    def __init__(
        self,
        out_root: str,
        seed: int,
        noise: str,
        variants: Sequence[tuple[str, int, str]] | None = None,
    ) -> None:
        """``variants`` are a sweep's (folder, severity, noise name), indexed by
        ``Job.variant``: the rows then have the ``SWEEP_COLUMNS`` too (as do the rows of
        any run into an OUT whose manifest has them)."""
        self.variants = [(folder, str(severity), name) for folder, severity, name in variants or ()]
        self.columns = COLUMNS + SWEEP_COLUMNS if variants else COLUMNS
        self.url = join(out_root, MANIFEST_NAME) if is_url(out_root) else None
        self.out_root = Path(out_root)
        self.path = self.out_root / MANIFEST_NAME
        self.prefix = out_root.rstrip("/") + "/"
        self.seed = seed
        self.noise = noise
        self._seed = str(seed)
        self._root = str(self.out_root)
        # an output's name is what its path has after this (see _name)
        self._local_prefix = join(out_root, "x")[:-1] if os.sep == "/" else None
        self._fh: TextIO | None = None
        self._writer: Any = None  # csv.writer of _fh
        self._rows: dict[str, dict[str, str]] = {}  # URL outputs: written once at the end
        self._started = False
        self._carried = 0  # rows of earlier runs at the head of the file this run appends to
        self.error: str | None = None

    def open(self) -> None:
        """Ready to take rows; nothing is read or written before the first written file.

        A local manifest path taken by something else than a file fails the run at once.
        """
        self._started = False
        if self.url is None and self.path.is_dir():
            raise OutputError(f"cannot write {self.path}: {os.strerror(errno.EISDIR)}")

    def _start(self) -> bool:
        """Read the previous rows and open the file for appending, once; False on failure."""
        if self._started:
            return self.error is None
        self._started = True
        try:
            if self.url is not None:
                self._rows = {r["file_name"]: r for r in self._read_url()}
                return True
            self.out_root.mkdir(parents=True, exist_ok=True)
            self._adopt_columns(self._header())
            self._carry_over()
            self._fh = open(  # noqa: SIM115 - held open across the run, closed in close()
                self.path, "a", newline="", encoding="utf-8", errors="surrogateescape"
            )
        except NoiseCliError as exc:
            self.error = str(exc)
        except OSError as exc:
            self.error = f"cannot update {self.url or self.path}: {exc.strerror or exc}"
        if self.error is not None:
            return False
        self._writer = csv.writer(self._fh) if self._fh is not None else None
        return True

    def add(self, result: FileResult) -> None:
        """Append the row of a written file; a failure to do so is recorded, not raised."""
        if result.status != "written" or not self._start():
            return
        if self.url is not None:
            row = self.row(result)
            self._rows[row["file_name"]] = row
            return
        if self._writer is None or self._fh is None:
            return
        try:
            self._writer.writerow(self.fields(result))
            self._fh.flush()
        except OSError as exc:
            self.error = f"cannot update {self.path}: {exc.strerror}"

    def fields(self, result: FileResult) -> list[str]:
        """The row of a result, in the order of ``self.columns``."""
        job = result.job
        noise, extra = self.noise, None
        if job.variant is not None:
            folder, severity, noise = self.variants[job.variant]
            extra = (folder, severity)
        fields = [
            self._name(job.dst),
            job.src,
            str(job.copy),
            noise,
            params_json(result.params),
            self._seed,
            f"{result.clipped_fraction:.6g}",
        ]
        if len(self.columns) > len(COLUMNS):
            fields.extend(extra or ("", ""))
        return fields

    def row(self, result: FileResult) -> dict[str, str]:
        return dict(zip(self.columns, self.fields(result), strict=True))

    def _header(self) -> list[str] | None:
        """The header of the manifest on disk, if there is one."""
        if not self.path.is_file():
            return None
        with open(self.path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            return next(csv.reader(fh), None)

    def _adopt_columns(self, header: Sequence[str] | None) -> None:
        """Keep the sweep's columns of an earlier run's manifest, so that its rows keep them."""
        if header is not None and all(c in header for c in SWEEP_COLUMNS):
            self.columns = COLUMNS + SWEEP_COLUMNS

    def _name(self, dst: str) -> str:
        """The output's path relative to OUT, with ``/``."""
        if self.url is not None:
            return dst[len(self.prefix) :]
        prefix = self._local_prefix
        if prefix is not None and dst.startswith(prefix) and _plain(dst[len(prefix) :]):
            return dst[len(prefix) :]  # what relpath gives, for the paths the plan makes
        return Path(os.path.relpath(dst, self.out_root)).as_posix()

    def close(self) -> None:
        """Sort and deduplicate the rows; on failure the appended file stays as it is."""
        if not self._started:  # nothing was written: the manifest stays as it was
            return
        if self.url is not None:
            if self.error is None:
                self._write_url()
            return
        if self._fh is None:  # it could not be opened (self.error says why)
            return
        try:
            self._fh.close()
        except OSError as exc:
            self.error = f"cannot update {self.path}: {exc.strerror}"
        self._fh = None
        self._writer = None
        try:
            self._rewrite(self._read_existing(self._carried))
        except NoiseCliError as exc:  # atomic_output reports OS errors this way
            self.error = str(exc)
        except OSError as exc:
            self.error = f"cannot rewrite {self.path}: {exc.strerror}"

    def _read_existing(self, checked: int | None) -> list[str]:
        """CSV lines (one string each: a manifest may list millions of files) of the rows
        whose file still exists, one per file (the last one wins), sorted by file name.
        With ``checked``, only the first ``checked`` rows are checked on disk: at the end of
        a run, the rows it appended after those of earlier runs name files it has just
        written."""
        rows: dict[str, str] = {}
        for name, line in self._existing(rows, checked):
            rows[name] = line
        return [rows[k] for k in sorted(rows)]

    def _carry_over(self) -> None:
        """Rewrite the manifest with the rows of a previous run whose file still exists
        (sorted, one per file), before the first row of this run is appended.

        The file is streamed through when it is already sorted with one row per file (as
        every complete run leaves it); otherwise its lines are sorted in memory.
        """
        try:
            with (
                atomic_output(self.path) as tmp,
                open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh,
            ):
                csv.writer(fh).writerow(self.columns)
                last = None
                carried = 0
                for name, line in self._existing(()):
                    if last is not None and name <= last:
                        raise _Unsorted
                    fh.write(line)
                    last = name
                    carried += 1
            self._carried = carried
        except _Unsorted:
            self._carried = self._rewrite(self._read_existing(None))

    def _existing(
        self, found: Container[str], checked: int | None = None
    ) -> Iterator[tuple[str, str]]:
        """(file name, CSV line) of every row of the manifest on disk whose file exists,
        in file order; names in ``found``, and the rows after the first ``checked`` ones
        (when given), are known to exist."""
        if not self.path.is_file():
            return
        line = io.StringIO()
        writer = csv.writer(line)
        root = self._root
        below = root.rstrip("/") + "/" if os.sep == "/" else None
        with open(self.path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return
            columns = self.columns
            ours = header == list(columns)
            for index, values in enumerate(reader):
                if ours and len(values) == len(columns):
                    fields, name = values, values[0]
                elif not values:  # a blank line, as csv.DictReader skips it
                    continue
                else:  # as csv.DictReader reads it (missing values are None)
                    row: dict[str, str | None] = dict(zip(header, values, strict=False))
                    row.update(dict.fromkeys(header[len(values) :]))
                    fields = [row.get(c) or "" for c in columns]
                    name = row.get("file_name") or ""
                if not name:
                    continue
                if name not in found and (checked is None or index < checked):
                    path = below + name if below and name[0] != "/" else os.path.join(root, name)
                    if not _is_file(path):
                        continue
                line.seek(0)
                line.truncate()
                writer.writerow(fields)
                yield name, line.getvalue()

    def _read_url(self) -> list[dict[str, str]]:
        assert self.url is not None
        if not exists(self.url):
            return []
        text = read_url(self.url).decode("utf-8", "surrogateescape")
        reader = csv.DictReader(io.StringIO(text))
        self._adopt_columns(reader.fieldnames)
        return [{c: row.get(c) or "" for c in self.columns} for row in reader]

    def _write_url(self) -> None:
        assert self.url is not None
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, self.columns, restval="")
        writer.writeheader()
        writer.writerows(self._rows[k] for k in sorted(self._rows))
        try:
            write_bytes(self.url, buf.getvalue().encode("utf-8", "surrogateescape"))
        except NoiseCliError as exc:
            self.error = str(exc)

    def _rewrite(self, lines: list[str]) -> int:
        """The manifest made of the header and ``lines``; returns their number."""
        with (
            atomic_output(self.path) as tmp,
            open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh,
        ):
            csv.writer(fh).writerow(self.columns)
            fh.writelines(lines)
        return len(lines)
