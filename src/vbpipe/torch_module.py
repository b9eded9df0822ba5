"""A trained model as a ``torch.nn.Module`` (for the API's ``load_model(..., as_torch=True)``).

vbpipe trains and evaluates on weight dicts (:mod:`vbpipe.training.kernel`); a module is what a notebook user
expects to poke at (hooks, autograd, ``state_dict``). Its layout is the original project's
``RNNModel``: ``rnn`` (one tanh layer) and ``readout``, so its ``state_dict`` keys read
``rnn.weight_hh_l0``, ``readout.weight``, ... as they do there.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class RNNModule(nn.Module):
    """``h_t = tanh(W_ih u_t + W_hh h_{t-1} [+ b_h])``, ``y_t = W_r h_t [+ b_r]``, ``h_{-1} = 0``."""

    def __init__(self, input_width: int, hidden_dim: int, output_dim: int, bias: bool = False):
        super().__init__()
        self.rnn = nn.RNN(input_width, hidden_dim, nonlinearity="tanh", bias=bias)
        self.readout = nn.Linear(hidden_dim, output_dim, bias=bias)

    @classmethod
    def from_weights(cls, weights: dict[str, np.ndarray]) -> RNNModule:
        """The module of a weight dict (``W_ih``, ``W_hh``, ``W_r`` [, ``b_h``, ``b_r``]), float64."""
        hidden_dim, input_width = weights["W_ih"].shape
        bias = "b_h" in weights
        module = cls(input_width, hidden_dim, weights["W_r"].shape[0], bias).double()

        def tensor(name):
            return torch.as_tensor(np.asarray(weights[name]), dtype=torch.float64)

        with torch.no_grad():
            module.rnn.weight_ih_l0.copy_(tensor("W_ih"))
            module.rnn.weight_hh_l0.copy_(tensor("W_hh"))
            module.readout.weight.copy_(tensor("W_r"))
            if bias:  # vbpipe's one hidden bias b_h is torch's bias_ih + bias_hh
                module.rnn.bias_ih_l0.copy_(tensor("b_h"))
                module.rnn.bias_hh_l0.zero_()
                module.readout.bias.copy_(tensor("b_r"))
        return module.eval()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden, _ = self.rnn(x)
        return self.readout(hidden), hidden
