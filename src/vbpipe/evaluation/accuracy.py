"""Test accuracy on a seeded test set (overall and per output step), and hidden trajectories.

Protocol (the paper notebook's, made reproducible): ``n_batches`` batches (default 10) of
``batch_size`` (default 64) sequences at ``horizon`` (default 200) output steps, inputs drawn from
the model's own test stream (:func:`vbpipe.taskspec.numpy_stream` ``(seed, "test")``, a numpy
generator: evaluation on CPU imports no torch); a fresh generator for each evaluated length, so the
test set at ``L`` does not depend on which other lengths are evaluated. The model
runs from ``h = 0`` over input and output phases; only the ``horizon`` output steps are scored. A
prediction counts as correct when ``sign(ŷ) == y`` (sign(0) = +1, as in training's
:meth:`vbpipe.training.kernel.PackedRNN.loss`); a non-finite prediction (a diverged model) counts as wrong.

Speed: the forward pass is :func:`vbpipe.recurrence.output_phase`, float32 (the precision the model
was trained and stored in), keeping nothing but the state; numpy on CPU, torch on a GPU. The test
inputs and targets are the same numpy arrays either way. The Figure-3 trajectory of one sequence
(:func:`hidden_trajectory`) is :func:`vbpipe.recurrence.forward`, float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..recurrence import forward, output_phase, output_phase_torch
from ..taskspec import Task, index_map, numpy_stream

__all__ = [
    "AccuracyResult",
    "evaluate_accuracy",
    "hidden_trajectory",
    "draw_test_set",
    "output_targets",
]


@dataclass(frozen=True)
class AccuracyResult:
    """Overall ``accuracy``, ``per_step`` ``(H,)`` and test sequence 0: its input phase
    ``(L, d)``, its targets and the raw model output ``(H, d)`` over the output phase (float32,
    the precision they were computed in)."""

    accuracy: float
    per_step: np.ndarray
    sample_inputs: np.ndarray
    sample_target: np.ndarray
    sample_prediction: np.ndarray
    n_sequences: int


def draw_test_set(seed: int, seq_length: int, input_dim: int, n_batches: int, batch_size: int):
    """``(L, n_batches*batch_size, d)`` float32 ±1 inputs from the model's ``test`` stream."""
    generator = numpy_stream(int(seed), "test")
    batches = [
        generator.integers(0, 2, size=(seq_length, batch_size, input_dim), dtype=np.int8)
        for _ in range(n_batches)
    ]
    bits = np.concatenate(batches, axis=1).astype(np.float32)
    return bits * 2 - 1


def input_phase(task: Task, inputs: np.ndarray) -> np.ndarray:
    """``(L + 1, S, D_in)``: the inputs, then the first output step's input (zero, or the EOS flag
    ``-1`` on the extra channel), as :func:`vbpipe.tasks.build_batch` lays them out."""
    length, n_seq, d = inputs.shape
    x = np.zeros((length + 1, n_seq, task.model_input_dim), dtype=np.float32)
    x[:length, :, :d] = inputs
    if task.use_eos:
        x[length, :, d] = -1.0
    return x


def output_targets(task: Task, inputs: np.ndarray, horizon: int) -> np.ndarray:
    """Targets ``(H, S, d)`` of inputs ``(L, S, d)`` over the output phase, gathered through the
    task's index map (:func:`vbpipe.tasks.target_index_map`: exact, like
    :func:`vbpipe.tasks.build_batch`, without building the whole ``(L + H, S, d)`` batch). The
    result is a transposed view of an ``(H, d, S)`` array."""
    src_time, src_dim, sign = index_map(task.task_id, task.input_dim, inputs.shape[0], horizon)
    picked = inputs[src_time, :, src_dim]  # (H, d, S)
    picked *= sign[..., None].astype(inputs.dtype)
    return picked.transpose(0, 2, 1)  # a view: (H, S, d)


def evaluate_accuracy(
    task: Task,
    weights: dict[str, np.ndarray],
    seed: int,
    seq_length: int,
    horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    device: str = "cpu",
    activation: str = "tanh",
) -> AccuracyResult:
    """Accuracy of one model (numpy weights, biases included when present) at one length;
    ``activation`` is the model's (``tanh``, or ``linear`` for the identity)."""
    if n_batches < 1 or batch_size < 1 or horizon < 1:
        raise ValueError("n_batches, batch_size and horizon must be >= 1")
    inputs = draw_test_set(seed, seq_length, task.input_dim, n_batches, batch_size)
    x_input = input_phase(task, inputs)  # the input phase and output step 0
    target = output_targets(task, inputs, horizon)
    if str(device).split(":")[0] == "cpu":
        out = output_phase(x_input, weights, horizon, activation)
    else:
        out = output_phase_torch(x_input, weights, horizon, device, activation)
    correct = ((out >= 0) == (target > 0)) & np.isfinite(out)
    total = inputs.shape[1]
    per_step = np.count_nonzero(correct.reshape(horizon, -1), axis=1) / float(
        total * task.input_dim
    )
    sample = [np.array(a[:, 0], dtype=np.float32) for a in (inputs, target, out)]
    return AccuracyResult(float(per_step.mean()), per_step, *sample, n_sequences=int(total))


def hidden_trajectory(
    weights: dict[str, np.ndarray], inputs: np.ndarray, activation: str = "tanh"
) -> np.ndarray:
    """Hidden states ``(T, N)`` (float64) of one sequence ``inputs`` ``(T, D_in)`` from ``h = 0``."""
    return forward(weights, np.asarray(inputs)[:, None, :], activation)[:, 0]
