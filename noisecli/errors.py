"""Exceptions raised by noisecli; ``cli.py`` maps them to messages and exit codes."""

from __future__ import annotations

import os
import tempfile
import traceback


class NoiseCliError(Exception):
    """Base class of every error noisecli reports without a traceback."""

    exit_code = 1


class UsageError(NoiseCliError):
    """A bad option value or an unsafe request: nothing was done (exit code 2)."""

    exit_code = 2


class InputError(NoiseCliError):
    """One input file cannot be read or decoded; the run goes on without it."""


class SilentInputError(InputError):
    """The input is digital silence, so a signal-to-noise ratio is undefined."""


class OutputError(NoiseCliError):
    """One output cannot be written (unsupported format, existing file, ...)."""


class DiskFullError(OutputError):
    """The output filesystem is full: no later file can succeed, so the run stops."""


class ClippingError(OutputError):
    """The noisy output would clip and the user asked for a failure instead."""


def save_traceback() -> str:
    """Write the current exception's traceback to a temp file; return where it is."""
    fd, path = tempfile.mkstemp(prefix="noisecli-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exc(file=fh)
    return f"traceback saved to {path}"
