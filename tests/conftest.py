"""Shared test settings: one torch thread (the machines are small and shared), no GPU needed."""

import os

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
        if "slurm" in item.keywords:
            # One Slurm cluster for all: under `-n 2 --dist loadgroup` (the README's test command)
            # the Slurm tests run one after the other on one worker, so that none sees another's
            # jobs in sacct.
            item.add_marker(pytest.mark.xdist_group("slurm"))


@pytest.fixture
def rng():
    """A seeded numpy generator."""
    import numpy as np

    return np.random.default_rng(12345)
