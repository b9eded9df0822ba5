"""Analytic EMT variable-binding circuits: hand-built weights of the bias-free tanh RNN.

Two circuits for a task ``(task_id, d, L)``, as float64 numpy weights ``{"W_ih", "W_hh", "W_r"}``
with the shapes of a trained model (``W_ih`` has ``d + 1`` columns with ``use_eos``; the EOS column
is zero, the circuits do not need it), so that a checkpoint of them goes through the same
evaluation and figures as a trained model.

``naive``
    The circuit of the EMT paper: an orthonormal frame ``Ψ`` (``N × L·d``, seeded random rotation)
    holds ``L`` slots of ``d`` dimensions, ``W_hh = Ψ Φ Ψᵀ``, ``W_ih = ε Ψ_new`` writes the input
    into the newest slot and ``W_r = Ψ_newᵀ / ε`` reads it back. With ``ε`` small, tanh is linear to
    ``O(ε²)`` and the network is the linear system ``z_t = Φ z_{t-1} + e_new u_t``. Its spectrum is
    exactly Φ's, but during the input phase Φ's composition row already acts: every task whose
    operator reads a slot other than the oldest (T2-T4) mixes earlier inputs into the newest slot
    (see :mod:`vbpipe.analysis.linear_limits` for why no linear time-invariant network can avoid
    this).

``gated``
    The corrected circuit: the same shift register, but the composition row passes through ``d``
    *pairs* of gate neurons ``g±_j = tanh(a (Fᵀ w)_j ± B u[0])``. While an input arrives
    (``|u[0]| = 1``) both neurons of a pair saturate at ``±1`` and their sum ``≈ 2a (Fᵀw)_j
    sech²(B)`` vanishes: the composition is off. In the output phase (``u = 0``) the pair sum is
    ``2 tanh(a (Fᵀ w)_j) ≈ 2a (Fᵀw)_j``: the composition is on. The gate is an even function of the
    input, computed by a network that is odd overall (bias-free tanh), which is why it needs a pair.
    The newest slot is the sum of a *write port* (``d`` linear units receiving ``ε u``) and the
    gate pairs; the readout reads the gate pairs only (the output phase), the shift register reads
    both. With ``a = 1/√2`` and the newest-slot value ``v = writer + (g₊ + g₋)/√2``, the
    readout-grounded EMT basis recovers ``Ψ* W_hh Ψ = Φ`` exactly, and ``W_hh`` linearised at the
    origin has Φ's spectrum (plus zeros). Gate neurons are single axis-aligned neurons (tanh acts
    per neuron); the linear part lives in a random orthonormal frame on the other neurons.
    Needs ``N >= L·d + 2d``.

``leaky``
    The naive circuit with Φ scaled by ``scale`` in ``(0, 1]``: ``W_hh = s Ψ Φ Ψᵀ``, a contracting
    linear time-invariant network (``scale = 1`` is the naive circuit). The coefficient of an input
    at lag ``τ`` is multiplied by ``s^τ``, so an older input that the naive circuit mixes into a
    memory weighs less than the more recent one the task reads: for ``s`` small enough the sign of
    every output is right in exact arithmetic, with a margin that shrinks as ``s^τ`` along the
    horizon (a precision question, :mod:`vbpipe.analysis.leaky`; docs/input_phase.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .taskspec import Task

#: Circuit kinds that :func:`build_circuit` knows.
CIRCUIT_KINDS = ("naive", "gated", "leaky")
DEFAULT_EPS = 1e-3
DEFAULT_GATE_GAIN = 10.0
#: The leaky circuit's default scale of Φ: right on every output of T2-T4 at horizon 200 in float64
#: (docs/input_phase.md; vbpipe.config.training.DEFAULT_CIRCUIT_SCALE is the same number).
DEFAULT_SCALE = 0.45

__all__ = [
    "CIRCUIT_KINDS",
    "CircuitLayout",
    "build_circuit",
    "circuit_checkpoint_fields",
    "circuit_layout",
    "check_scale",
    "gated_circuit",
    "leaky_circuit",
    "min_hidden_dim",
    "naive_circuit",
]


def min_hidden_dim(kind: str, input_dim: int, seq_length: int) -> int:
    """Fewest hidden units a circuit of ``kind`` needs: ``L·d`` (naive, leaky), ``L·d + 2d``
    (gated)."""
    if kind not in CIRCUIT_KINDS:
        raise ValueError(f"unknown circuit kind {kind!r}; expected one of {CIRCUIT_KINDS}")
    return seq_length * input_dim + (2 * input_dim if kind == "gated" else 0)


@dataclass(frozen=True)
class CircuitLayout:
    """Where a circuit keeps things: ``frame`` (N × L·d, orthonormal) holds slots ``0..L-1`` in
    slot-major order (for ``gated`` the last slot's columns are the write port);
    ``gate_plus``/``gate_minus`` are the neuron indices of the gate pairs (empty for ``naive``)."""

    kind: str
    frame: np.ndarray
    gate_plus: np.ndarray
    gate_minus: np.ndarray


def _orthonormal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    return q * np.sign(np.diag(r))[None, :]


def circuit_layout(
    kind: str, input_dim: int, seq_length: int, hidden_dim: int, seed: int = 0
) -> CircuitLayout:
    """The seeded placement of a circuit's slots and gate neurons in ``hidden_dim`` neurons."""
    need = min_hidden_dim(kind, input_dim, seq_length)
    if hidden_dim < need:
        raise ValueError(
            f"a {kind} circuit for d={input_dim}, L={seq_length} needs hidden_dim >= {need}, "
            f"got {hidden_dim}"
        )
    rng = np.random.default_rng(seed)
    memory = seq_length * input_dim
    if kind in ("naive", "leaky"):
        empty = np.zeros(0, dtype=np.int64)
        return CircuitLayout(kind, _orthonormal(rng, hidden_dim, memory), empty, empty)
    gates = rng.permutation(hidden_dim)[: 2 * input_dim]
    rest = np.setdiff1d(np.arange(hidden_dim), gates)
    frame = np.zeros((hidden_dim, memory))
    frame[rest] = _orthonormal(rng, rest.size, memory)
    return CircuitLayout(kind, frame, gates[:input_dim].copy(), gates[input_dim:].copy())


def _with_eos_column(w_ih: np.ndarray, use_eos: bool) -> np.ndarray:
    return np.concatenate([w_ih, np.zeros((w_ih.shape[0], 1))], axis=1) if use_eos else w_ih


def naive_circuit(
    task_id,
    input_dim: int,
    seq_length: int,
    hidden_dim: int,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
    use_eos: bool = False,
) -> dict[str, np.ndarray]:
    """The paper's circuit ``W_hh = Ψ Φ Ψᵀ``, writing ``ε u`` into the newest slot, reading ``1/ε``.

    Exact for repeat copy; for tasks that read other slots the composition acts during the input
    phase too (module docstring)."""
    task = Task(task_id, input_dim, seq_length)
    layout = circuit_layout("naive", input_dim, seq_length, hidden_dim, seed)
    psi = layout.frame
    newest = psi[:, (seq_length - 1) * input_dim :]
    return {
        "W_ih": _with_eos_column(eps * newest, use_eos),
        "W_hh": psi @ task.phi(seq_length) @ psi.T,
        "W_r": newest.T / eps,
    }


def check_scale(scale: float) -> float:
    """``scale`` as a float, refused unless it lies in ``(0, 1]`` (a contracting or neutral Φ)."""
    value = float(scale)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"circuit scale must be in (0, 1], got {scale!r}")
    return value


def leaky_circuit(
    task_id,
    input_dim: int,
    seq_length: int,
    hidden_dim: int,
    scale: float = DEFAULT_SCALE,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
    use_eos: bool = False,
) -> dict[str, np.ndarray]:
    """The naive circuit with ``W_hh = s Ψ Φ Ψᵀ`` (``s = scale``): the same frame for the same
    seed, so ``scale = 1`` gives :func:`naive_circuit`'s weights exactly."""
    scale = check_scale(scale)
    weights = naive_circuit(task_id, input_dim, seq_length, hidden_dim, eps, seed, use_eos)
    return {**weights, "W_hh": scale * weights["W_hh"]}


def gated_circuit(
    task_id,
    input_dim: int,
    seq_length: int,
    hidden_dim: int,
    eps: float = DEFAULT_EPS,
    gate_gain: float = DEFAULT_GATE_GAIN,
    seed: int = 0,
    use_eos: bool = False,
) -> dict[str, np.ndarray]:
    """The corrected circuit: the composition row runs through gate pairs that input saturates.

    ``gate_gain`` is ``B``: the leak of the composition during the input phase is
    ``sech²(B)`` (8e-9 at B = 10). Bit-exact on every signed-selection task in the linear limit."""
    task = Task(task_id, input_dim, seq_length)
    d, length = input_dim, seq_length
    layout = circuit_layout("gated", d, length, hidden_dim, seed)
    frame, plus, minus = layout.frame, layout.gate_plus, layout.gate_minus
    slot = [frame[:, k * d : (k + 1) * d] for k in range(length)]  # slot[L-1]: the write port
    a = beta = 1.0 / math.sqrt(2.0)  # 2·a·β = 1: the pair passes the composition with gain 1

    def gate_sum(matrix_rows: np.ndarray) -> np.ndarray:
        """``N × d`` map from ``d`` newest-slot values to the neurons that hold them (β per gate)."""
        out = np.zeros((hidden_dim, d))
        out[plus, np.arange(d)] = beta
        out[minus, np.arange(d)] = beta
        return out @ matrix_rows

    # The newest-slot value v (d numbers) as a linear read-out of the hidden state: writer + β(g₊+g₋).
    read_newest = slot[length - 1].T + gate_sum(np.eye(d)).T  # d × N
    w_hh = np.zeros((hidden_dim, hidden_dim))
    for k in range(length - 2):
        w_hh += slot[k] @ slot[k + 1].T
    if length >= 2:
        w_hh += slot[length - 2] @ read_newest
    # Gate rows: a · Fᵀ · window, the window's newest slot being v.
    window_read = np.concatenate([s.T for s in slot[:-1]] + [read_newest], axis=0)  # L·d × N
    composition = a * task.operator(length).T @ window_read  # d × N
    w_hh[plus] += composition
    w_hh[minus] += composition
    w_ih = eps * slot[length - 1]
    w_ih[plus, 0] = gate_gain
    w_ih[minus, 0] = -gate_gain
    w_r = gate_sum(np.eye(d)).T / eps
    return {"W_ih": _with_eos_column(w_ih, use_eos), "W_hh": w_hh, "W_r": w_r}


def build_circuit(
    kind: str,
    task_id,
    input_dim: int,
    seq_length: int,
    hidden_dim: int,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
    use_eos: bool = False,
    gate_gain: float = DEFAULT_GATE_GAIN,
    scale: float = DEFAULT_SCALE,
) -> dict[str, np.ndarray]:
    """One entry point for the workflow: ``kind`` is ``"naive"``, ``"gated"`` or ``"leaky"``
    (``gate_gain`` is the gated circuit's, ``scale`` the leaky circuit's)."""
    if kind == "naive":
        return naive_circuit(task_id, input_dim, seq_length, hidden_dim, eps, seed, use_eos)
    if kind == "leaky":
        return leaky_circuit(task_id, input_dim, seq_length, hidden_dim, scale, eps, seed, use_eos)
    if kind == "gated":
        return gated_circuit(
            task_id, input_dim, seq_length, hidden_dim, eps, gate_gain, seed, use_eos
        )
    raise ValueError(f"unknown circuit kind {kind!r}; expected one of {CIRCUIT_KINDS}")


def circuit_checkpoint_fields(
    kind: str,
    task_id,
    input_dim: int,
    seq_length: int,
    hidden_dim: int,
    eps: float = DEFAULT_EPS,
    seed: int = 0,
    use_eos: bool = False,
    gate_gain: float = DEFAULT_GATE_GAIN,
    scale: float = DEFAULT_SCALE,
) -> tuple[dict, dict]:
    """``(hparams, outcome)`` for ``vbpipe.checkpoint.save_model`` of a circuit (no training).

    The outcome marks the model as not trained (``steps = 0``, ``converged = None``); the hparams
    carry ``model_type = "circuit"`` and the circuit's own settings under ``circuit``."""
    task = Task(task_id, input_dim, seq_length, use_eos)
    hparams = {
        "task_id": [str(t) for t in task.task_id],
        "input_dim": input_dim,
        "seq_length": seq_length,
        "use_eos": bool(use_eos),
        "hidden_dim": hidden_dim,
        "bias": False,
        "seed": seed,
        "model_type": "circuit",
        "circuit": {
            "kind": kind,
            "eps": eps,
            "gate_gain": gate_gain if kind == "gated" else None,
            **({"scale": check_scale(scale)} if kind == "leaky" else {}),
        },
    }
    outcome = {
        "steps": 0,
        "curriculum_level": None,
        "horizon": None,
        "train_accuracy": None,
        "train_loss": None,
        "converged": None,
        "diverged": False,
        "diverged_at_step": None,
        "early_stopped": False,
        "curriculum_history": [],
        "wall_seconds": 0.0,
    }
    return hparams, outcome
