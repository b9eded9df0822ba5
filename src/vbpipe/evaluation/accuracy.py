"""Test accuracy on a seeded test set (overall and per output step), and hidden trajectories.

Protocol (the paper notebook's, made reproducible): ``n_batches`` batches (default 10) of
``batch_size`` (default 64) sequences at ``horizon`` (default 200) output steps, inputs drawn from
the model's own test stream (:func:`vbpipe.taskspec.numpy_stream` ``(seed, "test")``, a numpy
generator: evaluation on CPU imports no torch); a fresh generator for each evaluated length, so the
test set at ``L`` does not depend on which other lengths are evaluated. The model
runs from ``h = 0`` over input and output phases; only the ``horizon`` output steps are scored. A
prediction counts as correct when ``sign(ŷ) == y`` (sign(0) = +1, as in training's
:func:`vbpipe.model.bit_accuracy`); a non-finite prediction (a diverged model) counts as wrong.

Speed: the forward pass runs in float32, the precision the model was trained and stored in, with
the recurrence written out so that nothing but the state is kept: the input projection only over
the input phase (the output phase has no input), the readout step by step into one ``(H, S, d)``
buffer, no stack of hidden states. On CPU the loop is numpy (measured on 2 cores, one BLAS thread:
numpy's float32 ``tanh`` about 7x faster than torch's, its narrow readout product 3-6x); on a GPU
it is torch. The test inputs and targets are the same numpy arrays either way. The
Figure-3 trajectory of one sequence (:func:`hidden_trajectory`) is float64 numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def _activation_numpy(activation: str):
    """In-place ``act(buf, out=state)``: numpy's tanh, or a copy for a linear RNN."""
    if activation == "tanh":
        return np.tanh
    if activation == "linear":
        return lambda buf, out: np.copyto(out, buf)
    raise ValueError(f"activation must be tanh or linear, got {activation!r}")


def _outputs_numpy(x_input: np.ndarray, weights, horizon: int, activation="tanh") -> np.ndarray:
    """CPU: outputs ``(H, S, d)`` float32 over the output phase; ``x_input`` ``(L + 1, S, D_in)``
    is the input phase and the first output step (zeros, or the EOS flag)."""
    act = _activation_numpy(activation)
    w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
    w_hh_t = np.ascontiguousarray(w["W_hh"].T)
    w_r_t = np.ascontiguousarray(w["W_r"].T)
    b_h, b_r = w.get("b_h"), w.get("b_r")
    steps, n_seq, _ = x_input.shape
    drive = np.matmul(x_input.astype(np.float32), np.ascontiguousarray(w["W_ih"].T))
    if b_h is not None:
        drive += b_h
    state = np.zeros((n_seq, w_hh_t.shape[0]), dtype=np.float32)
    out = np.empty((horizon, n_seq, w_r_t.shape[1]), dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        for t in range(steps):  # input phase, then output step 0 (its input is 0 or EOS)
            buf = np.matmul(state, w_hh_t)
            buf += drive[t]
            act(buf, out=state)
        np.matmul(state, w_r_t, out=out[0])
        for k in range(1, horizon):
            np.matmul(state, w_hh_t, out=buf)
            if b_h is not None:
                buf += b_h
            act(buf, out=state)
            np.matmul(state, w_r_t, out=out[k])
        if b_r is not None:
            out += b_r
    return out


def _outputs_torch(x_input: np.ndarray, weights, horizon: int, device, activation="tanh"):
    """The same on a torch device (a GPU)."""
    import torch

    _activation_numpy(activation)  # refuses an unknown one
    act = torch.tanh if activation == "tanh" else (lambda pre: pre)

    x_input = torch.as_tensor(x_input)
    w = {k: torch.as_tensor(v).to(device=device, dtype=torch.float32) for k, v in weights.items()}
    w_hh_t, w_r_t = w["W_hh"].t(), w["W_r"].t()
    b_h, b_r = w.get("b_h"), w.get("b_r")
    drive = torch.matmul(x_input.to(device=device, dtype=torch.float32), w["W_ih"].t())
    if b_h is not None:
        drive += b_h
    state = torch.zeros((x_input.shape[1], w_hh_t.shape[0]), dtype=torch.float32, device=device)
    out = torch.empty(
        (horizon, x_input.shape[1], w_r_t.shape[1]), dtype=torch.float32, device=device
    )
    with torch.no_grad():
        for t in range(x_input.shape[0]):
            state = act(torch.addmm(drive[t], state, w_hh_t))
        out[0] = state @ w_r_t
        for k in range(1, horizon):
            pre = state @ w_hh_t
            state = act(pre if b_h is None else pre + b_h)
            out[k] = state @ w_r_t
        if b_r is not None:
            out += b_r
    return out.cpu().numpy()


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
        out = _outputs_numpy(x_input, weights, horizon, activation)
    else:
        out = _outputs_torch(x_input, weights, horizon, device, activation)
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
    _activation_numpy(activation)  # refuses an unknown one
    act = np.tanh if activation == "tanh" else (lambda pre: pre)
    w_ih = np.asarray(weights["W_ih"], dtype=np.float64)
    w_hh = np.asarray(weights["W_hh"], dtype=np.float64)
    drive = np.asarray(inputs, dtype=np.float64) @ w_ih.T
    if "b_h" in weights:
        drive = drive + np.asarray(weights["b_h"], dtype=np.float64)
    states = np.empty((drive.shape[0], w_hh.shape[0]))
    state = np.zeros(w_hh.shape[0])
    for t in range(drive.shape[0]):
        state = act(drive[t] + w_hh @ state)
        states[t] = state
    return states
