"""A process-wide stop request, set by the driver on Ctrl-C/SIGTERM and read between chunks."""

from __future__ import annotations

from typing import Protocol


class _Event(Protocol):
    def is_set(self) -> bool: ...


_event: _Event | None = None


class Stopped(Exception):
    """Raised between chunks of a long job once a stop was requested."""


def install(event: _Event | None) -> None:
    """Make ``event`` the stop request of this process (a worker gets the driver's)."""
    global _event
    _event = event


def stop_requested() -> bool:
    """True once the run was asked to stop; long jobs check it between chunks."""
    return _event is not None and _event.is_set()


def raise_if_stopped() -> None:
    """Raise ``Stopped`` once the run was asked to stop."""
    if stop_requested():
        raise Stopped
