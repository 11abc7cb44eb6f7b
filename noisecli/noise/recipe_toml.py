"""The text of a recipe file: TOML parsing with line numbers, and TOML writing.

This module knows TOML, not noises: :func:`parse` turns the text into plain tables and
finds where each one is written, :func:`dump` writes plain tables back. The model and the
format it reads are :mod:`noisecli.noise.recipe`.

TOML parsers report the line of a syntax error but not where a valid table is, so the
lines are found by scanning the text: strings and comments are blanked out first (same
length, newlines kept), then table headers (``[[step]]``, ``[[step.one_of]]``), keys at
the start of a line (``p = 0.3``) and the inline tables of an array (``one_of = [{...},
{...}]``, each on one line as TOML requires) are located in what is left.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from noisecli.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Where:
    """Where a table of a recipe was written, for error messages.

    ``label`` names the table (``camera.toml:7`` in a file, ``steps[1]`` for Python data);
    ``keys`` maps the table's keys to their lines when known.
    """

    label: str
    source: str | None = None
    line: int | None = None
    keys: Mapping[str, int] = field(default_factory=dict)

    def at(self, key: str | None = None) -> str:
        """The label of the table, or of the line of ``key`` if it is known."""
        if self.source is None or self.line is None:
            return self.label
        line = self.keys.get(key, self.line) if key is not None else self.line
        return f"{self.source}:{line}"

    def fail(self, message: str, key: str | None = None) -> UsageError:
        """A :class:`UsageError` prefixed with this place."""
        return UsageError(f"{self.at(key)}: {message}")


@dataclass(frozen=True)
class Table:
    """One ``[[step]]`` table (or one entry of a ``one_of``), where it is, its entries."""

    data: Mapping[str, Any]
    where: Where
    entries: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Document:
    """A parsed recipe file: top-level keys (without ``step``), and the step tables."""

    top: Mapping[str, Any]
    where: Where
    steps: tuple[Table, ...] | None  # None when there is no ``step`` key at all
    step_value: Any = None  # the raw ``step`` value, when it is not an array of tables


_AT_END = "(at end of document)"
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_HEADER = re.compile(r"^[ \t]*(\[\[?)([^\[\]\n]*)(\]\]?)[ \t]*$")
_KEY = re.compile(r"^[ \t]*(\"[^\"\n]*\"|'[^'\n]*'|[A-Za-z0-9_-]+)[ \t]*=")


def loads(text: str, source: str) -> dict[str, Any]:
    """``tomllib.loads`` with syntax errors as ``UsageError("source:LINE:COL: message")``."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        last = max(1, len(text.rstrip("\n").split("\n")))
        found = _POSITION.search(message)
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        col = getattr(exc, "colno", None) or (int(found.group(2)) if found else None)
        message = getattr(exc, "msg", None) or _POSITION.sub("", message)
        if message.endswith(_AT_END):
            message = message[: -len(_AT_END)].rstrip()
            line = line or last
        if line is not None and line > last:  # past the last line: the unfinished one
            line, col = last, None
        where = f"{source}:{line}:{col}" if line and col else f"{source}:{line}" if line else source
        raise UsageError(f"{where}: invalid TOML: {message}") from None
    return data


def parse(text: str, source: str) -> Document:
    """Parse a recipe file and locate its tables (see the module docstring)."""
    data = loads(text, source)
    scan = _Scan(text)
    top_keys = scan.top_keys()
    where = Where(source, source, 1, top_keys)
    top = {k: v for k, v in data.items() if k != "step"}
    if "step" not in data:
        return Document(top, where, None)
    value = data["step"]
    if not (isinstance(value, list) and all(isinstance(t, dict) for t in value)):
        return Document(top, where, None, value)
    headers = [h for h in scan.headers if h.array and h.name == ("step",)]
    if len(headers) == len(value):
        steps = tuple(scan.step(table, h, source) for table, h in zip(value, headers, strict=True))
    else:  # ``step = [{...}, {...}]``: an inline array of inline tables
        line = top_keys.get("step", 1)
        lines = scan.inline_lines(scan.key_pos(0, len(scan.lines), "step"), len(value))
        steps = tuple(
            Table(table, Where(source, source, lines[i] if lines else line), ())
            for i, table in enumerate(value)
        )
    return Document(top, where, steps)


@dataclass(frozen=True)
class _Header:
    line: int  # 1-based
    array: bool
    name: tuple[str, ...]


class _Scan:
    """The text with strings and comments blanked out, its headers and lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = _mask(text)
        self.lines = self.masked.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.headers: list[_Header] = []
        depth = 0  # of brackets and braces at the start of each line: headers are at 0
        for i, line in enumerate(self.lines):
            m = _HEADER.match(line) if depth == 0 else None
            depth += sum(line.count(c) for c in "[{") - sum(line.count(c) for c in "]}")
            if m and (m.group(1) == "[[") == (m.group(3) == "]]"):
                raw = self.text[self.starts[i] + m.start(2) : self.starts[i] + m.end(2)]
                self.headers.append(_Header(i + 1, m.group(1) == "[[", _dotted(raw)))

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)

    def _end(self, line: int) -> int:
        """The line of the next header after ``line`` (or one past the last line)."""
        for h in self.headers:
            if h.line > line:
                return h.line
        return len(self.lines) + 1

    def keys(self, first: int, end: int) -> dict[str, int]:
        """Keys written at the start of lines ``first .. end-1`` (1-based) -> their line."""
        found: dict[str, int] = {}
        for n in range(first, end):
            m = _KEY.match(self.lines[n - 1])
            if m:
                raw = self.text[self.starts[n - 1] + m.start(1) : self.starts[n - 1] + m.end(1)]
                found.setdefault(raw.strip("\"'"), n)
        return found

    def key_pos(self, first: int, end: int, key: str) -> int | None:
        """Text position just after ``key =`` in lines ``first .. end-1`` (1-based)."""
        for n in range(max(first, 1), end):
            m = _KEY.match(self.lines[n - 1])
            if m:
                raw = self.text[self.starts[n - 1] + m.start(1) : self.starts[n - 1] + m.end(1)]
                if raw.strip("\"'") == key:
                    return self.starts[n - 1] + m.end()
        return None

    def top_keys(self) -> dict[str, int]:
        first_header = self.headers[0].line if self.headers else len(self.lines) + 1
        found = self.keys(1, first_header)
        for h in self.headers:
            found.setdefault(h.name[0], h.line)
        return found

    def inline_lines(self, pos: int | None, count: int) -> list[int]:
        """Lines of the inline tables at the top level of the array starting after ``pos``."""
        if pos is None:
            return []
        lines: list[int] = []
        depth = 0
        for i in range(pos, len(self.masked)):
            c = self.masked[i]
            if c in "[{":
                if c == "{" and depth == 1:
                    lines.append(self.line_of(i))
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth <= 0:
                    break
        return lines if len(lines) == count else []

    def step(self, table: dict[str, Any], header: _Header, source: str) -> Table:
        end = self._end(header.line)
        where = Where(source, source, header.line, self.keys(header.line + 1, end))
        entries = table.get("one_of")
        if not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
            return Table(table, where)
        # entries as ``[[step.one_of]]`` tables, up to the next ``[[step]]``
        stop = next(
            (h.line for h in self.headers if h.line > header.line and h.name == ("step",)),
            len(self.lines) + 1,
        )
        subs = [
            h
            for h in self.headers
            if header.line < h.line < stop and h.array and h.name == ("step", "one_of")
        ]
        if subs and len(subs) == len(entries):
            where = Where(source, source, header.line, {**where.keys, "one_of": subs[0].line})
            located = tuple(
                Table(e, Where(source, source, h.line, self.keys(h.line + 1, self._end(h.line))))
                for e, h in zip(entries, subs, strict=True)
            )
            return Table(table, where, located)
        one_of_line = where.keys.get("one_of", header.line)
        lines = self.inline_lines(self.key_pos(header.line + 1, end, "one_of"), len(entries))
        located = tuple(
            Table(e, Where(source, source, lines[i] if lines else one_of_line))
            for i, e in enumerate(entries)
        )
        return Table(table, where, located)


def _dotted(raw: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in raw.split("."))


def _mask(text: str) -> str:
    """``text`` with the contents of strings and comments replaced by spaces.

    Positions and newlines are kept; quotes stay, so ``"a" = 1`` still looks like a key.
    The text is valid TOML (it parsed), which keeps this scanner simple.
    """
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            j = i + 3
            while j < n:
                if quote == '"""' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    while j + 3 < n and text[j + 3] == quote[0]:
                        j += 1  # up to two quotes may end the content
                    break
                j += 1
            blank(i + 3, j)
            i = j + 3
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if c == '"' and text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def dump(top: Mapping[str, Scalar], steps: Sequence[Mapping[str, Any]]) -> str:
    """TOML text of a recipe: top-level scalars, then one ``[[step]]`` table per step.

    Step values are scalars, or (``one_of``) a list of tables of scalars, written as a
    multi-line array with one inline table per line.
    """
    lines = [f"{key} = {_scalar(value)}" for key, value in top.items()]
    for step in steps:
        lines += ["", "[[step]]"]
        for key, value in step.items():
            if isinstance(value, list):
                lines.append(f"{key} = [")
                for entry in value:
                    inner = ", ".join(f"{k} = {_scalar(v)}" for k, v in entry.items())
                    lines.append(f"    {{ {inner} }},")
                lines.append("]")
            else:
                lines.append(f"{key} = {_scalar(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a recipe value must be finite, got {value!r}")
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are valid in TOML basic strings; TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a recipe")
