"""Fixtures of the input-phase science tests (helpers: ``inputphase_helpers``)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
