"""The RNN's recurrence outside training, written once: ``h_t = act(W_ih u_t + W_hh h_{t-1} [+ b_h])``
from ``h_{-1} = 0``, ``y_t = W_r h_t [+ b_r]``, with ``act`` tanh (the paper's model) or the identity
(the linear control).

Two forms, for two jobs (training has its own batched kernel, :mod:`vbpipe.training.kernel`):

- :func:`forward`: float64 numpy over a whole sequence batch, keeping every hidden state and, on
  request, the two drives; what the Figure-3 trajectory, the fixed-point seeds, the input-phase
  analysis and the controls read.
- :func:`output_phase` / :func:`output_phase_torch`: the accuracy evaluation's float32 pass (the
  precision the model was trained and stored in), which keeps nothing but the state and writes the
  readout of each output step into one ``(H, S, d)`` buffer. On CPU it is numpy (measured on 2 cores,
  one BLAS thread: numpy's float32 ``tanh`` about 7x faster than torch's, its narrow readout product
  3-6x); on a GPU torch.

Nothing here imports torch at module level: evaluation and analyses on CPU never load it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "check_activation",
    "forward",
    "readout",
    "output_phase",
    "output_phase_torch",
]

#: The activations a model may have (``TrainConfig.activation``).
ACTIVATIONS = ("tanh", "linear")


def check_activation(activation: str) -> None:
    """A clear error for an activation this module does not know."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def forward(
    weights: Mapping[str, np.ndarray],
    x: np.ndarray,
    activation: str = "tanh",
    linear_steps: np.ndarray | None = None,
    drives: bool = False,
):
    """Hidden states ``(T, B, N)`` (float64) of inputs ``x`` ``(T, B, D_in)`` from ``h = 0``.

    ``linear_steps`` (bool, ``T``) replaces the activation by the identity at those steps (an
    intervention that removes the nonlinearity from part of the sequence). With ``drives``, returns
    ``(hidden, input drive W_ih x_t [+ b_h], recurrent drive W_hh h_{t-1})``, each ``(T, B, N)``."""
    check_activation(activation)
    w_ih = np.asarray(weights["W_ih"], dtype=np.float64)
    w_hh_t = np.asarray(weights["W_hh"], dtype=np.float64).T
    x = np.asarray(x, dtype=np.float64)
    steps, batch = x.shape[:2]
    drive_in = x @ w_ih.T
    if "b_h" in weights:
        drive_in = drive_in + np.asarray(weights["b_h"], dtype=np.float64)
    hidden = np.zeros((steps, batch, w_hh_t.shape[0]))
    drive_rec = np.zeros_like(hidden) if drives else None
    linear = np.zeros(steps, dtype=bool) if linear_steps is None else np.asarray(linear_steps)
    if linear.shape != (steps,):
        raise ValueError(f"linear_steps must have shape ({steps},), got {linear.shape}")
    identity = activation == "linear"
    state = np.zeros((batch, w_hh_t.shape[0]))
    for t in range(steps):
        recurrent = state @ w_hh_t
        if drives:
            drive_rec[t] = recurrent
        pre = drive_in[t] + recurrent
        state = pre if (identity or linear[t]) else np.tanh(pre)
        hidden[t] = state
    return (hidden, drive_in, drive_rec) if drives else hidden


def readout(weights: Mapping[str, np.ndarray], hidden: np.ndarray) -> np.ndarray:
    """Outputs ``(..., d)`` (float64) of hidden states ``(..., N)``."""
    out = np.asarray(hidden, dtype=np.float64) @ np.asarray(weights["W_r"], dtype=np.float64).T
    if "b_r" in weights:
        out = out + np.asarray(weights["b_r"], dtype=np.float64)
    return out


def _activation_in_place(activation: str):
    """``act(buf, out=state)``: numpy's tanh, or a copy for a linear RNN."""
    check_activation(activation)
    if activation == "tanh":
        return np.tanh
    return lambda buf, out: np.copyto(out, buf)


def output_phase(
    x_input: np.ndarray, weights, horizon: int, activation="tanh", dtype=np.float32
) -> np.ndarray:
    """CPU: outputs ``(H, S, d)`` over the output phase, in ``dtype`` (float32: the evaluation's;
    float64 to study precision); ``x_input`` ``(L + 1, S, D_in)`` is the input phase and the first
    output step (zeros, or the EOS flag)."""
    act = _activation_in_place(activation)
    w = {k: np.asarray(v, dtype=dtype) for k, v in weights.items()}
    w_hh_t = np.ascontiguousarray(w["W_hh"].T)
    w_r_t = np.ascontiguousarray(w["W_r"].T)
    b_h, b_r = w.get("b_h"), w.get("b_r")
    steps, n_seq, _ = x_input.shape
    drive = np.matmul(x_input.astype(dtype), np.ascontiguousarray(w["W_ih"].T))
    if b_h is not None:
        drive += b_h
    state = np.zeros((n_seq, w_hh_t.shape[0]), dtype=dtype)
    out = np.empty((horizon, n_seq, w_r_t.shape[1]), dtype=dtype)
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


def output_phase_torch(x_input: np.ndarray, weights, horizon: int, device, activation="tanh"):
    """:func:`output_phase` on a torch device (a GPU); returns a numpy array."""
    import torch

    check_activation(activation)
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
