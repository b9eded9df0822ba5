"""A plain autograd RNN over a weight dict, any dtype: the reference the tests hold the training
kernel (vbpipe.training.kernel.PackedRNN), the evaluation and the analyses to. Test code only."""

from __future__ import annotations

import torch

from vbpipe.recurrence import check_activation


def rnn_forward(
    x: torch.Tensor,
    weights: dict[str, torch.Tensor],
    return_hidden: bool = False,
    activation: str = "tanh",
):
    """Run ``K`` stacked RNNs: ``x`` ``(T, K, B, D)``, weights with a leading ``K`` axis.

    Returns ``y_hat`` ``(T, K, B, d)`` (and the hidden states ``(T, K, B, N)`` when ``return_hidden``)."""
    check_activation(activation)
    act = torch.tanh if activation == "tanh" else (lambda pre: pre)
    projected = torch.einsum("tkbi,kni->tkbn", x, weights["W_ih"])
    if "b_h" in weights:
        projected = projected + weights["b_h"][None, :, None, :]
    w_hh_t = weights["W_hh"].transpose(1, 2)
    state = x.new_zeros((x.shape[1], x.shape[2], weights["W_hh"].shape[-1]))
    states = []
    for drive in projected.unbind(0):
        state = act(torch.baddbmm(drive, state, w_hh_t))
        states.append(state)
    hidden = torch.stack(states)
    y_hat = torch.einsum("tkbn,kdn->tkbd", hidden, weights["W_r"])
    if "b_r" in weights:
        y_hat = y_hat + weights["b_r"][None, :, None, :]
    return (y_hat, hidden) if return_hidden else y_hat


def rnn_forward_single(
    x: torch.Tensor,
    weights: dict[str, torch.Tensor],
    return_hidden: bool = False,
    activation: str = "tanh",
):
    """One RNN: ``x`` ``(T, B, D)`` and unstacked weights; returns ``(T, B, d)`` (and ``(T, B, N)``)."""
    stacked = {name: w.unsqueeze(0) for name, w in weights.items()}
    out = rnn_forward(x.unsqueeze(1), stacked, return_hidden, activation)
    if return_hidden:
        return out[0].squeeze(1), out[1].squeeze(1)
    return out.squeeze(1)


def bit_accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``sign(y_hat) == y`` elementwise as floats, with sign(0) = +1 (as training and evaluation)."""
    predicted = torch.where(y_hat >= 0, 1.0, -1.0)
    return (predicted == y).float()
