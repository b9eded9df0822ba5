"""The leaky circuit: a contracting linear network that gets the signs right, and what it costs.

The leaky circuit (:func:`vbpipe.circuits.leaky_circuit`) is the naive EMT circuit with Φ scaled
by ``s`` in ``(0, 1]``. In its linear limit the coefficient of input bit ``u_σ[i]`` in output
``ŷ_t[j]`` is ``s^τ c_τ[j, i]`` with lag ``τ = t − σ`` and ``c_τ = (Φ^τ)_{new,new}`` the naive
circuit's coefficient, in ``{0, ±1}`` because every row of Φ is a signed one-hot. An output is
right for every input exactly when its *worst-case margin* is positive:

    μ_t[j] = s^{τ*} − Σ_{(σ,i) ≠ target} s^{τ} |c_τ[j, i]|     (the target's sign right: c_{τ*} = y)

Dividing by the target's weight ``s^{τ*}`` gives the *relative margin*
``ρ_t[j] = 1 − Σ s^{τ − τ*} |c_τ[j, i]|``, which depends on the lag differences only (at most
``L − 1`` in absolute value), so it is computed without under- or overflow
(:func:`relative_margins`). Sign accuracy in exact arithmetic is then a property of ``s`` alone:
:func:`exact_accuracy` (by enumeration over the inputs an output depends on).

The margin itself shrinks geometrically along the horizon: ``μ_t = ρ_t s^{τ*}``. In the network
the output is read as ``ŷ = Ψ_newᵀ h / ε``, so the state must resolve ``ε s^{τ*} ρ_t``. A binary
floating-point format represents nothing below its smallest subnormal ``2^-149`` (float32) or
``2^-1074`` (float64): once ``ε s^{τ*} ρ`` falls below it (:func:`margin_exponent`), the state that
would carry the sign is rounded to zero and the output is ``0``, read as ``+1``: the sign is lost.
Above the smallest normal (``2^-126``, ``2^-1022``) rounding is relative (``2^-24``, ``2^-53``) and
harmless for margins ``ρ`` far above it; below it, every unit carries an absolute error of up to
half a subnormal spacing per operation, which the readout sums over ``N`` units and the
contraction accumulates over ``1/(1 − s)`` steps (:func:`rounding_floor`).
:func:`predicted_loss_step` gives the first step at which some output's margin in the state is
at or below that floor, and
:func:`simulated_accuracy` measures what a simulation in float32 (the evaluation's own forward
pass) or float64 does.

A second limit is the window's own dynamic range: the oldest slot holds a value ``s^{L−1}`` times
the newest one's, in the same units, so any perturbation *relative* to the state (the format's
unit roundoff, ``2^-24`` in float32; tanh's curvature, ``~ε²`` with input scale ``ε``) must stay
below ``s^{L−1} ρ``. That bounds ``s`` from below at any horizon (measured: float32 loses signs from
the first output step at ``s <= 0.1``; float64 at ``s = 0.05`` with ``ε = 1e-3``, not with
``ε = 1e-5``: tanh's curvature, docs/input_phase.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..evaluation.accuracy import draw_test_set, evaluate_accuracy, input_phase, output_targets
from ..recurrence import output_phase
from ..taskspec import Task
from .linear_limits import expected_bit_accuracy, target_coefficients

__all__ = [
    "SMALLEST_SUBNORMAL",
    "exact_accuracy",
    "float64_outputs",
    "margin_exponent",
    "naive_kernel",
    "predicted_loss_step",
    "relative_margins",
    "rounding_floor",
    "simulated_accuracy",
    "target_lags",
    "UNIT_ROUNDOFF",
    "window_limited",
]

#: The smallest positive number of each format (``np.finfo(...).smallest_subnormal``).
SMALLEST_SUBNORMAL = {"float32": 2.0**-149, "float64": 2.0**-1074}


def naive_kernel(task_id, input_dim: int, seq_length: int, horizon: int) -> np.ndarray:
    """``c_τ = (Φ^τ)_{new,new}`` for ``τ = 0 .. L + H − 1`` (``(L+H) × d × d``): the naive
    circuit's coefficient of an input at lag ``τ``, in ``{0, ±1}``."""
    d, length = input_dim, seq_length
    phi = Task(task_id, d, length).phi(length)
    new = slice((length - 1) * d, length * d)
    block = np.eye(length * d)[:, new]
    out = []
    for _ in range(length + horizon):
        out.append(block[new])
        block = phi @ block
    return np.stack(out)


def target_lags(task_id, input_dim: int, seq_length: int, horizon: int) -> np.ndarray:
    """``τ*`` (``H × d``): the lag of the input bit each output copies."""
    coef = target_coefficients(task_id, input_dim, seq_length, horizon)  # (H, d, L, d)
    source = np.argmax(np.abs(coef).reshape(horizon, input_dim, -1), axis=-1) // input_dim
    return seq_length + np.arange(horizon)[:, None] - source


def _relative_coefficients(task_id, input_dim, seq_length, horizon, scale) -> np.ndarray:
    """The leaky circuit's coefficients of each output divided by its target's weight
    ``s^{τ*}`` (``(H, d, L, d)``, as :func:`vbpipe.analysis.linear_limits.target_coefficients`)."""
    kernel = naive_kernel(task_id, input_dim, seq_length, horizon)
    lags_star = target_lags(task_id, input_dim, seq_length, horizon)  # (H, d)
    out = np.zeros((horizon, input_dim, seq_length, input_dim))
    for k in range(horizon):
        for s in range(seq_length):
            lag = seq_length + k - s
            rel = float(scale) ** (lag - lags_star[k])  # (d,): per output j
            out[k, :, s, :] = kernel[lag] * rel[:, None]
    return out


def relative_margins(task_id, input_dim: int, seq_length: int, horizon: int, scale: float):
    """``ρ`` (``H × d``): the worst-case margin of each output over its target's weight; positive
    iff the output's sign is right for every input (exact arithmetic)."""
    pred = _relative_coefficients(task_id, input_dim, seq_length, horizon, scale)
    targ = target_coefficients(task_id, input_dim, seq_length, horizon)
    p, y = pred.reshape(horizon, input_dim, -1), targ.reshape(horizon, input_dim, -1)
    return np.sum(p * y, axis=-1) - np.sum(np.abs(p) * (y == 0), axis=-1)


def exact_accuracy(task_id, input_dim: int, seq_length: int, horizon: int, scale: float):
    """Bit accuracy per step and output (``H × d``) of the leaky circuit's linear limit over
    uniform ±1 inputs, in exact arithmetic (``sign(0) = +1``)."""
    pred = _relative_coefficients(task_id, input_dim, seq_length, horizon, scale)
    targ = target_coefficients(task_id, input_dim, seq_length, horizon)
    return expected_bit_accuracy(pred, targ)


def margin_exponent(task_id, input_dim, seq_length, horizon, scale, eps) -> np.ndarray:
    """``log2(ε s^{τ*} ρ)`` (``H × d``): the binary exponent of the margin the state must carry
    (``-inf`` where ``ρ <= 0``: wrong in exact arithmetic already)."""
    rho = relative_margins(task_id, input_dim, seq_length, horizon, scale)
    lags = target_lags(task_id, input_dim, seq_length, horizon)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            rho > 0,
            np.log2(eps) + lags * np.log2(scale) + np.log2(np.where(rho > 0, rho, 1.0)),
            -np.inf,
        )


def rounding_floor(dtype: str, hidden_dim: int, scale: float, horizon: int) -> float:
    """A bound on the error rounding can put on a slot coordinate once the state is subnormal
    (where rounding is absolute: at most half the smallest subnormal per operation). Each unit of
    a step is a dot product of ``N`` terms and a tanh: at most ``N + 1`` roundings; the readout
    direction (a unit vector) sums ``N`` units' errors to at most ``√N`` times one unit's; the
    contraction ``s`` accumulates at most ``min(1/(1 − s), H)`` steps of it. A margin above this
    floor cannot be flipped by rounding."""
    steps = horizon if scale >= 1 else min(1.0 / (1.0 - scale), horizon)
    per_unit = (hidden_dim + 1) * SMALLEST_SUBNORMAL[dtype] / 2
    return per_unit * np.sqrt(hidden_dim) * steps


#: The unit roundoff of each format (half the spacing of numbers in ``[1, 2)``).
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}


def window_limited(
    task_id, input_dim, seq_length, horizon, scale, hidden_dim: int, dtype: str = "float32"
) -> bool:
    """Whether the window's own dynamic range, not underflow, may decide the sign.

    True when the smallest relative margin (positive: right in exact arithmetic) times
    ``s^{L−1}`` (the oldest slot's weight against the newest's) is at or below
    ``(N + 1) √N u / (1 − s)``: one step's rounding relative to the state (``u`` the unit
    roundoff), accumulated as in :func:`rounding_floor`. Where it is, :func:`predicted_loss_step`
    need not bound the loss (signs can go wrong from the first output step). A heuristic (the
    state's size taken as its newest slot's), not a proof."""
    rho = relative_margins(task_id, input_dim, seq_length, horizon, scale).min()
    steps = horizon if scale >= 1 else min(1.0 / (1.0 - scale), horizon)
    noise = (hidden_dim + 1) * np.sqrt(hidden_dim) * UNIT_ROUNDOFF[dtype] * steps
    return bool(0 < rho and rho * float(scale) ** (seq_length - 1) <= noise)


def predicted_loss_step(
    task_id,
    input_dim,
    seq_length,
    horizon,
    scale,
    eps,
    hidden_dim: int,
    dtype: str = "float32",
) -> int | None:
    """The first output step (0-based) at which some output's margin in the state, ``ε s^{τ*} ρ``,
    is at or below :func:`rounding_floor` (or ``ρ <= 0``): before it, subnormal rounding cannot
    flip a sign (a lower bound on the step where float32 loses one; the relative rounding of normal
    numbers and tanh's curvature are separate limits, see the module docstring). ``None`` when
    every step up to ``horizon`` keeps it."""
    exponent = margin_exponent(task_id, input_dim, seq_length, horizon, scale, eps)
    floor = np.log2(rounding_floor(dtype, hidden_dim, scale, horizon))
    bad = np.any(exponent <= floor, axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def float64_outputs(weights: Mapping[str, np.ndarray], x_input: np.ndarray, horizon: int):
    """Outputs ``(H, S, d)`` of the bias-free tanh RNN in float64: the evaluation's forward pass
    (:func:`vbpipe.recurrence.output_phase`) at double precision."""
    return output_phase(x_input, weights, horizon, dtype=np.float64)


def simulated_accuracy(
    task: Task,
    weights: Mapping[str, np.ndarray],
    seed: int,
    horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    dtype: str = "float32",
) -> np.ndarray:
    """Per-step bit accuracy (``H``) on the model's seeded test set: float32 through
    :func:`vbpipe.evaluation.accuracy.evaluate_accuracy` (what ``vbpipe evaluate`` reports),
    float64 through :func:`float64_outputs` on the same sequences."""
    length = int(task.seq_length)
    if dtype == "float32":
        return evaluate_accuracy(
            task, dict(weights), seed, length, horizon, n_batches, batch_size
        ).per_step
    if dtype != "float64":
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    inputs = draw_test_set(seed, length, task.input_dim, n_batches, batch_size)
    out = float64_outputs(weights, input_phase(task, inputs), horizon)
    target = output_targets(task, inputs, horizon)
    correct = (out >= 0) == (target > 0)
    return correct.reshape(horizon, -1).mean(axis=1)
