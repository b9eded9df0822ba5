"""The input phase in EMT's variable-memory basis: what the memories hold while inputs arrive.

The EMT circuit's ideal after input step ``t`` is the *window* of the sequence in slot coordinates:
slot ``k`` (0 = oldest) holds the value of step ``t − (L − 1 − k)`` (an input, or in the output
phase an earlier target), zero before the sequence starts. After ``L`` inputs the window is
``[u_0, …, u_{L−1}]``. This module measures, for any weights (trained model or circuit), how far
the memory coordinates ``m_t = Ψ* h_t`` (kept coordinates of the readout-grounded basis,
:mod:`vbpipe.evaluation.emt`) are from that ideal, and which mechanism keeps them there.

Inputs are a balanced orthogonal design (:func:`orthogonal_inputs`: columns of a Sylvester
Hadamard matrix), so that the linear regression of ``m_t`` on the inputs is exact and its parts
are orthogonal.

Definitions (all per step ``t``, over the design's sequences and the kept memory coordinates ``q``):

- *routing* ``R_t[q, (s, i)]``: regression coefficient of ``m_t[q]`` on input bit ``u_s[i]``;
  the ideal routing ``W_t`` is the window's coefficient on the inputs (``{0, ±1}``).
- *gain* ``g_q``: least-squares scale of ``R_t[q]`` on ``W_t[q]`` over the first ``L`` output
  steps (where every kept coordinate holds one signed input bit, and where a model that solves the
  task must hold the ideal); ``m̃ = m / g`` and ``R̃ = R / g`` put every coordinate on the inputs'
  ±1 scale. (Calibrating on the output phase keeps coordinates that the basis cannot see during
  the input phase, such as the gated circuit's write port, from dividing by zero.)
- ``contamination_t = ‖R̃_t ⊙ [W_t = 0]‖² / ‖W_t‖²``: energy of inputs routed where the ideal has
  none (an earlier input mixed into a slot, or an input in a slot that should still be empty),
  relative to the ideal's energy (the number of filled kept coordinates).
- ``gain_error_t = ‖(R̃_t − W_t) ⊙ [W_t ≠ 0]‖² / ‖W_t‖²``: the right inputs at the wrong
  strength.
- ``nonlinear_t = ‖m̃_t − R̃_t u‖² / (n ‖W_t‖²)``: what the inputs do not explain linearly.
- ``memory_error_t = ‖m̃_t − window_t‖² / (n ‖W_t‖²) = contamination + gain_error + nonlinear``.

Mechanism:

- *effective operator* ``Φ_t = Ψ* diag(⟨1 − h_t²⟩) W_hh Ψ`` (kept block; ``⟨·⟩`` the mean over
  sequences): the Jacobian of step ``t`` in the basis. Its reference is the model's own
  ``Φ_W = Ψ* W_hh Ψ`` (the same map with every tanh gain 1; equal to Φ for the circuits).
  ``composition_t`` and ``shift_t`` are the projections of ``Φ_t`` on ``Φ_W`` restricted to Φ's
  composition pattern (the newest slot's rows, ``Fᵀ``) and shift pattern (the other rows): the
  fraction of the weights' path that step ``t`` passes, 1 when tanh is linear on it, 0 when
  saturation blocks it. (Relative to ``Φ_W`` rather than Φ because the basis normalises each
  column to unit length, which rescales single entries of a cycle without changing the cycle;
  the ratio to ``Φ_W`` does not depend on that.) ``leak_t``: the norm of ``Φ_t`` outside Φ's
  pattern over ``‖Φ‖``.
- *saturation*: mean ``1 − h_t²`` and the fraction of units with ``|h| > 0.9`` (both reported: a
  mean gain below 1 can come from many units slightly off the origin or from a few at ±1).
- *basis-invariant Φ error*: ``‖Φ_W − Φ‖/‖Φ‖`` and ``min_D ‖D⁻¹ Φ_W D − Φ‖/‖Φ‖`` over diagonal
  ``D`` (:func:`vbpipe.analysis.controls.fit_diagonal_similarity`): the basis normalises each column
  to unit length, and a rescaling of its columns describes the same network, so only the second
  is a property of the network (a uniform contraction ``sΦ`` is not a rescaling: on a cycle
  both errors are ``1 − s``).
- *contamination by source* (:func:`vbpipe.analysis.controls.contamination_by_source`): the part
  written by the input arriving at that step (where the input is written), the part carried by
  earlier inputs, and *mixing*, the carried part beyond the earlier write errors kept at their
  energy (zero for a network that writes off the ideal and then only shifts).
- *drives*: RMS of the input drive ``W_ih x_t`` and of the recurrent drive ``W_hh h_{t−1}``.
- *input alignment*: where ``W_ih``'s data columns land: the share of ``‖Ψ* W_ih‖²`` per slot and
  the share of ``‖W_ih‖²`` outside the span of the basis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .. import recurrence
from ..evaluation.emt import variable_memory_basis
from ..taskspec import Task
from .controls import (
    SATURATION_LEVEL,
    contamination_by_source,
    fit_diagonal_similarity,
    reported_error,
)

__all__ = [
    "LINEARISATIONS",
    "InputPhaseAnalysis",
    "analyse_input_phase",
    "effective_operators",
    "entry_gating_figure",
    "entry_strengths",
    "growth_by_task_figure",
    "growth_figure",
    "input_alignment",
    "input_phase_figure",
    "linearisation_figure",
    "operator_strengths",
    "orthogonal_inputs",
    "perturbation_growth",
    "phase_linearisation_accuracy",
    "routing_decomposition",
    "routing_figure",
    "run_rnn",
    "window_coefficients",
]


def orthogonal_inputs(seq_length: int, input_dim: int) -> np.ndarray:
    """``(L, n, d)`` ±1 inputs whose ``L·d`` bit columns are balanced and mutually orthogonal.

    ``n`` is the smallest power of two above ``L·d``; column ``c`` is column ``c + 1`` of the
    Sylvester Hadamard matrix of order ``n`` (column 0, all ones, is skipped)."""
    m = seq_length * input_dim
    n = 1
    while n <= m:
        n *= 2
    hadamard = np.ones((1, 1))
    while hadamard.shape[0] < n:
        hadamard = np.block([[hadamard, hadamard], [hadamard, -hadamard]])
    columns = hadamard[:, 1 : m + 1]  # (n, L·d)
    return columns.reshape(n, seq_length, input_dim).transpose(1, 0, 2).copy()


def window_coefficients(task_id, input_dim: int, seq_length: int, total: int) -> np.ndarray:
    """``W`` (``T × L·d × L·d``): window coordinate ``c`` after step ``t`` is ``Σ W[t, c, (s,i)]
    u_s[i]``, for ``t < total`` (input phase, then the output phase's targets)."""
    d, length = input_dim, seq_length
    m = length * d
    operator = Task(task_id, d, length).operator(length)
    values = [np.zeros((d, m)) for _ in range(length)]  # before the start: zeros
    out = np.zeros((total, m, m))
    for t in range(total):
        if t < length:
            value = np.zeros((d, m))
            value[np.arange(d), t * d + np.arange(d)] = 1.0
        else:
            value = operator.T @ np.concatenate(values[-length:], axis=0)
        values.append(value)
        out[t] = np.concatenate(values[-length:], axis=0)
    return out


def run_rnn(
    weights: Mapping[str, np.ndarray], x: np.ndarray, linear_steps: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bias-free tanh RNN from ``h = 0`` on ``x`` (``T × B × D_in``), float64.

    ``linear_steps`` (bool, ``T``) replaces tanh by the identity at those steps (an intervention
    that removes the nonlinearity from part of the sequence). Returns ``(hidden (T, B, N), input
    drive W_ih x_t, recurrent drive W_hh h_{t−1})``."""
    return recurrence.forward(weights, x, linear_steps=linear_steps, drives=True)


@dataclass(frozen=True)
class Routing:
    """Per-step routing of inputs into the kept memory coordinates (see the module docstring)."""

    routing: np.ndarray  # (T, q, L·d), gain-normalised R̃
    ideal: np.ndarray  # (T, q, L·d), W restricted to kept rows
    gains: np.ndarray  # (q,)
    contamination: np.ndarray  # (T,)
    gain_error: np.ndarray  # (T,)
    nonlinear: np.ndarray  # (T,)
    memory_error: np.ndarray  # (T,)


def routing_decomposition(
    coords: np.ndarray, inputs: np.ndarray, ideal: np.ndarray, seq_length: int
) -> Routing:
    """Decompose memory coordinates into routing, gain error, contamination and nonlinearity.

    ``coords`` ``(T, n, q)`` (kept memory coordinates), ``inputs`` ``(L, n, d)`` from
    :func:`orthogonal_inputs`, ``ideal`` ``(T, q, L·d)`` (kept rows of
    :func:`window_coefficients`), ``T > L``. Gains are fitted on steps ``L .. 2L − 1`` (those
    present)."""
    n = inputs.shape[1]
    if coords.shape[0] <= seq_length:
        raise ValueError("need at least one output step to calibrate the slot gains")
    design = inputs.transpose(1, 0, 2).reshape(n, -1)  # (n, L·d), orthogonal columns of norm √n
    raw = np.einsum("tnq,nc->tqc", coords, design) / n  # exact least squares for this design
    calib = slice(seq_length, 2 * seq_length)
    num = np.sum(raw[calib] * ideal[calib], axis=(0, 2))
    den = np.sum(ideal[calib] ** 2, axis=(0, 2))
    gains = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    scale = np.nanmax(np.abs(gains)) if np.any(np.isfinite(gains)) else 0.0
    safe = np.where(np.abs(gains) > 1e-9 * scale, gains, np.nan)
    routing = raw / safe[None, :, None]
    scaled = coords / safe[None, None, :]
    energy = np.sum(ideal**2, axis=(1, 2))
    norm = np.where(energy > 0, energy, np.nan)
    off = np.sum(np.where(ideal == 0, routing, 0.0) ** 2, axis=(1, 2)) / norm
    on = np.sum(np.where(ideal != 0, routing - ideal, 0.0) ** 2, axis=(1, 2)) / norm
    fitted = np.einsum("tqc,nc->tnq", routing, design)
    resid = np.sum((scaled - fitted) ** 2, axis=(1, 2)) / (n * norm)
    window = np.einsum("tqc,nc->tnq", ideal, design)
    total = np.sum((scaled - window) ** 2, axis=(1, 2)) / (n * norm)
    return Routing(routing, ideal, gains, off, on, resid, total)


def effective_operators(
    weights: Mapping[str, np.ndarray], hidden: np.ndarray, psi: np.ndarray, psi_dual: np.ndarray
) -> np.ndarray:
    """``Φ_t = Ψ* diag(⟨1 − h_t²⟩) W_hh Ψ`` for every step (``T × q × q``), ``Ψ`` the kept
    columns (``N × q``) and ``Ψ*`` its dual (``q × N``)."""
    w_hh = np.asarray(weights["W_hh"], dtype=np.float64)
    gain = np.mean(1.0 - hidden**2, axis=1)  # (T, N)
    right = w_hh @ psi  # (N, q)
    return np.einsum("qn,tn,nk->tqk", psi_dual, gain, right)


def operator_strengths(
    operators: np.ndarray,
    phi: np.ndarray,
    kept: np.ndarray,
    input_dim: int,
    seq_length: int,
    reference: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Projections of each ``Φ_t`` on the composition and shift parts of ``reference`` (kept block;
    default: the theory Φ), and the leak outside Φ's pattern (see the module docstring). ``phi``
    is the full theory Φ; ``kept`` its kept indices."""
    theory = phi[np.ix_(kept, kept)]
    ref = theory if reference is None else np.asarray(reference)
    pattern = theory != 0
    newest = (kept // input_dim) == seq_length - 1
    comp = np.where(pattern & newest[:, None], ref, 0.0)
    shift = np.where(pattern & ~newest[:, None], ref, 0.0)

    def projection(part):
        denom = np.sum(part**2)
        if denom == 0:
            return np.full(operators.shape[0], np.nan)
        return np.einsum("tqk,qk->t", operators, part) / denom

    outside = np.where(theory == 0, operators, 0.0)
    leak = np.sqrt(np.sum(outside**2, axis=(1, 2))) / np.linalg.norm(theory)
    return {"composition": projection(comp), "shift": projection(shift), "leak": leak}


def input_alignment(
    weights: Mapping[str, np.ndarray],
    psi: np.ndarray,
    psi_dual: np.ndarray,
    kept: np.ndarray,
    input_dim: int,
    seq_length: int,
) -> dict[str, np.ndarray | float]:
    """Where the input weights' data columns land.

    ``outside_share``: the share of ``‖W_ih‖²`` outside span(Ψ) (``‖W_ih − ΨΨ*W_ih‖² / ‖W_ih‖²``);
    ``slot_share`` (``L``): the rest, ``1 − outside_share``, split over the slots in proportion to
    the energy of the coordinates ``Ψ* W_ih`` per slot (Ψ is not orthogonal, so this split is a
    description, not an orthogonal decomposition); ``norm``: ``‖W_ih‖_F``."""
    w_in = np.asarray(weights["W_ih"], dtype=np.float64)[:, :input_dim]
    coords = psi_dual @ w_in  # (q, d)
    per_slot = np.zeros(seq_length)
    np.add.at(per_slot, kept // input_dim, np.sum(coords**2, axis=1))
    total = per_slot.sum()
    inside = psi @ coords
    norm2 = float(np.sum(w_in**2))
    outside = float(np.sum((w_in - inside) ** 2) / norm2) if norm2 > 0 else float("nan")
    share = per_slot / total * (1.0 - outside) if total > 0 else per_slot
    return {"slot_share": share, "outside_share": outside, "norm": float(np.sqrt(norm2))}


@dataclass(frozen=True)
class InputPhaseAnalysis:
    """Everything :func:`analyse_input_phase` measures for one model (arrays over steps ``T``)."""

    seq_length: int
    input_dim: int
    kept: np.ndarray
    routing: Routing
    composition: np.ndarray
    shift: np.ndarray
    leak: np.ndarray
    mean_gain: np.ndarray
    saturated_fraction: np.ndarray
    input_drive: np.ndarray
    recurrent_drive: np.ndarray
    slot_share: np.ndarray
    outside_share: float
    input_norm: float
    operators: np.ndarray  # (T, q, q): Φ_t in the kept coordinates
    phi_kept: np.ndarray  # (q, q): the theory Φ on the kept coordinates
    phi_weights: np.ndarray  # (q, q): Φ_W = Ψ* W_hh Ψ, the reference of the strengths

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.mean_gain.size)

    def contamination_sources(self) -> dict[str, np.ndarray]:
        """``written``, ``carried`` and ``mixing`` over steps (module docstring)."""
        written, carried, mixing = contamination_by_source(
            self.routing.routing, self.routing.ideal, self.input_dim, self.seq_length
        )
        return {"written": written, "carried": carried, "mixing": mixing}

    def phi_errors(self) -> tuple[float, float]:
        """``(‖Φ_W − Φ‖/‖Φ‖, min_D ‖D⁻¹Φ_W D − Φ‖/‖Φ‖)`` on the kept block."""
        norm = float(np.linalg.norm(self.phi_kept))
        if self.phi_kept.size == 0 or norm == 0:
            return float("nan"), float("nan")
        fit = fit_diagonal_similarity(self.phi_weights, self.phi_kept)
        return reported_error(fit.error_before / norm), reported_error(fit.error_after / norm)

    def summary(self) -> dict[str, float]:
        """Scalars per model: contamination (and its split by source) and memory error at the end
        of the input phase (``t = L − 1``), mean composition strength over input steps ``1..L−1``
        and over the first ``L`` output steps, mean tanh gain and saturated fraction over the
        input phase and the first ``L`` output steps, the Φ error before and after the diagonal
        fit, the newest slot's share of the input weights."""
        end = self.seq_length - 1
        inp = slice(1, self.seq_length)
        out = slice(self.seq_length, 2 * self.seq_length)
        sources = self.contamination_sources()
        phi_error, phi_error_fit = self.phi_errors()
        return {
            "contamination_end_of_input": float(self.routing.contamination[end]),
            "memory_error_end_of_input": float(self.routing.memory_error[end]),
            "contamination_output_phase": float(np.nanmean(self.routing.contamination[out])),
            "composition_input_phase": float(np.nanmean(self.composition[inp])),
            "composition_output_phase": float(np.nanmean(self.composition[out])),
            "shift_input_phase": float(np.nanmean(self.shift[inp])),
            "shift_output_phase": float(np.nanmean(self.shift[out])),
            "mean_gain_input_phase": float(np.mean(self.mean_gain[: self.seq_length])),
            "mean_gain_output_phase": float(np.mean(self.mean_gain[out])),
            "saturated_fraction_input_phase": float(
                np.mean(self.saturated_fraction[: self.seq_length])
            ),
            "saturated_fraction_output_phase": float(np.mean(self.saturated_fraction[out])),
            "contamination_written_end_of_input": float(sources["written"][end]),
            "contamination_carried_end_of_input": float(sources["carried"][end]),
            "mixing_end_of_input": float(sources["mixing"][end]),
            "contamination_at_first_input": float(self.routing.contamination[0]),
            "phi_error": phi_error,
            "phi_error_diagonal_fit": phi_error_fit,
            "newest_slot_input_share": float(self.slot_share[-1]),
            "input_outside_basis_share": float(self.outside_share),
        }


def analyse_input_phase(
    weights: Mapping[str, np.ndarray],
    task_id,
    input_dim: int,
    seq_length: int,
    output_steps: int | None = None,
    use_eos: bool = False,
) -> InputPhaseAnalysis:
    """Run the model on the orthogonal design for the input phase and ``output_steps`` (default
    ``2L``) output steps, and measure everything in the module docstring.

    The basis is the readout-grounded EMT basis of ``weights`` (kept columns only; the residual
    PCA directions are not used)."""
    d, length = input_dim, seq_length
    output_steps = 2 * length if output_steps is None else output_steps
    total = length + output_steps
    task = Task(task_id, d, length)
    phi = task.phi(length)
    basis = variable_memory_basis(weights["W_hh"], weights["W_r"], phi, length, hidden=None)
    kept = basis.kept
    psi, psi_dual = basis.psi[:, kept], basis.psi_dual[kept]
    inputs = orthogonal_inputs(length, d)
    n = inputs.shape[1]
    d_in = np.asarray(weights["W_ih"]).shape[1]
    x = np.zeros((total, n, d_in))
    x[:length, :, :d] = inputs
    if use_eos:
        x[length, :, d] = -1.0
    hidden, drive_in, drive_rec = run_rnn(weights, x)
    coords = hidden @ psi_dual.T  # (T, n, q)
    ideal = window_coefficients(task.task_id, d, length, total)[:, kept, :]
    routing = routing_decomposition(coords, inputs, ideal, length)
    ops = effective_operators(weights, hidden, psi, psi_dual)
    phi_w = psi_dual @ np.asarray(weights["W_hh"], dtype=np.float64) @ psi
    strengths = operator_strengths(ops, phi, kept, d, length, reference=phi_w)
    align = input_alignment(weights, psi, psi_dual, kept, d, length)

    def rms(a):
        return np.sqrt(np.mean(np.sum(a**2, axis=2), axis=1))

    return InputPhaseAnalysis(
        seq_length=length,
        input_dim=d,
        kept=kept,
        routing=routing,
        composition=strengths["composition"],
        shift=strengths["shift"],
        leak=strengths["leak"],
        mean_gain=np.mean(1.0 - hidden**2, axis=(1, 2)),
        saturated_fraction=np.mean(np.abs(hidden) > SATURATION_LEVEL, axis=(1, 2)),
        input_drive=rms(drive_in),
        recurrent_drive=rms(drive_rec),
        slot_share=np.asarray(align["slot_share"]),
        outside_share=float(align["outside_share"]),
        input_norm=float(align["norm"]),
        operators=ops,
        phi_kept=phi[np.ix_(kept, kept)],
        phi_weights=phi_w,
    )


def entry_strengths(
    operators: np.ndarray,
    phi_kept: np.ndarray,
    kept: np.ndarray,
    input_dim: int,
    seq_length: int,
    reference: np.ndarray | None = None,
    floor: float = 0.05,
) -> tuple[np.ndarray, list[str]]:
    """Every nonzero entry of Φ, followed over the steps: ``Φ_t[r, c] / reference[r, c]`` (the
    fraction of that path the step passes; ``reference`` defaults to Φ, pass ``Φ_W`` for trained
    models). Entries whose reference is below ``floor`` times the largest are NaN (the weights do
    not carry that path). Returns ``(values (E, T), labels)``; entries are ordered: composition
    entries (rows of the newest slot), the shift out of the newest slot, then the other shifts.
    Labels read ``"slot.dim<-slot.dim"``."""
    ref = phi_kept if reference is None else np.asarray(reference)
    rows, cols = np.nonzero(phi_kept)
    slot_r, slot_c = kept[rows] // input_dim, kept[cols] // input_dim
    group = np.where(slot_r == seq_length - 1, 0, np.where(slot_c == seq_length - 1, 1, 2))
    order = np.lexsort((kept[rows] % input_dim, group))
    rows, cols = rows[order], cols[order]
    base = ref[rows, cols]
    big = np.abs(base) >= floor * np.max(np.abs(base))
    safe = np.where(big, base, np.nan)
    values = operators[:, rows, cols].T / safe[:, None]
    labels = [
        f"{kept[r] // input_dim}.{kept[r] % input_dim}<-{kept[c] // input_dim}.{kept[c] % input_dim}"
        for r, c in zip(rows, cols, strict=True)
    ]
    return values, labels


def perturbation_growth(
    weights: Mapping[str, np.ndarray],
    inputs: np.ndarray,
    start: int,
    steps: int,
    n_values: int | None = None,
    use_eos: bool = False,
) -> np.ndarray:
    """How small perturbations of the hidden state evolve in the output phase.

    For each sequence, the product of the step Jacobians ``J_t = diag(1 − h_t²) W_hh`` over output
    steps ``L + start .. L + start + steps − 1``; its singular values to the power ``1/steps``
    (per-step growth), sorted, averaged over sequences. A linear EMT memory keeps one value ≈ 1
    per memory dimension (neutral: a stored value neither grows nor decays); a contracting memory,
    linear (the leaky circuit: every value ``s``) or held in stable saturated states, has every
    value below 1. Returns the first ``n_values``
    (default all ``N``). ``inputs`` ``(L, B, d)``."""
    w_hh = np.asarray(weights["W_hh"], dtype=np.float64)
    length, batch, d = inputs.shape
    d_in = np.asarray(weights["W_ih"]).shape[1]
    total = length + start + steps
    x = np.zeros((total, batch, d_in))
    x[:length, :, :d] = inputs
    if use_eos:
        x[length, :, d] = -1.0
    hidden, _, _ = run_rnn(weights, x)
    n = w_hh.shape[0]
    out = np.zeros(n)
    for b in range(batch):
        product = np.eye(n)
        for t in range(length + start, total):
            product = (1.0 - hidden[t, b] ** 2)[:, None] * (w_hh @ product)
        out += np.linalg.svd(product, compute_uv=False) ** (1.0 / steps)
    return (out / batch)[: n if n_values is None else n_values]


def growth_figure(
    curves: Mapping[str, np.ndarray], title: str | None = None, steps: int | None = None
) -> Figure:
    """Per-step growth factors of :func:`perturbation_growth` (sorted), one line per model; the
    dashed line at 1 marks neutral (linear-memory) directions. With ``steps`` (the product's
    length), a dotted line marks the rounding floor ``ε_machine^(1/steps)``: values near it are
    zero singular values."""
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for i, (name, values) in enumerate(curves.items()):
        values = np.asarray(values)
        ax.plot(np.arange(1, values.size + 1), values, ".-", ms=3, lw=1, color=f"C{i}", label=name)
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    if steps:
        floor = np.finfo(np.float64).eps ** (1.0 / steps)
        ax.axhline(floor, color="0.4", ls=":", lw=1.0, label=f"rounding floor ({floor:.2f})")
    ax.set_xlabel("singular direction of the product of step Jacobians (sorted)")
    ax.set_ylabel("growth per output step")
    ax.set_ylim(0, 1.15)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def growth_by_task_figure(
    groups: Mapping[str, Mapping[str, Sequence[np.ndarray]]],
    styles: Mapping[str, Mapping] | None = None,
    title: str | None = None,
    steps: int | None = None,
) -> Figure:
    """:func:`growth_figure` for many models: one panel per group (e.g. task); ``groups[group][kind]``
    is a list of sorted growth curves. Each kind is one colour (``styles[kind]`` where given) and one
    legend entry with its count, so the figure stays readable with 20 seeds per task."""
    names = list(groups)
    fig = Figure(figsize=(3.6 * len(names) + 0.6, 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    styles = styles or {}
    floor = np.finfo(np.float64).eps ** (1.0 / steps) if steps else None
    for ax, group in zip(axes, names, strict=True):
        for ki, (kind, curves) in enumerate(groups[group].items()):
            style = {"color": f"C{ki}", "ls": "-", **styles.get(kind, {})}
            for ci, values in enumerate(curves):
                values = np.asarray(values)
                label = f"{kind} ({len(curves)})" if len(curves) > 1 else kind
                ax.plot(np.arange(1, values.size + 1), values, lw=1.0, alpha=0.7,
                        label=label if ci == 0 else None, **style)  # fmt: skip
        ax.axhline(1.0, color="k", ls="-", lw=0.5)
        if floor is not None:
            ax.axhline(floor, color="0.4", ls=":", lw=0.8, label=f"rounding floor ({floor:.2f})")
        ax.set_ylim(0, 1.15)
        ax.set_title(group)
        ax.set_xlabel("singular direction (sorted)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel("growth per output step")
    if title:
        fig.suptitle(title)
    return fig


#: The interventions of :func:`phase_linearisation_accuracy`: where tanh is replaced by identity.
LINEARISATIONS = ("none", "input_phase", "output_phase", "all")


def phase_linearisation_accuracy(
    weights: Mapping[str, np.ndarray],
    task_id,
    input_dim: int,
    seq_length: int,
    inputs: np.ndarray,
    horizon: int = 200,
    use_eos: bool = False,
) -> dict[str, float]:
    """Bit accuracy when tanh is replaced by the identity in one phase (``LINEARISATIONS``).

    ``none`` is the model as it is; ``input_phase`` makes steps ``0..L−1`` linear (no saturation
    while inputs arrive), ``output_phase`` steps ``L..``, ``all`` every step (the model's
    linearisation at the origin). A model whose accuracy survives ``input_phase`` does not need its
    nonlinearity to keep the memories clean while inputs arrive. ``inputs`` ``(L, B, d)`` ±1."""
    d, length = input_dim, seq_length
    operator = Task(task_id, d, length).operator(length)
    seq = list(np.asarray(inputs, dtype=np.float64))
    for _ in range(horizon):
        window = np.concatenate(seq[-length:], axis=1)  # (B, L·d)
        seq.append(window @ operator)
    targets = np.array(seq[length:])
    d_in = np.asarray(weights["W_ih"]).shape[1]
    x = np.zeros((length + horizon, inputs.shape[1], d_in))
    x[:length, :, :d] = inputs
    if use_eos:
        x[length, :, d] = -1.0
    steps = np.arange(length + horizon)
    masks = {
        "none": np.zeros(steps.size, dtype=bool),
        "input_phase": steps < length,
        "output_phase": steps >= length,
        "all": np.ones(steps.size, dtype=bool),
    }
    w_r = np.asarray(weights["W_r"], dtype=np.float64)
    out = {}
    for name in LINEARISATIONS:
        with np.errstate(over="ignore", invalid="ignore"):
            hidden, _, _ = run_rnn(weights, x, masks[name])
            y_hat = hidden[length:] @ w_r.T
        right = (np.where(y_hat >= 0, 1.0, -1.0) == targets) & np.isfinite(y_hat)
        out[name] = float(np.mean(right))
    return out


def linearisation_figure(
    results: Mapping[str, Mapping[str, Sequence[Mapping[str, float]]]],
    title: str | None = None,
) -> Figure:
    """Bit accuracy under the interventions of :func:`phase_linearisation_accuracy`.

    ``results[group][kind]`` is a list (one per model) of the dicts that function returns; one
    panel per group (e.g. task), one cluster per intervention, one bar per kind (e.g. trained,
    naive, gated) with the models as dots."""
    groups = list(results)
    fig = Figure(figsize=(3.6 * len(groups) + 0.6, 3.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(groups), sharey=True))
    for ax, group in zip(axes, groups, strict=True):
        kinds = list(results[group])
        width = 0.8 / max(len(kinds), 1)
        for ki, kind in enumerate(kinds):
            xs = np.arange(len(LINEARISATIONS)) + (ki - (len(kinds) - 1) / 2) * width
            per_model = results[group][kind]
            values = np.array([[m[name] for name in LINEARISATIONS] for m in per_model])
            ax.bar(xs, values.mean(axis=0), width * 0.9, color=f"C{ki}", alpha=0.6, label=kind)
            for x, column in zip(xs, values.T, strict=True):
                ax.plot([x] * column.size, column, "k.", ms=3)
        ax.set_xticks(
            np.arange(len(LINEARISATIONS)),
            ["as is", "linear\ninput phase", "linear\noutput phase", "linear\nthroughout"],
            fontsize=8,
        )
        ax.set_ylim(0.45, 1.02)
        ax.axhline(0.5, color="0.5", lw=0.6)
        ax.set_title(group)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("bit accuracy (horizon 200)")
    axes[0].legend(fontsize=8, loc="lower left")
    if title:
        fig.suptitle(title)
    return fig


def input_phase_figure(
    analyses: Mapping[str, InputPhaseAnalysis],
    title: str | None = None,
    styles: Mapping[str, dict] | None = None,
) -> Figure:
    """Six panels over steps: contamination, its mixing part (carried beyond the write errors,
    :meth:`InputPhaseAnalysis.contamination_sources`), composition strength, shift strength, mean
    tanh gain ``1 − h²`` and the fraction of units with ``|h| > 0.9``; one line per model (label →
    analysis). The grey band is the input phase."""
    fig = Figure(figsize=(12.5, 10.4), layout="constrained")
    axes = fig.subplots(3, 2, sharex=True)
    panels = [
        ("contamination", "contamination\n(off-window input energy / window energy)", True),
        ("mixing", "mixing: contamination carried beyond\nthe write errors (0: write, then shift)",
         True),
        ("composition", "composition passed\n(Ψ*J_tΨ on Ψ*W_hhΨ, Φ's Fᵀ rows)", False),
        ("shift", "shift passed\n(Ψ*J_tΨ on Ψ*W_hhΨ, Φ's shift rows)", False),
        ("mean_gain", "mean tanh gain  ⟨1 − h_t²⟩", False),
        ("saturated_fraction", "saturated fraction\n(units with |h| > 0.9)", False),
    ]  # fmt: skip
    length = None
    for (key, label, log), ax in zip(panels, axes.flat, strict=True):
        for name, analysis in analyses.items():
            length = analysis.seq_length
            if key == "contamination":
                values = analysis.routing.contamination
            elif key == "mixing":
                values = analysis.contamination_sources()["mixing"]
            else:
                values = getattr(analysis, key)
            style = {"marker": ".", "lw": 1.4, **((styles or {}).get(name, {}))}
            ax.plot(analysis.steps, values, label=name, **style)
        if log:
            ax.set_yscale("symlog", linthresh=1e-4)
        else:
            ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if length is not None:
            ax.axvspan(-0.5, length - 0.5, color="0.85", zorder=0)
    for ax in axes[-1]:
        ax.set_xlabel("step t (input phase shaded; output phase from t = L)")
    axes[0, 0].legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    return fig


def entry_gating_figure(
    analyses: Mapping[str, InputPhaseAnalysis], title: str | None = None
) -> Figure:
    """Heatmaps of :func:`entry_strengths` relative to each model's ``Φ_W = Ψ*W_hhΨ`` (entry ×
    step), one panel per model: which of Φ's paths the step's Jacobian passes (1: tanh linear on
    it) or blocks (0: saturated) while inputs arrive (left of the vertical line) and afterwards.
    Grey: paths the weights do not carry."""
    names = list(analyses)
    first = analyses[names[0]]
    n_entries = int(np.count_nonzero(first.phi_kept))
    fig = Figure(
        figsize=(3.3 * len(names) + 1.2, min(0.16 * n_entries + 1.8, 13)), layout="constrained"
    )
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=True))
    image = None
    for ax, name in zip(axes, names, strict=True):
        a = analyses[name]
        values, labels = entry_strengths(
            a.operators, a.phi_kept, a.kept, a.input_dim, a.seq_length, reference=a.phi_weights
        )
        cmap = matplotlib.colormaps["magma"].with_extremes(bad="0.75")
        image = ax.imshow(
            values, cmap=cmap, vmin=0, vmax=1.2, aspect="auto", interpolation="nearest"
        )
        ax.axvline(a.seq_length - 0.5, color="c", lw=1.5)
        n_comp = int(np.sum((a.kept[np.nonzero(a.phi_kept)[0]] // a.input_dim) == a.seq_length - 1))
        ax.axhline(n_comp - 0.5, color="w", lw=0.8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step t (inputs left of the cyan line)")
        if ax is axes[0]:
            ax.set_yticks(np.arange(len(labels)), labels, fontsize=6)
            ax.set_ylabel(
                "entry of Φ (slot.dim <- slot.dim); composition rows above the white line"
            )
    fig.colorbar(image, ax=axes.tolist(), shrink=0.7, label="Ψ*J_tΨ entry / Ψ*W_hhΨ entry")
    if title:
        fig.suptitle(title)
    return fig


def routing_figure(
    analyses: Mapping[str, InputPhaseAnalysis], step: int | None = None, title: str | None = None
) -> Figure:
    """Heatmaps of the gain-normalised routing ``R̃_t`` (kept memory coordinate × input bit) at
    ``step`` (default ``L − 1``, the end of the input phase), one panel per model. The ideal is a
    signed one-hot per row; anything else is contamination."""
    names = list(analyses)
    fig = Figure(figsize=(4.6 * len(names) + 0.8, 4.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    image = None
    for name, ax in zip(names, axes, strict=True):
        analysis = analyses[name]
        d, length = analysis.input_dim, analysis.seq_length
        t = length - 1 if step is None else step
        matrix = analysis.routing.routing[t]
        image = ax.imshow(
            matrix, cmap="coolwarm", vmin=-1.2, vmax=1.2, aspect="auto", interpolation="nearest"
        )
        for s in range(1, length):
            ax.axvline(s * d - 0.5, color="k", lw=0.4)
        slot_of_row = analysis.kept // d
        for r in np.flatnonzero(np.diff(slot_of_row)):
            ax.axhline(r + 0.5, color="k", lw=0.4)
        ax.set_xticks(
            [s * d + (d - 1) / 2 for s in range(length)], [f"u{s}" for s in range(length)]
        )
        ax.set_xlabel("input bit (grouped by input step)")
        ax.set_ylabel(f"kept memory coordinate ({analysis.kept.size}; lines between slots)")
        ax.set_title(
            f"{name}\ncontamination {analysis.routing.contamination[t]:.3f} at t = {t}", fontsize=10
        )
    fig.colorbar(image, ax=axes.tolist(), shrink=0.8, label="routing coefficient / slot gain")
    if title:
        fig.suptitle(title)
    return fig
