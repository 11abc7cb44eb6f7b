"""Tests of noisecli.torch (the PyTorch transform and Dataset wrapper).

Torch is optional: without it these tests are skipped, except under CI (``CI=true``), where
torch is installed and a missing torch must fail the run.
"""

from __future__ import annotations

import os

import pytest

if os.environ.get("CI") == "true":
    import torch  # noqa: F401
else:
    pytest.importorskip(
        "torch", reason="torch is not installed: pip install torch==2.13.0 (CI installs it)"
    )
