"""Variable-length helpers on hand-built spectra and curves."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from scipy.linalg import block_diag

from vbpipe.analysis.variable_length import (
    conditions_figure,
    dominant_period,
    per_step_figure,
    root_of_unity_orders,
    roots_of_unity_figure,
)
from vbpipe.evaluation.spectra import eigenvalues


def _cycle(period):
    return np.roll(np.eye(period), 1, axis=0)


def test_root_of_unity_orders_of_cyclic_shifts():
    """Shifts with periods 3, 4, 5 hold their roots of unity: one eigenvalue per root, and a root
    of order P appears once per period that P divides."""
    eig = eigenvalues(block_diag(_cycle(3), _cycle(4), _cycle(5), 0.5 * np.eye(2)))
    counts = root_of_unity_orders(eig, max_order=6)
    assert counts == {"1": 3, "2": 1, "3": 2, "4": 2, "5": 4, "6": 0, "other": 0}
    counts = root_of_unity_orders(np.exp(1j * np.array([0.3, 2.0])), max_order=6)
    assert counts["other"] == 2


def test_dominant_period():
    steps = np.arange(200)
    curve = 0.8 + 0.1 * ((steps % 20) < 5)  # a beat with period 20
    assert dominant_period(curve)[0] == 20
    curve = 0.9 + 0.05 * np.cos(2 * np.pi * steps / 4)
    assert dominant_period(curve)[0] == 4
    assert dominant_period(np.ones(50)) == (0, 0.0)
    # A slow drift plus a period-20 beat: the beat, not the drift's short-lag correlation.
    curve = 0.8 + 0.002 * steps + 0.05 * ((steps % 20) < 5)
    assert dominant_period(curve)[0] == 20


def test_figures_return_figures():
    per_step = {3: np.full(50, 0.9), 4: np.linspace(0.6, 1, 50)}
    assert isinstance(per_step_figure(per_step, reference=per_step, title="t"), Figure)
    acc = {"h48": {3: [0.9, 0.95], 4: [0.8]}, "h128": {3: [0.99], 4: [0.97, 0.96]}}
    assert isinstance(conditions_figure(acc, reference={3: 0.77, 4: 0.82}), Figure)
    fig = roots_of_unity_figure({"a": np.exp(2j * np.pi * np.arange(4) / 4)}, periods=[3, 4])
    assert isinstance(fig, Figure)
