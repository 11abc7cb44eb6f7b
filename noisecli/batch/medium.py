"""What a batch run needs to know of a medium, handed in by the caller.

batch never imports image/ or audio/: the caller passes a :class:`Medium` whose ``work``
is a top-level (picklable) function noising one file. Pool and cluster workers call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from noisecli.batch.job import FileResult, Job
    from noisecli.config import RunConfig


def has_extension(name: str, extensions: Mapping[str, str]) -> bool:
    """True if ``name`` ends in one of ``extensions`` (case-insensitive, not a bare dotfile)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in extensions


def _nothing() -> None:
    """The default hook: nothing to do."""


@dataclass(frozen=True)
class Medium:
    """One medium's file test, output names and job function.

    ``extensions`` are the names picked up from a folder (extension -> format),
    ``format_extension`` the extension of each ``--format``, ``default_extension`` the one
    given to a name without any. ``preload`` runs in the parent before a pool forks,
    ``worker_init`` once in every pool or cluster worker.
    """

    name: str
    extensions: Mapping[str, str]
    format_extension: Mapping[str, str]
    default_extension: str
    work: Callable[[Job, RunConfig], FileResult]
    preload: Callable[[], None] = _nothing
    worker_init: Callable[[], None] = _nothing

    def wanted(self, name: str) -> bool:
        """Whether a directory walk picks up ``name``."""
        return has_extension(name, self.extensions)
