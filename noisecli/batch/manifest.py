"""OUT/metadata.csv: one row per complete output, kept across resumed runs."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from pathlib import Path
from typing import TextIO

from noisecli.batch.atomic import atomic_output
from noisecli.batch.job import FileResult
from noisecli.batch.storage import exists, is_url, join, read_url, write_bytes
from noisecli.errors import NoiseCliError, OutputError

MANIFEST_NAME = "metadata.csv"
COLUMNS = ("file_name", "source", "copy", "noise", "params", "seed", "clipped_fraction")


class Manifest:
    """Rows are appended and flushed as files complete, then sorted once at the end.

    Rows of a previous run are kept when their file still exists; a file written again
    replaces its row. Only whole files are listed: a row is added after the rename. The
    file is first touched when the first output is written: a run that writes nothing
    creates no manifest and leaves an existing one as it was.
    """

    def __init__(self, out_root: str, seed: int, noise: str) -> None:
        self.url = join(out_root, MANIFEST_NAME) if is_url(out_root) else None
        self.out_root = Path(out_root)
        self.path = self.out_root / MANIFEST_NAME
        self.prefix = out_root.rstrip("/") + "/"
        self.seed = seed
        self.noise = noise
        self._fh: TextIO | None = None
        self._writer: csv.DictWriter[str] | None = None
        self._rows: dict[str, dict[str, str]] = {}  # URL outputs: written once at the end
        self._started = False
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
            previous = self._read_existing()
            self.out_root.mkdir(parents=True, exist_ok=True)
            self._rewrite(previous)
            self._fh = open(  # noqa: SIM115 - held open across the run, closed in close()
                self.path, "a", newline="", encoding="utf-8", errors="surrogateescape"
            )
        except NoiseCliError as exc:
            self.error = str(exc)
        except OSError as exc:
            self.error = f"cannot update {self.url or self.path}: {exc.strerror or exc}"
        if self.error is not None:
            return False
        self._writer = csv.DictWriter(self._fh, COLUMNS) if self._fh is not None else None
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
            self._writer.writerow(self.row(result))
            self._fh.flush()
        except OSError as exc:
            self.error = f"cannot update {self.path}: {exc.strerror}"

    def row(self, result: FileResult) -> dict[str, str]:
        job = result.job
        if self.url is not None:
            name = job.dst[len(self.prefix) :]
        else:
            name = Path(os.path.relpath(job.dst, self.out_root)).as_posix()
        return {
            "file_name": name,
            "source": job.src,
            "copy": str(job.copy),
            "noise": self.noise,
            "params": json.dumps(result.params, sort_keys=True),
            "seed": str(self.seed),
            "clipped_fraction": f"{result.clipped_fraction:.6g}",
        }

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
            self._rewrite(self._read_existing())
        except NoiseCliError as exc:  # atomic_output reports OS errors this way
            self.error = str(exc)
        except OSError as exc:
            self.error = f"cannot rewrite {self.path}: {exc.strerror}"

    def _read_existing(self) -> list[str]:
        """CSV lines (one string each: a manifest may list millions of files) of the rows
        whose file still exists, one per file (the last one wins), sorted by file name."""
        if not self.path.is_file():
            return []
        rows: dict[str, str] = {}
        line = io.StringIO()
        writer = csv.writer(line)
        with open(self.path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            for row in csv.DictReader(fh):
                name = row.get("file_name")
                if name and (self.out_root / name).is_file():
                    line.seek(0)
                    line.truncate()
                    writer.writerow([row.get(c) or "" for c in COLUMNS])
                    rows[name] = line.getvalue()
        return [rows[k] for k in sorted(rows)]

    def _read_url(self) -> list[dict[str, str]]:
        assert self.url is not None
        if not exists(self.url):
            return []
        text = read_url(self.url).decode("utf-8", "surrogateescape")
        return [{c: row.get(c) or "" for c in COLUMNS} for row in csv.DictReader(io.StringIO(text))]

    def _write_url(self) -> None:
        assert self.url is not None
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, COLUMNS)
        writer.writeheader()
        writer.writerows(self._rows[k] for k in sorted(self._rows))
        try:
            write_bytes(self.url, buf.getvalue().encode("utf-8", "surrogateescape"))
        except NoiseCliError as exc:
            self.error = str(exc)

    def _rewrite(self, lines: list[str]) -> None:
        with (
            atomic_output(self.path) as tmp,
            open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh,
        ):
            csv.writer(fh).writerow(COLUMNS)
            fh.writelines(lines)
