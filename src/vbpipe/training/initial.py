"""A member's weights at step 0: PyTorch's default initialisation, or an EMT circuit (``init``).

A circuit start (``init: circuit_naive | circuit_gated | circuit_leaky``) is the analytic circuit
of :mod:`vbpipe.circuits` for the member's task, built with its seed (which chooses the circuit's
random frame), ``init_eps`` and (leaky) ``circuit_scale``, rounded to float32: exactly the weights that ``model_type:
circuit_*`` saves for the same seed and scale. It depends on the member alone, so a pack's
members keep their exactness whatever their neighbours' starts.
"""

from __future__ import annotations

import torch

from ..config import TrainConfig
from .kernel import init_weights


def initial_weights(config: TrainConfig, seed: int) -> dict[str, torch.Tensor]:
    """``{W_ih, W_hh, W_r[, b_h, b_r]}`` (float32) of a member before its first step."""
    task = config.task
    if config.init == "random":
        return init_weights(
            seed, task.model_input_dim, config.hidden_dim, config.input_dim, config.bias
        )
    from ..circuits import build_circuit

    weights = build_circuit(
        config.init.removeprefix("circuit_"),
        config.task_id,
        config.input_dim,
        config.seq_length,
        config.hidden_dim,
        eps=config.init_eps,
        seed=int(seed),
        use_eos=config.use_eos,
        scale=config.circuit_scale,
    )
    return {name: torch.as_tensor(value, dtype=torch.float32) for name, value in weights.items()}
