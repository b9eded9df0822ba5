"""Shared helpers for the input-phase science tests (small shapes: every test runs in well under a
second). A module of its own, not conftest: several test folders have a conftest, and a plain
``from conftest import`` would find whichever was imported first."""

from __future__ import annotations

import itertools

import numpy as np

from vbpipe.analysis.input_phase import run_rnn
from vbpipe.taskspec import Task

#: The diagonal task for d = L = 4 (the small analogue of the paper's T2): output j copies
#: y_{t-4+j}[j], so dimension j repeats with period 4 - j.
DIAG4 = (sum(2 ** (5 * j) for j in range(4)), 0, 0)
#: A permuted and signed variant of it (the small analogue of T3/T4).
DIAG4_SIGNED = (DIAG4[0], 1 + 4 * 2, 0b1010)


def simulate(weights, task_id, d, length, inputs, horizon, use_eos=False):
    """Outputs of the RNN ``(H, B, d)`` and targets ``(H, B, d)`` for ``inputs`` ``(L, B, d)``."""
    operator = Task(task_id, d, length).operator(length)
    seq = list(inputs)
    for _ in range(horizon):
        seq.append(
            np.einsum("lbd,ldj->bj", np.array(seq[-length:]), operator.reshape(length, d, d))
        )
    targets = np.array(seq[length:])
    d_in = weights["W_ih"].shape[1]
    x = np.zeros((length + horizon, inputs.shape[1], d_in))
    x[:length, :, :d] = inputs
    if use_eos:
        x[length, :, d] = -1.0
    hidden, _, _ = run_rnn(weights, x)
    return hidden[length:] @ np.asarray(weights["W_r"]).T, targets


def accuracy(outputs, targets):
    """Bit accuracy with sign(0) = +1, as in training and evaluation."""
    return float(np.mean(np.where(outputs >= 0, 1.0, -1.0) == targets))


def all_inputs(length, d):
    """Every ±1 input phase ``(L, 2**(L*d), d)``: expectations over inputs become exact means."""
    rows = np.array(list(itertools.product((-1.0, 1.0), repeat=length * d)))
    return rows.reshape(-1, length, d).transpose(1, 0, 2)
