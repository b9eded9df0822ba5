"""What a *linear time-invariant* (LTI) network can and cannot do on a linearVB task.

Every output of a linearVB task is a signed copy of one input bit: ``y_{L+k}[j] = Σ_{s,i}
T[k, j, s, i] u_s[i]`` with ``T`` in ``{0, ±1}`` (:func:`target_coefficients`). An LTI network
started at ``h = 0`` (``h_t = A h_{t-1} + B x_t``, ``ŷ_t = C h_t``: the naive EMT circuit, or any
RNN in its linear regime) predicts ``ŷ_t = Σ_s K(t − s) u_s (+ a term that does not depend on u,
from an EOS input)`` with ``K(τ) = C A^τ B``: the coefficient of ``u_s[i]`` in ``ŷ_t[j]`` depends
on the lag ``t − s`` only.

Proposition (exactness). If the task's coefficient of ``u_s[i]`` in ``y_t[j]`` differs between two
scored pairs ``(t, s)``, ``(t', s')`` with the same lag ``t − s = t' − s'`` (possibly at two
different sequence lengths), no LTI network of any size is exact on all scored steps.
:func:`lti_witness` finds such a pair. T2-T4 have one because some input bits are never read
(``u_0[1]`` in T2) while a bit of the same dimension is read at the same lag (``u_7[1]``), and
variable-length repeat copy has one because ``u_0`` must appear at lag ``L`` for every ``L``.

Proposition (margins). Take T2 (``d = L``, output ``j`` copies ``y_{t−p}[j]`` with ``p = L − j``)
and ``1 <= j <= L/2``. At ``t = np`` (``n >= 2``) the target is ``u_p[j]`` at lag ``(n − 1)p`` and
the never-read ``u_0[j]`` sits at lag ``np``, so the worst-case margin ``μ_t = min_u y_t[j] ŷ_t[j]``
satisfies ``μ_{np} <= |K((n−1)p)_{jj}| − |K(np)_{jj}|``. Summing over ``n`` telescopes:
``Σ_{n>=2} μ_{np} <= |K(p)_{jj}|``. The margins are summable, so they tend to zero: an LTI network
keeps all outputs right only with a margin that vanishes along the horizon, and a perturbation of
fixed absolute size (noise, a precision floor) eventually flips outputs. This is not impossibility
at a finite horizon: the leaky circuit (:mod:`vbpipe.analysis.leaky`) is LTI and right on every
sign of T2-T4 at horizon 200 in float64, its margins shrinking geometrically.

Since inputs are i.i.d. ±1 with unit variance, the mean squared error of a filter ``K`` is
``Σ_{occurrences} ‖T − K(τ)‖²_F`` (+ const): the MSE-optimal LTI filter (:func:`optimal_lti_filter`)
is, lag by lag, the average of the task's coefficients at that lag. No LTI network of any size has a
lower test MSE. Its bit accuracy (:func:`expected_bit_accuracy`) is an accuracy, not a bound on
an LTI network's accuracy: a network with a higher MSE can have more signs right (the leaky
circuit).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..taskspec import selection_operator

#: Largest number of inputs a prediction may depend on for exact enumeration of the bit accuracy.
MAX_EXACT = 16

__all__ = [
    "MAX_EXACT",
    "expected_bit_accuracy",
    "filter_coefficients",
    "linear_model_coefficients",
    "lti_witness",
    "optimal_lti_filter",
    "target_coefficients",
    "worst_case_margins",
]


def target_coefficients(task_id, input_dim: int, seq_length: int, horizon: int) -> np.ndarray:
    """``T`` (``H × d × L × d``): ``y_{L+k}[j] = Σ_{s,i} T[k, j, s, i] u_s[i]``, from the recursion."""
    d, length = input_dim, seq_length
    operator = selection_operator(task_id, d, length)  # (L·d, d)
    seq = [np.eye(length * d)[s * d : (s + 1) * d] for s in range(length)]  # each (d, L·d)
    out = np.zeros((horizon, d, length * d))
    for k in range(horizon):
        window = np.concatenate(seq[-length:], axis=0)  # (L·d, L·d): rows = window coordinates
        row = operator.T @ window
        seq.append(row)
        out[k] = row
    return out.reshape(horizon, d, length, d)


def _lengths(lengths) -> list[int]:
    return [int(lengths)] if np.isscalar(lengths) else [int(v) for v in lengths]


def lti_witness(task_id, input_dim: int, lengths, horizon: int) -> dict | None:
    """Two scored (length, step, input) triples with the same lag and different coefficients.

    Returns ``None`` when the task's coefficients depend on the lag only (an LTI network can be
    exact, e.g. repeat copy at one length), else a dict with the ``lag``, the output and input
    dimension ``j``, ``i`` and the two ``occurrences`` ``(L, t, s, coefficient)``: the proof that
    no LTI network is exact on this task at this horizon."""
    seen: dict[tuple[int, int, int], tuple[int, int, int, float]] = {}
    for length in _lengths(lengths):
        coef = target_coefficients(task_id, input_dim, length, horizon)
        for k in range(horizon):
            t = length + k
            for s in range(length):
                block = coef[k, :, s, :]
                for j in range(input_dim):
                    for i in range(input_dim):
                        key = (t - s, j, i)
                        value = float(block[j, i])
                        if key not in seen:
                            seen[key] = (length, t, s, value)
                        elif seen[key][3] != value:
                            return {
                                "lag": t - s,
                                "j": j,
                                "i": i,
                                "occurrences": [seen[key], (length, t, s, value)],
                            }
    return None


def optimal_lti_filter(
    task_id,
    input_dim: int,
    lengths,
    horizon: int,
    length_weights: Mapping[int, float] | None = None,
) -> np.ndarray:
    """The MSE-optimal impulse response ``K`` (``max_lag + 1 × d × d``) over the scored steps.

    ``K[τ]`` is the (length-weighted) mean of the task's coefficient blocks at lag ``τ``; lengths
    are equally likely unless ``length_weights`` says otherwise (the training draws them
    uniformly). ``K[0]`` is zero (no output is scored at lag 0)."""
    lengths = _lengths(lengths)
    max_lag = max(lengths) + horizon - 1
    total = np.zeros((max_lag + 1, input_dim, input_dim))
    weight = np.zeros(max_lag + 1)
    for length in lengths:
        w = 1.0 if length_weights is None else float(length_weights[length])
        coef = target_coefficients(task_id, input_dim, length, horizon)
        for k in range(horizon):
            for s in range(length):
                lag = length + k - s
                total[lag] += w * coef[k, :, s, :]
                weight[lag] += w
    return total / np.where(weight > 0, weight, 1.0)[:, None, None]


def filter_coefficients(kernel: np.ndarray, seq_length: int, horizon: int) -> np.ndarray:
    """Predictions of an LTI filter as coefficients ``P[k, j, s, i] = K[L + k − s][j, i]``."""
    out = np.zeros((horizon, kernel.shape[1], seq_length, kernel.shape[2]))
    for k in range(horizon):
        for s in range(seq_length):
            lag = seq_length + k - s
            if lag < kernel.shape[0]:
                out[k, :, s, :] = kernel[lag]
    return out


def linear_model_coefficients(
    weights: Mapping[str, np.ndarray], input_dim: int, seq_length: int, horizon: int
) -> np.ndarray:
    """The RNN linearised at the origin: ``P[k, j, s, i] = (W_r W_hh^{L+k−s} W_ih)[j, i]``.

    Only the ``input_dim`` data columns of ``W_ih`` count (an EOS column adds a term that does not
    depend on the inputs)."""
    w_hh = np.asarray(weights["W_hh"], dtype=np.float64)
    w_r = np.asarray(weights["W_r"], dtype=np.float64)
    block = np.asarray(weights["W_ih"], dtype=np.float64)[:, :input_dim]
    kernel = []
    for _ in range(seq_length + horizon):
        kernel.append(w_r @ block)  # lag τ: W_r W_hh^τ W_ih
        block = w_hh @ block
    return filter_coefficients(np.stack(kernel), seq_length, horizon)


def _sign_patterns(n: int) -> np.ndarray:
    idx = np.arange(2**n)[:, None]
    return np.where((idx >> np.arange(n)[None, :]) & 1, -1.0, 1.0)


def expected_bit_accuracy(
    predictions: np.ndarray,
    targets: np.ndarray,
    n_samples: int = 1 << 15,
    seed: int = 0,
    max_exact: int = MAX_EXACT,
) -> np.ndarray:
    """Probability, over i.i.d. uniform ±1 inputs, that ``sign(ŷ) == y`` for each step and output.

    ``predictions`` and ``targets`` are coefficient arrays ``(H, d, L, d)``; every target row must be
    a signed one-hot (a linearVB task). ``sign(0) = +1`` as in training and evaluation
    (sums within 1e-9 of 0 count as 0). Exact when a prediction depends on at most ``max_exact``
    inputs, else a Monte-Carlo estimate from ``n_samples`` seeded draws. Returns ``(H, d)``."""
    h, d = predictions.shape[:2]
    pred = predictions.reshape(h, d, -1)
    targ = targets.reshape(h, d, -1)
    rng = np.random.default_rng(seed)
    out = np.zeros((h, d))
    patterns: dict[int, np.ndarray] = {}
    for k in range(h):
        for j in range(d):
            hit = np.flatnonzero(targ[k, j])
            if hit.size != 1:
                raise ValueError(f"target of step {k}, output {j} is not a signed one-hot")
            support = np.union1d(np.flatnonzero(pred[k, j]), hit)
            n = support.size
            if n <= max_exact:
                signs = patterns.setdefault(n, _sign_patterns(n))
            else:
                signs = rng.choice((-1.0, 1.0), size=(n_samples, n))
            p = pred[k, j, support]
            y = signs[:, np.searchsorted(support, hit[0])] * targ[k, j, hit[0]]
            total = signs @ p
            tol = 1e-9 * max(np.abs(p).max(), 1e-300)
            out[k, j] = np.mean(np.where(total >= -tol, 1.0, -1.0) == y)
    return out


def worst_case_margins(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``min_u y ŷ`` per step and output: the target's signed coefficient minus the sum of the
    other coefficients' magnitudes (``(H, d)``). Positive iff the output is right for every input."""
    h, d = predictions.shape[:2]
    pred = predictions.reshape(h, d, -1)
    targ = targets.reshape(h, d, -1)
    signal = np.sum(pred * targ, axis=-1)
    others = np.sum(np.abs(pred) * (targ == 0), axis=-1)
    return signal - others
