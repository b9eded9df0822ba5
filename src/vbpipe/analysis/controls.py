"""Measurements for the controls (docs/controls.md): arrays in, numbers out.

- :func:`relative_change`: how far training moved a weight from its start, ``‖W − W₀‖_F / ‖W₀‖_F``
  (does gradient descent keep the circuit it starts from?).
- :func:`saturation_fraction`: the share of hidden units with ``|h| > 0.9``, the direct test of the
  claim "saturated states" (a mean tanh gain near 1 with a few units at ±1 is not saturation).
- :func:`fit_diagonal_similarity` and :func:`basis_invariant_phi_error`: the EMT basis normalises
  each column to unit length, and any rescaling of its columns, ``D⁻¹ Φ D``, describes the same
  network. The error of ``Φ_emp`` against Φ is then confounded by the columns' scales; fitting the
  diagonal ``D`` that minimises ``‖D⁻¹ Φ_emp D − Φ‖_F`` first leaves only what no rescaling removes.
- :func:`contamination_by_source`: the input-phase contamination of
  :func:`vbpipe.analysis.input_phase.routing_decomposition` split by the input that causes it.
  The part due to the input arriving at that very step measures *where the input is written* (a
  network may write ``u_t`` on other coordinates than the newest slot's and still be linear and
  exact); the part due to earlier inputs measures *mixing* (an earlier input moved where the ideal
  has none). At ``t = 0`` all contamination is of the first kind.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
from scipy.optimize import least_squares

from ..constants import SOLVED_ACCURACY
from ..intervals import t_interval, wilson_interval

__all__ = [
    "DiagonalFit",
    "SATURATION_LEVEL",
    "basis_invariant_phi_error",
    "contamination_by_source",
    "controls_figure",
    "summarise",
    "fit_diagonal_similarity",
    "relative_change",
    "saturation_fraction",
]

#: ``|h|`` above which a tanh unit counts as saturated (tanh' < 0.19).
SATURATION_LEVEL = 0.9


def relative_change(initial: np.ndarray, final: np.ndarray) -> float:
    """``‖final − initial‖_F / ‖initial‖_F`` (``inf`` when the start is zero and the end is not)."""
    initial = np.asarray(initial, dtype=np.float64)
    change = float(np.linalg.norm(np.asarray(final, dtype=np.float64) - initial))
    norm = float(np.linalg.norm(initial))
    if norm == 0:
        return 0.0 if change == 0 else float("inf")
    return change / norm


def saturation_fraction(states: np.ndarray, level: float = SATURATION_LEVEL) -> float:
    """Share of the entries of ``states`` (any shape, e.g. ``(T, B, N)``) with ``|h| > level``."""
    states = np.asarray(states)
    if states.size == 0:
        raise ValueError("saturation_fraction needs at least one state")
    return float(np.count_nonzero(np.abs(states) > level) / states.size)


class DiagonalFit:
    """The fitted similarity: ``scales`` ``d`` (``D = diag(d)``, signed, geometric mean of ``|d|``
    one), ``transformed = D⁻¹ Φ_emp D`` and the Frobenius errors of ``Φ_emp``
    and of ``transformed`` against the theory."""

    def __init__(self, scales, transformed, error_before, error_after):
        self.scales = scales
        self.transformed = transformed
        self.error_before = error_before
        self.error_after = error_after


def _components(pattern: np.ndarray) -> list[list[int]]:
    """Connected components of the undirected graph with an edge ``i − j`` where ``pattern``."""
    n = pattern.shape[0]
    linked = pattern | pattern.T
    seen, out = np.zeros(n, dtype=bool), []
    for start in range(n):
        if seen[start]:
            continue
        seen[start] = True
        queue, members = deque([start]), []
        while queue:
            i = queue.popleft()
            members.append(i)
            for j in np.flatnonzero(linked[i] & ~seen):
                seen[j] = True
                queue.append(j)
        out.append(sorted(members))
    return out


def fit_diagonal_similarity(phi_emp: np.ndarray, phi_theory: np.ndarray) -> DiagonalFit:
    """The diagonal ``D`` minimising ``‖D⁻¹ Φ_emp D − Φ‖_F``.

    ``(D⁻¹ Φ_emp D)_ij = Φ_emp,ij d_j / d_i``. Signs come first, from a spanning tree of Φ's
    non-zero pattern (``sign(d_j / d_i) = sign(Φ_ij / Φ_emp,ij)``); the log-magnitudes start from
    the least-squares fit of ``log|Φ_emp,ij| + x_j − x_i = log|Φ_ij|`` on that pattern (exact when
    ``Φ_emp`` is a diagonal similarity of Φ) and are then refined on the Frobenius objective.
    ``D`` is determined up to one global scale (``|d|`` has geometric mean one), and up to one
    scale per connected block of the pattern where no entry outside the pattern couples them.
    Entries outside the pattern count in the objective too. The refinement starts from both the
    log fit and the signs alone and keeps the best candidate, no rescaling included, so the fitted
    error is never above the raw one."""
    a = np.asarray(phi_emp, dtype=np.float64)
    b = np.asarray(phi_theory, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"need two square matrices of one shape, got {a.shape} and {b.shape}")
    n = a.shape[0]
    pattern = (b != 0) & (a != 0)
    np.fill_diagonal(pattern, False)  # a diagonal entry does not change under D
    signs = np.ones(n)
    for block in _components(pattern):
        root = block[0]
        done = {root}
        queue = deque([root])
        while queue:
            i = queue.popleft()
            for j in block:
                if j in done:
                    continue
                if pattern[i, j]:  # d_j / d_i has the sign of b_ij / a_ij
                    signs[j] = signs[i] * np.sign(b[i, j] / a[i, j])
                elif pattern[j, i]:  # d_i / d_j has the sign of b_ji / a_ji
                    signs[j] = signs[i] * np.sign(b[j, i] / a[j, i])
                else:
                    continue
                done.add(j)
                queue.append(j)
    rows, cols = np.nonzero(pattern)

    def residual(logs, sign=signs):
        scale = sign * np.exp(np.clip(logs, -50.0, 50.0))
        return ((a * scale[None, :] / scale[:, None]) - b).ravel()

    def jacobian(logs, sign=signs):
        scale = sign * np.exp(np.clip(logs, -50.0, 50.0))
        term = a * scale[None, :] / scale[:, None]  # d r_ij / d x_j = term_ij = -d r_ij / d x_i
        out = np.zeros((n, n, n))
        idx = np.arange(n)
        out[:, idx, idx] += term
        out[idx, :, idx] -= term
        return out.reshape(n * n, n)

    def cost(candidate):
        return float(np.sum(residual(candidate[1], candidate[0]) ** 2))

    starts = [np.zeros(n)]
    if rows.size:
        system = np.zeros((rows.size, n))
        system[np.arange(rows.size), cols] += 1.0
        system[np.arange(rows.size), rows] -= 1.0
        target = np.log(np.abs(b[rows, cols])) - np.log(np.abs(a[rows, cols]))
        starts.append(np.linalg.lstsq(system, target, rcond=None)[0])
    candidates = [(np.ones(n), np.zeros(n))] + [(signs, x) for x in starts]  # first: no fit at all
    if rows.size:
        for start in starts:
            fit = least_squares(residual, start, jac=jacobian, method="lm", xtol=1e-15,
                                ftol=1e-15, gtol=1e-15)  # fmt: skip
            if np.all(np.isfinite(fit.x)):
                candidates.append((signs, fit.x))
    signs, x = min(candidates, key=cost)
    x = np.clip(x, -50.0, 50.0)
    x = x - x.mean()  # one global scale leaves D⁻¹ Φ_emp D as it is
    scales = signs * np.exp(x)
    transformed = a * scales[None, :] / scales[:, None]
    return DiagonalFit(
        scales,
        transformed,
        float(np.linalg.norm(a - b)),
        float(np.linalg.norm(transformed - b)),
    )


def basis_invariant_phi_error(
    phi_emp: np.ndarray, phi_theory: np.ndarray, kept: np.ndarray
) -> tuple[float | None, float | None]:
    """The relative Φ error on the kept block before and after the diagonal fit,
    ``‖Φ_emp − Φ‖/‖Φ‖`` and ``min_D ‖D⁻¹ Φ_emp D − Φ‖/‖Φ‖`` (``None`` for an empty block), to
    :data:`REPORTED_DECIMALS` decimals."""
    kept = np.asarray(kept, dtype=np.int64)
    if kept.size == 0:
        return None, None
    idx = np.ix_(kept, kept)
    theory = np.asarray(phi_theory, dtype=np.float64)[idx]
    norm = float(np.linalg.norm(theory))
    if norm == 0:
        return None, None
    fit = fit_diagonal_similarity(np.asarray(phi_emp, dtype=np.float64)[idx], theory)
    return reported_error(fit.error_before / norm), reported_error(fit.error_after / norm)


#: Decimals the relative Φ errors are reported to. Below 1e-12 (an exact circuit's error after the
#: fit is ~1e-16) the fit's rounding differs from run to run (numpy's and LAPACK's summation order
#: follows memory alignment), and a rerun must give the same file.
REPORTED_DECIMALS = 12


def reported_error(value: float) -> float:
    """``value`` to :data:`REPORTED_DECIMALS` decimals."""
    return round(float(value), REPORTED_DECIMALS) + 0.0  # + 0.0: no -0.0


def contamination_by_source(
    routing: np.ndarray, ideal: np.ndarray, input_dim: int, seq_length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(written, carried, mixing)``, each ``(T,)``; ``written + carried`` is the routing's
    contamination.

    ``routing`` and ``ideal`` are the ``(T, q, L·d)`` arrays of
    :class:`vbpipe.analysis.input_phase.Routing` (column ``s·d + i`` is input bit ``u_s[i]``).
    ``written[t]``: off-ideal energy of the input that arrives at step ``t`` (zero in the output
    phase, which has no input); ``carried[t]``: of the inputs that arrived before ``t``; both over
    the ideal's energy ``E_t`` at ``t``, as the contamination is. ``mixing[t] = carried[t] −
    Σ_{s<t} written[s] E_s / E_t``: what is carried beyond the write errors themselves kept at
    their energy, i.e. zero for a network that writes off the ideal and then only shifts (an
    orthogonal, energy-preserving memory), the whole contamination for one that writes exactly
    and mixes (the naive circuit), negative where a contracting network sheds its write errors."""
    routing = np.asarray(routing, dtype=np.float64)
    ideal = np.asarray(ideal, dtype=np.float64)
    steps = routing.shape[0]
    d = int(input_dim)
    off = np.where(ideal == 0, routing, 0.0) ** 2  # (T, q, L·d)
    per_input = off.reshape(steps, off.shape[1], -1, d).sum(axis=(1, 3))  # (T, L)
    energy = np.sum(ideal**2, axis=(1, 2))
    norm = np.where(energy > 0, energy, np.nan)
    written_energy = np.zeros(steps)
    arriving = np.arange(min(steps, seq_length))
    written_energy[arriving] = per_input[arriving, arriving]
    carried_energy = per_input.sum(axis=1) - written_energy  # future inputs add nothing (causality)
    persisting = np.concatenate([[0.0], np.cumsum(written_energy)[:-1]])
    return written_energy / norm, carried_energy / norm, (carried_energy - persisting) / norm


SUMMARY_MEANS = (
    "accuracy_start",
    "accuracy_end",
    "change_W_hh",
    "change_W_ih",
    "change_W_r",
    "spectral_error_start",
    "spectral_error_end",
    "n_unit_circle_start",
    "n_unit_circle_end",
    "phi_error_start",
    "phi_error_diagonal_fit_start",
    "phi_error_end",
    "phi_error_diagonal_fit_end",
    "saturation_fraction_end",
)
#: Means over the solved models only: the contamination's slot gains are calibrated on the output
#: phase, and are near zero (the ratios meaningless) for a model that does not hold the task.
SOLVED_MEANS = (
    "contamination_written_end",
    "contamination_carried_end",
    "contamination_mixing_end",
)


def summarise(rows: Sequence[dict]) -> list[dict]:
    """Per (task, condition): n, solve rate with its Wilson interval, means with t intervals."""
    import pandas as pd

    table = pd.DataFrame(list(rows))
    out = []
    for (task, kind), group in table.groupby(["task", "condition"], sort=True):
        n, solved = len(group), int(group["solved_end"].sum())
        entry = {"task": task, "condition": kind, "n": n, "solved": solved,
                 "solve_rate": solved / n, "solve_rate_wilson95": list(wilson_interval(solved, n))}  # fmt: skip
        for column in SUMMARY_MEANS + SOLVED_MEANS:
            if column in group:
                values = group[column] if column in SUMMARY_MEANS else (
                    group.loc[group["solved_end"].astype(bool), column])  # fmt: skip
                if not values.notna().any():  # e.g. no saturation for a linear RNN
                    continue
                mean, low, high = t_interval(values.astype(float))
                entry[column] = {"mean": mean, "t95": [low, high], "n": int(values.notna().sum())}
        out.append(entry)
    return out


CONDITIONS = ("tanh random", "linear random", "tanh circuit_naive", "tanh circuit_gated")


def controls_figure(rows: Sequence[dict]):
    """Accuracy at the end (every model a dot, the mean with its 95 % t interval a bar), the change
    of ``W_hh`` and the spectral error at the end (geometric mean, t interval of the logs), per
    task and condition."""
    from matplotlib.figure import Figure

    tasks = sorted({r["task"] for r in rows})
    kinds = [c for c in CONDITIONS if any(r["condition"] == c for r in rows)]
    figure = Figure(figsize=(13, 4), layout="constrained")
    axes = figure.subplots(1, 3)
    width = 0.8 / max(1, len(kinds))
    panels = (
        ("accuracy_end", "test accuracy at the end (horizon 200)", False),
        ("change_W_hh", r"$\|W_{hh} - W_{hh}^{0}\|_F / \|W_{hh}^{0}\|_F$", False),
        ("spectral_error_end", "spectral error of $W_{hh}$ at the end (rad)", True),
    )
    for ax, (column, title, log) in zip(axes, panels, strict=True):
        for k, kind in enumerate(kinds):
            for i, task in enumerate(tasks):
                values = np.array([r.get(column, np.nan) for r in rows
                                   if r["task"] == task and r["condition"] == kind], dtype=float)  # fmt: skip
                values = values[np.isfinite(values) & ((values > 0) if log else True)]
                x = i + (k - (len(kinds) - 1) / 2) * width
                if values.size:
                    jitter = np.linspace(-0.3, 0.3, values.size) * width
                    ax.plot(x + jitter, values, ".", color=f"C{k}", alpha=0.6, ms=4)
                    if log:  # the geometric mean and its interval: a t interval of the logs
                        mean, low, high = (10**v for v in t_interval(np.log10(values)))
                    else:
                        mean, low, high = t_interval(values)
                    ax.errorbar(x, mean, yerr=[[mean - low], [high - mean]], fmt="_",
                                color=f"C{k}", ms=12, capsize=3, label=kind if i == 0 else None)  # fmt: skip
        ax.set_xticks(range(len(tasks)), tasks)
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
    axes[0].axhline(SOLVED_ACCURACY, color="0.6", lw=0.8, ls="--")
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                  ncols=len(kinds), fontsize=9)  # fmt: skip
    return figure
