"""The bias-free tanh RNN of the EMT paper, written once for one model or ``K`` stacked models.

``h_t = tanh(W_ih u_t + W_hh h_{t-1} [+ b_h])``, ``y_t = W_r h_t [+ b_r]``, ``h_{-1} = 0``, a readout at every
step. Weights of an ensemble are stacked on a leading ``K`` axis; inputs are ``(T, K, B, D)``. The recurrence is a
batched matrix product per step, so ``K`` seeds cost one kernel launch per step instead of ``K``.
"""

from __future__ import annotations

import math

import torch

from .tasks import make_generator

WEIGHT_NAMES = ("W_ih", "W_hh", "W_r")
BIAS_NAMES = ("b_h", "b_r")


def init_weights(seed: int, input_dim: int, hidden_dim: int, output_dim: int, bias: bool = False):
    """PyTorch's default RNN/Linear initialisation, U(-1/sqrt(N), 1/sqrt(N)), from the model's own stream."""
    generator = make_generator(seed, "init")
    bound = 1.0 / math.sqrt(hidden_dim)
    shapes = {
        "W_ih": (hidden_dim, input_dim),
        "W_hh": (hidden_dim, hidden_dim),
        "W_r": (output_dim, hidden_dim),
    }
    if bias:
        shapes.update({"b_h": (hidden_dim,), "b_r": (output_dim,)})
    return {
        name: torch.empty(shape).uniform_(-bound, bound, generator=generator)
        for name, shape in shapes.items()
    }


def stack_weights(members: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack per-model weight dicts on a new leading ``K`` axis."""
    return {name: torch.stack([m[name] for m in members]) for name in members[0]}


def rnn_forward(x: torch.Tensor, weights: dict[str, torch.Tensor], return_hidden: bool = False):
    """Run ``K`` stacked RNNs: ``x`` ``(T, K, B, D)``, weights with a leading ``K`` axis.

    Returns ``y_hat`` ``(T, K, B, d)`` (and the hidden states ``(T, K, B, N)`` when ``return_hidden``). A single
    model is ``K = 1``: use :func:`rnn_forward_single`.
    """
    w_ih, w_hh, w_r = weights["W_ih"], weights["W_hh"], weights["W_r"]
    steps, members, batch, _ = x.shape
    projected = torch.einsum("tkbi,kni->tkbn", x, w_ih)
    if "b_h" in weights:
        projected = projected + weights["b_h"][None, :, None, :]
    w_hh_t = w_hh.transpose(1, 2)
    state = x.new_zeros((members, batch, w_hh.shape[-1]))
    states = []
    for drive in projected.unbind(0):  # unbind, not projected[t]: indexing made backward ~9x slower
        state = torch.tanh(torch.baddbmm(drive, state, w_hh_t))
        states.append(state)
    hidden = torch.stack(states)
    y_hat = torch.einsum("tkbn,kdn->tkbd", hidden, w_r)
    if "b_r" in weights:
        y_hat = y_hat + weights["b_r"][None, :, None, :]
    return (y_hat, hidden) if return_hidden else y_hat


def rnn_forward_single(
    x: torch.Tensor, weights: dict[str, torch.Tensor], return_hidden: bool = False
):
    """One RNN: ``x`` ``(T, B, D)`` and unstacked weights; returns ``(T, B, d)`` (and ``(T, B, N)``)."""
    stacked = {name: w.unsqueeze(0) for name, w in weights.items()}
    out = rnn_forward(x.unsqueeze(1), stacked, return_hidden)
    if return_hidden:
        return out[0].squeeze(1), out[1].squeeze(1)
    return out.squeeze(1)


def bit_accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of ``sign(y_hat) == y`` over the last axes after the first two, with sign(0) = +1."""
    predicted = torch.where(y_hat >= 0, 1.0, -1.0)
    return (predicted == y).float()
