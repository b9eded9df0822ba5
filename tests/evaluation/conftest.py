"""Fixtures of the evaluation tests (builders live in evalhelpers.py)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture
def experiment(tmp_path) -> Path:
    """An empty experiment directory ``tmp_path/exp``."""
    root = tmp_path / "exp"
    root.mkdir()
    return root
