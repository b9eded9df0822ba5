"""Test accuracy on a seeded test set: overall bit accuracy and accuracy per output step.

Protocol (the paper notebook's, made reproducible): ``n_batches`` batches (default 10) of
``batch_size`` (default 64) sequences at ``horizon`` (default 200) output steps, inputs drawn from
the model's own test stream ``make_generator(seed, "test")``; a fresh generator for each evaluated
length, so the test set at ``L`` does not depend on which other lengths are evaluated. The model
runs from ``h = 0`` over input and output phases; only the ``horizon`` output steps are scored. A
prediction counts as correct when ``sign(ŷ) == y`` (sign(0) = +1,
:func:`vbpipe.model.bit_accuracy`); a non-finite prediction (a diverged model) counts as wrong.

The forward pass runs in float64 by default: on CPU it is faster here than float32 (and
deterministic to more digits); pass ``dtype=torch.float32`` to reproduce training numerics exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..model import bit_accuracy, rnn_forward_single
from ..tasks import Task, build_batch, draw_inputs, make_generator

#: Sequences per forward pass: bounds the memory of the stacked hidden states.
CHUNK = 320

__all__ = ["AccuracyResult", "evaluate_accuracy", "run_model", "test_inputs"]


@dataclass(frozen=True)
class AccuracyResult:
    """Overall ``accuracy``, ``per_step`` ``(H,)`` and test sequence 0: its input phase
    ``(L, d)``, its targets and the raw model output ``(H, d)`` over the output phase."""

    accuracy: float
    per_step: np.ndarray
    sample_inputs: np.ndarray
    sample_target: np.ndarray
    sample_prediction: np.ndarray
    n_sequences: int


def test_inputs(seed: int, seq_length: int, input_dim: int, n_batches: int, batch_size: int):
    """``(L, n_batches*batch_size, d)`` float32 ±1 inputs from the model's ``test`` stream."""
    generator = make_generator(int(seed), "test")
    batches = [draw_inputs(generator, seq_length, batch_size, input_dim) for _ in range(n_batches)]
    return torch.cat(batches, dim=1)


def run_model(x: torch.Tensor, weights: dict[str, torch.Tensor], return_hidden: bool = False):
    """``rnn_forward_single`` without autograd (``x`` ``(T, B, D)``, weights on the same
    device/dtype)."""
    with torch.no_grad():
        return rnn_forward_single(x, weights, return_hidden=return_hidden)


def evaluate_accuracy(
    task: Task,
    weights: dict[str, torch.Tensor],
    seed: int,
    seq_length: int,
    horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
) -> AccuracyResult:
    """Accuracy of one model (weights as torch tensors, biases included when present) at one
    length."""
    if n_batches < 1 or batch_size < 1 or horizon < 1:
        raise ValueError("n_batches, batch_size and horizon must be >= 1")
    inputs = test_inputs(seed, seq_length, task.input_dim, n_batches, batch_size)
    weights = {k: v.to(device=device, dtype=dtype) for k, v in weights.items()}
    correct_sum = torch.zeros(horizon, dtype=torch.float64)
    sample = None
    total = inputs.shape[1]
    for start in range(0, total, CHUNK):
        chunk = inputs[:, start : start + CHUNK].to(device=device, dtype=dtype)
        x, y, _ = build_batch(task, chunk, horizon)
        y_hat = run_model(x, weights)[seq_length:]
        target = y[seq_length:]
        correct = bit_accuracy(y_hat, target) * torch.isfinite(y_hat)
        correct_sum += correct.sum(dim=(1, 2)).to("cpu", torch.float64)
        if sample is None:
            sample = [a[:, 0].cpu().numpy().astype(np.float64) for a in (chunk, target, y_hat)]
    per_step = (correct_sum / (total * task.input_dim)).numpy()
    return AccuracyResult(float(per_step.mean()), per_step, *sample, n_sequences=int(total))
