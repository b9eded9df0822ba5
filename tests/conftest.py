"""Shared test settings: one torch thread (the machines are small and shared), no GPU needed."""

import fcntl
import os
import tempfile
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)
os.environ.setdefault("PYTHONHASHSEED", "0")


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU; torch sees none")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_gpu)


@pytest.fixture
def rng():
    """A seeded numpy generator."""
    import numpy as np

    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def one_slurm_test_at_a_time(request):
    """The Slurm tests share one cluster: each holds a machine-wide file lock while it runs, so that
    under `-n 2` (the README's test command), or beside another pytest session, none sees another's
    jobs in sacct or has its jobs cancelled by another's fault injection. (xdist's `loadgroup` cannot
    do this: with pytest 9.2 and pytest-xdist 3.8 its group marks are silently ignored.)"""
    if "slurm" not in request.keywords:
        yield
        return
    default = Path(tempfile.gettempdir()) / "vbpipe-slurm-tests.lock"
    with open(os.environ.get("VBPIPE_SLURM_TEST_LOCK", default), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
