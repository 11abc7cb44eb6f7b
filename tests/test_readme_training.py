"""The README's "In a training loop" snippets run as written, so the README cannot drift.

Each ```python block of that section runs in a fresh namespace on the small data it makes
itself, and must check its result (an ``assert``). Snippets using torch are skipped without
torch, except under CI (``CI=true``), where torch is installed and a missing torch fails.
"""

from __future__ import annotations

import importlib
import os
import re
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## In a training loop"
LIMIT_S = 2.0  # each snippet, imports done: small data, a tutorial's worth of work


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{SECTION}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def snippets() -> list[tuple[str, str]]:
    """(title, code) of every python block of the section; the title is the bold lead-in."""
    found = []
    text = section()
    for match in re.finditer(r"```python\n(.*?)```", text, re.S):
        titles = re.findall(r"\*\*(.+?)\*\*", text[: match.start()])
        title = titles[-1] if titles else "snippet"
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        found.append((slug, match.group(1)))
    return found


def uses_torch(code: str) -> bool:
    return bool(re.search(r"^\s*(import torch|from torch|from noisecli\.torch)", code, re.M))


def test_section_follows_from_python_and_states_the_rules() -> None:
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"^## .+$", text, re.M)
    assert headings[headings.index("## From Python") + 1] == SECTION
    body = section()
    assert "own units" in body and "clipped" in body
    assert len(snippets()) >= 8


@pytest.mark.parametrize(("title", "code"), snippets(), ids=[t for t, _ in snippets()])
def test_snippet_runs(title: str, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert re.search(r"^\s*assert ", code, re.M), f"snippet {title!r} checks nothing"
    if uses_torch(code):
        if os.environ.get("CI") == "true":
            import torch  # noqa: F401  (CI installs torch: a missing torch fails there)
        else:
            pytest.importorskip("torch", reason="torch is not installed: pip install torch==2.13.0")
        importlib.import_module("noisecli.torch")
    importlib.import_module("noisecli.api.augment")  # imports are not the snippet's time

    started = time.perf_counter()
    exec(compile(code, f"README.md: {title}", "exec"), {"__name__": "readme_snippet"})
    elapsed = time.perf_counter() - started
    assert elapsed < LIMIT_S, f"snippet {title!r} took {elapsed:.2f} s"
    capsys.readouterr()
