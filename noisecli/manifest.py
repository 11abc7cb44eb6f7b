"""OUT/metadata.csv: one row per complete output, kept across resumed runs."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import TextIO

from noisecli.atomic import atomic_output
from noisecli.errors import NoiseCliError
from noisecli.pipeline import FileResult

MANIFEST_NAME = "metadata.csv"
COLUMNS = ("file_name", "source", "copy", "noise", "params", "seed", "clipped_fraction")


class Manifest:
    """Rows are appended and flushed as files complete, then sorted once at the end.

    Rows of a previous run are kept when their file still exists; a file written again
    replaces its row. Only whole files are listed: a row is added after the rename.
    """

    def __init__(self, out_root: Path, seed: int, noise: str) -> None:
        self.path = out_root / MANIFEST_NAME
        self.out_root = out_root
        self.seed = seed
        self.noise = noise
        self._fh: TextIO | None = None
        self._writer: csv.DictWriter[str] | None = None
        self.error: str | None = None

    def open(self) -> None:
        previous = self._read_existing()
        self.out_root.mkdir(parents=True, exist_ok=True)
        self._rewrite(previous)
        self._fh = open(  # noqa: SIM115 - held open across the run, closed in close()
            self.path, "a", newline="", encoding="utf-8", errors="surrogateescape"
        )
        self._writer = csv.DictWriter(self._fh, COLUMNS)

    def add(self, result: FileResult) -> None:
        """Append the row of a written file; a failure to do so is returned, not raised."""
        if self._writer is None or self._fh is None or result.status != "written":
            return
        try:
            self._writer.writerow(self.row(result))
            self._fh.flush()
        except OSError as exc:
            self.error = f"cannot update {self.path}: {exc.strerror}"

    def row(self, result: FileResult) -> dict[str, str]:
        job = result.job
        return {
            "file_name": Path(os.path.relpath(job.dst, self.out_root)).as_posix(),
            "source": job.src,
            "copy": str(job.copy),
            "noise": self.noise,
            "params": json.dumps(result.params, sort_keys=True),
            "seed": str(self.seed),
            "clipped_fraction": f"{result.clipped_fraction:.6g}",
        }

    def close(self) -> None:
        """Sort and deduplicate the rows; on failure the appended file stays as it is."""
        if self._fh is None:
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

    def _read_existing(self) -> list[dict[str, str]]:
        """Rows whose file still exists, one per file (the last one wins)."""
        if not self.path.is_file():
            return []
        rows: dict[str, dict[str, str]] = {}
        with open(self.path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            for row in csv.DictReader(fh):
                name = row.get("file_name")
                if name and (self.out_root / name).is_file():
                    rows[name] = {c: row.get(c) or "" for c in COLUMNS}
        return [rows[k] for k in sorted(rows)]

    def _rewrite(self, rows: list[dict[str, str]]) -> None:
        with (
            atomic_output(self.path) as tmp,
            open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh,
        ):
            writer = csv.DictWriter(fh, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
