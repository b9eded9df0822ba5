"""Figures of the evaluation stage: each function takes data and returns a matplotlib ``Figure``.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot, no global backend
state), so they render with Agg wherever they are saved (:func:`vbpipe.fileio.save_figure`).
They are drawn from saved results (see :mod:`vbpipe.jobs.figures`), never from a model.

Per model: :func:`test_sample_figure`, :func:`accuracy_per_step_figure`, :func:`spectrum_figure`,
:func:`phi_figure` (the paper's Figure 4), :func:`memory_trajectory_figure` (Figure 3). Per
experiment (section 4.7 of the original), from a :class:`GlobalData`:
:func:`global_magnitude_figure`, :func:`global_angle_figure`, :func:`global_complex_plane_figure`,
:func:`global_statistics_figure`, one panel per sequence length.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

CMAP = "coolwarm"
RNN_COLOUR = "tab:blue"
THEORY_COLOUR = "tab:orange"

__all__ = [
    "GlobalData",
    "accuracy_per_step_figure",
    "global_angle_figure",
    "global_complex_plane_figure",
    "global_magnitude_figure",
    "global_statistics_figure",
    "memory_trajectory_figure",
    "message_figure",
    "phi_figure",
    "spectrum_figure",
    "test_sample_figure",
]


def _complex(value) -> np.ndarray:
    """Eigenvalues from a complex array or ``[[re, im], ...]``; empty for ``None``."""
    if value is None:
        return np.zeros(0, dtype=np.complex128)
    arr = np.asarray(value)
    if np.iscomplexobj(arr):
        return arr.reshape(-1)
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.complex128)
    return (arr[:, 0] + 1j * arr[:, 1]).reshape(-1)


def _unit_circle(ax, radius: float = 1.0, **kwargs) -> None:
    theta = np.linspace(0, 2 * np.pi, 361)
    style = {"color": "black", "lw": 0.8, "ls": "-"} | kwargs
    ax.plot(radius * np.cos(theta), radius * np.sin(theta), **style)
    ax.axhline(0, color="grey", lw=0.4)
    ax.axvline(0, color="grey", lw=0.4)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(n, max_cols)
    return int(np.ceil(n / cols)), cols


# ---------------------------------------------------------------------------------------- per model


def test_sample_figure(
    target: np.ndarray, prediction: np.ndarray, n_steps: int = 40, title: str = "Test sample"
) -> Figure:
    """Prediction, ground truth and error map of one test sequence over its first ``n_steps`` output
    steps (``target`` and ``prediction``: ``(H, d)``; x = output step, y = dimension)."""
    target = np.asarray(target)[:n_steps]
    pred_sign = np.where(np.asarray(prediction)[:n_steps] >= 0, 1.0, -1.0)
    finite = np.all(np.isfinite(np.asarray(prediction)[:n_steps]))
    wrong = (pred_sign != target).astype(float)
    steps, dims = target.shape
    extent = (0.5, steps + 0.5, dims - 0.5, -0.5)
    fig = Figure(figsize=(max(6.0, 0.18 * steps + 2), 6.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    for ax, data, name in (
        (axes[0], pred_sign, "prediction sign(ŷ)"),
        (axes[1], target, "target y"),
    ):
        im = ax.imshow(data.T, cmap=CMAP, vmin=-1, vmax=1, aspect="auto", extent=extent)
        ax.set_title(name)
        ax.set_ylabel("dimension")
        cbar = fig.colorbar(im, ax=ax, ticks=[-1, 1])
        cbar.set_label("bit")
    im = axes[2].imshow(
        wrong.T,
        cmap=ListedColormap(["white", "tab:red"]),
        vmin=0,
        vmax=1,
        aspect="auto",
        extent=extent,
    )
    cbar = fig.colorbar(im, ax=axes[2], ticks=[0.25, 0.75])
    cbar.ax.set_yticklabels(["correct", "wrong"])
    accuracy = 1.0 - wrong.mean() if wrong.size else float("nan")
    axes[2].set_title(f"errors: {int(wrong.sum())} of {wrong.size} bits wrong")
    axes[2].set_ylabel("dimension")
    axes[2].set_xlabel("output step")
    note = "" if finite else " (non-finite outputs)"
    fig.suptitle(f"{title}: accuracy {accuracy:.4f} on the first {steps} output steps{note}")
    return fig


def accuracy_per_step_figure(
    per_step: Mapping[int, np.ndarray], train_horizon: int | None = None, title: str = "Accuracy"
) -> Figure:
    """Bit accuracy at each output step, one line per sequence length; the training horizon
    marked."""
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    for length, values in sorted(per_step.items()):
        values = np.asarray(values)
        ax.plot(np.arange(1, values.size + 1), values, lw=1.2, label=f"L = {length}")
    if train_horizon:
        ax.axvline(
            train_horizon, color="grey", ls="--", lw=1, label=f"train horizon {train_horizon}"
        )
    ax.axhline(0.5, color="black", ls=":", lw=0.8, label="chance")
    ax.set_ylim(0.4, 1.02)
    ax.set_xlabel("output step")
    ax.set_ylabel("bit accuracy")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def spectrum_figure(
    eig_rnn,
    eig_theory: Mapping[int, np.ndarray],
    unit_threshold: float = 0.9,
    title: str = "Spectrum",
) -> Figure:
    """eig(W_hh) against eig(Φ) in the complex plane, one panel per length, with the unit circle and
    the unit-circle threshold."""
    eig_rnn = _complex(eig_rnn)
    lengths = sorted(eig_theory)
    rows, cols = _grid(max(1, len(lengths)))
    fig = Figure(figsize=(4.6 * cols, 4.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax, length in zip(axes, lengths, strict=False):
        theory = _complex(eig_theory[length])
        _unit_circle(ax)
        _unit_circle(ax, unit_threshold, color="grey", ls="--", lw=0.7)
        ax.scatter(
            theory.real,
            theory.imag,
            s=70,
            facecolors="none",
            edgecolors=THEORY_COLOUR,
            lw=1.3,
            label=f"Φ theory ({np.sum(np.abs(theory) > unit_threshold)} on circle)",
        )
        ax.scatter(
            eig_rnn.real,
            eig_rnn.imag,
            s=14,
            marker="x",
            color=RNN_COLOUR,
            label=f"W_hh ({np.sum(np.abs(eig_rnn) > unit_threshold)} with |λ|>{unit_threshold})",
        )
        ax.set_title(f"L = {length}")
        ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
        lim = max(1.25, 1.05 * float(np.abs(eig_rnn).max(initial=0.0)))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    for ax in axes[len(lengths) :]:
        ax.set_visible(False)
    fig.suptitle(textwrap.fill(title, width=int(8 * 4.6 * cols)), fontsize=10)
    return fig


def _slot_grid(ax, seq_length: int, input_dim: int, rows: bool = True, cols: bool = True) -> None:
    for k in range(1, seq_length):
        pos = k * input_dim - 0.5
        if cols:
            ax.axvline(pos, color="white", lw=0.8)
        if rows:
            ax.axhline(pos, color="white", lw=0.8)


def _slot_ticks(ax, seq_length: int, input_dim: int) -> None:
    top = ax.secondary_xaxis("top")
    top.set_xticks([k * input_dim + (input_dim - 1) / 2 for k in range(seq_length)])
    top.set_xticklabels([str(k + 1) for k in range(seq_length)], fontsize=7)
    top.set_xlabel("slot (1 = oldest)")


def phi_figure(
    phi_empirical: np.ndarray,
    operator: np.ndarray,
    input_dim: int,
    seq_length: int,
    title: str = "Empirical Φ vs task operator",
    vmax: float | None = None,
) -> Figure:
    """Figure 4: Re(Ψ* W_hh Ψ) ((L·d + r)²) next to the task operator Fᵀ (d × L·d), on one symmetric
    colour scale; white lines between slots (every d), black lines before the residual PCA
    dimensions."""
    phi_emp = np.real(np.asarray(phi_empirical, dtype=np.complex128))
    op_t = np.asarray(operator).T
    memory_dim = input_dim * seq_length
    if vmax is None:
        finite = np.abs(phi_emp[np.isfinite(phi_emp)])
        vmax = max(1.0, float(np.percentile(finite, 99.5)) if finite.size else 1.0)
    fig = Figure(figsize=(13, 6.2), layout="constrained")
    ax_phi, ax_op = fig.subplots(1, 2, width_ratios=[1.0, 1.0])
    im = ax_phi.imshow(phi_emp, cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
    for axis in (ax_phi.xaxis, ax_phi.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    _slot_grid(ax_phi, seq_length, input_dim)
    if phi_emp.shape[0] > memory_dim:
        ax_phi.axvline(memory_dim - 0.5, color="black", lw=1.2)
        ax_phi.axhline(memory_dim - 0.5, color="black", lw=1.2)
    _slot_ticks(ax_phi, seq_length, input_dim)
    ax_phi.set_xlabel(
        f"basis vector (slot-major; last {phi_emp.shape[0] - memory_dim} = residual PCA)"
    )
    ax_phi.set_ylabel("basis vector")
    ax_phi.set_title("empirical Φ = Re(Ψ* W_hh Ψ)")
    im2 = ax_op.imshow(
        op_t, cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest", aspect="auto"
    )
    _slot_grid(ax_op, seq_length, input_dim, rows=False)
    _slot_ticks(ax_op, seq_length, input_dim)
    for axis in (ax_op.xaxis, ax_op.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    ax_op.set_xlabel("window index (slot·d + dimension)")
    ax_op.set_ylabel("output dimension")
    ax_op.set_title("task operator Fᵀ (last block row of Φ)")
    fig.colorbar(im, ax=ax_phi, shrink=0.8, label="coefficient")
    fig.colorbar(im2, ax=ax_op, shrink=0.8, label="coefficient")
    fig.suptitle(title)
    return fig


def memory_trajectory_figure(
    snapshots: np.ndarray,
    steps: Sequence[int],
    seq_length: int,
    title: str = "Variable memories of the hidden state",
    vmax: float | None = None,
) -> Figure:
    """Figure 3: for each time step, ``(Ψ* h_t)`` over the L·d memory dimensions as a dimension ×
    slot image, z-scored per panel (``snapshots``: ``(n, d, L)``), in a grid of up to 5 columns with
    a shared colour bar."""
    snapshots = np.asarray(snapshots)
    n = snapshots.shape[0]
    cols = min(5, max(1, n))
    rows = int(np.ceil(max(1, n) / cols))
    if vmax is None:
        vmax = max(1.0, float(np.abs(snapshots).max(initial=0.0)))
    d, length = snapshots.shape[1:] if n else (1, seq_length)
    fig = Figure(figsize=(2.5 * cols + 1.2, 2.7 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    im = None
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_visible(False)
            continue
        im = ax.imshow(
            snapshots[i],
            cmap=CMAP,
            vmin=-vmax,
            vmax=vmax,
            extent=(0.5, length + 0.5, d - 0.5, -0.5),
            interpolation="nearest",
        )
        t = int(steps[i])
        phase = "input" if t < seq_length else "output"
        ax.set_title(f"t = {t} ({phase})", fontsize=9)
        ax.set_xticks(range(1, length + 1))
        ax.set_yticks(range(d))
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel("dimension")
        if i // cols == rows - 1:
            ax.set_xlabel("slot (1 = oldest)")
    if im is not None:
        fig.colorbar(im, ax=list(axes[:n]), shrink=0.8, label="z-scored Ψ* h_t")
    fig.suptitle(title)
    return fig


def message_figure(text: str) -> Figure:
    """A placeholder figure carrying only a message (e.g. no usable model for a task)."""
    fig = Figure(figsize=(6, 2.5))
    fig.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=12)
    return fig


# ------------------------------------------------------------------------------------------- global


@dataclass
class GlobalData:
    """What the global figures show, per experiment: ``whh`` one spectrum per model with finite
    weights; per length ``theory`` (eig Φ per model), ``spectral_error_deg`` (full W_hh vs Φ, per
    model that has one) and ``unit_counts`` (``(rnn, theory)`` per model); ``accuracy`` per
    model."""

    n_models: int
    lengths: list[int]
    whh: list[np.ndarray]
    theory: dict[int, list[np.ndarray]] = field(default_factory=dict)
    accuracy: list[float] = field(default_factory=list)
    spectral_error_deg: dict[int, list[float]] = field(default_factory=dict)
    unit_counts: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def _pooled(parts: Sequence[np.ndarray]) -> np.ndarray:
    parts = [_complex(p) for p in parts if p is not None]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.complex128)


def _length_panels(lengths: Sequence[int], width: float = 5.0, height: float = 3.8):
    lengths = sorted(lengths) or [None]
    rows, cols = _grid(len(lengths))
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(lengths) :]:
        ax.set_visible(False)
    return fig, axes, lengths


def _no_data(ax) -> None:
    ax.text(0.5, 0.5, "no finite spectra", ha="center", va="center", transform=ax.transAxes)


def global_magnitude_figure(data: GlobalData) -> Figure:
    """Density histograms of ``|λ|`` pooled over models: full W_hh vs Φ (per length), with ``|λ| =
    1``."""
    rnn = _pooled(data.whh)
    fig, axes, lengths = _length_panels(data.lengths)
    for ax, length in zip(axes, lengths, strict=False):
        theory = _pooled(data.theory.get(length, []))
        values = np.abs(np.concatenate([rnn, theory]))
        if values.size == 0:
            _no_data(ax)
            continue
        bins = np.linspace(0, 1.1 * max(values.max(), 1.0), 51)
        _rnn_vs_theory_hist(ax, np.abs(rnn), np.abs(theory), bins)
        ax.axvline(1.0, color="red", lw=1, label="|λ| = 1")
        ax.set_xlabel("|λ|")
        ax.set_ylabel("density")
        ax.set_title(f"L = {length}" if length else "all")
        ax.legend(fontsize=8)
    fig.suptitle(f"Eigenvalue magnitudes pooled over {data.n_models} models")
    return fig


def _rnn_vs_theory_hist(ax, rnn: np.ndarray, theory: np.ndarray, bins: np.ndarray) -> None:
    """Overlaid density histograms of one eigenvalue quantity: the RNN's W_hh against Φ."""
    for values, colour, label in ((rnn, RNN_COLOUR, "W_hh"), (theory, THEORY_COLOUR, "Φ theory")):
        ax.hist(values, bins=bins, density=True, alpha=0.6, color=colour, label=label)


def global_angle_figure(data: GlobalData) -> Figure:
    """Density histograms of ``arg λ`` on ``[−π, π]`` pooled over models: full W_hh vs Φ (per
    length)."""
    rnn = _pooled(data.whh)
    fig, axes, lengths = _length_panels(data.lengths)
    bins = np.linspace(-np.pi, np.pi, 51)
    for ax, length in zip(axes, lengths, strict=False):
        theory = _pooled(data.theory.get(length, []))
        if rnn.size + theory.size == 0:
            _no_data(ax)
            continue
        _rnn_vs_theory_hist(ax, np.angle(rnn), np.angle(theory), bins)
        ax.set_xlabel("arg λ (radians)")
        ax.set_ylabel("density")
        ax.set_xlim(-np.pi, np.pi)
        ax.set_title(f"L = {length}" if length else "all")
        ax.legend(fontsize=8)
    fig.suptitle(f"Eigenvalue angles pooled over {data.n_models} models")
    return fig


def global_complex_plane_figure(data: GlobalData, magnitude_threshold: float = 0.0) -> Figure:
    """All pooled eigenvalues with ``|λ| ≥ magnitude_threshold`` in the complex plane (W_hh and
    Φ)."""
    rnn = _pooled(data.whh)
    rnn = rnn[np.abs(rnn) >= magnitude_threshold]
    fig, axes, lengths = _length_panels(data.lengths, 5.0, 5.0)
    for ax, length in zip(axes, lengths, strict=False):
        theory = _pooled(data.theory.get(length, []))
        theory = theory[np.abs(theory) >= magnitude_threshold]
        _unit_circle(ax)
        if magnitude_threshold > 0:
            _unit_circle(ax, magnitude_threshold, color="grey", ls="--", lw=0.7)
        ax.scatter(rnn.real, rnn.imag, s=4, alpha=0.3, color=RNN_COLOUR, label=f"W_hh ({rnn.size})")
        ax.scatter(
            theory.real,
            theory.imag,
            s=40,
            facecolors="none",
            edgecolors=THEORY_COLOUR,
            label="Φ theory",
        )
        lim = max(1.25, 1.05 * float(np.abs(rnn).max(initial=0.0)))
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_title(f"L = {length}" if length else "all")
        ax.legend(loc="upper right", fontsize=8)
    fig.suptitle(f"Pooled eigenvalues with |λ| ≥ {magnitude_threshold:g} ({data.n_models} models)")
    return fig


def global_statistics_figure(data: GlobalData) -> Figure:
    """2×3 summary over models: mean |λ|, spectral radius and #|λ|>1 of W_hh; accuracy; spectral
    error and unit-circle count (RNN vs theory) per length."""
    spectra = [e for e in (_complex(w) for w in data.whh) if e.size]
    fig = Figure(figsize=(15, 8.5), layout="constrained")
    axes = fig.subplots(2, 3)
    mean_mag = [float(np.abs(e).mean()) for e in spectra]
    radius = [float(np.abs(e).max()) for e in spectra]
    n_out = [int(np.sum(np.abs(e) > 1.0)) for e in spectra]
    axes[0, 0].hist(mean_mag, bins=20, color=RNN_COLOUR)
    axes[0, 0].set(xlabel="mean |λ| of W_hh", ylabel="models", title="Mean eigenvalue magnitude")
    axes[0, 1].hist(radius, bins=20, color=RNN_COLOUR)
    axes[0, 1].axvline(1.0, color="red", lw=1)
    axes[0, 1].set(xlabel="spectral radius of W_hh", ylabel="models", title="Spectral radius")
    top = max(n_out, default=0)
    axes[0, 2].hist(n_out, bins=np.arange(-0.5, top + 1.5, 1.0), color=RNN_COLOUR)
    axes[0, 2].set(xlabel="#|λ| > 1", ylabel="models", title="Eigenvalues outside the unit circle")
    acc = [a for a in data.accuracy if a is not None and np.isfinite(a)]
    axes[1, 0].hist(acc, bins=np.linspace(0.4, 1.0, 25), color="tab:green")
    axes[1, 0].set(xlabel="test bit accuracy", ylabel="models", title="Accuracy")
    lengths = sorted(data.lengths)
    shown = [(L, data.spectral_error_deg.get(L, [])) for L in lengths]
    shown = [(L, e) for L, e in shown if e]
    if shown:
        axes[1, 1].boxplot([e for _, e in shown])
        axes[1, 1].set_xticks(range(1, len(shown) + 1), [str(L) for L, _ in shown])
        values = np.concatenate([e for _, e in shown])
        if values.min() > 0 and values.max() / values.min() > 100:
            axes[1, 1].set_yscale("log")
    else:
        _no_data(axes[1, 1])
    axes[1, 1].set(
        xlabel="sequence length L",
        ylabel="spectral error (degrees)",
        title="Spectral error, W_hh vs Φ",
    )
    for L in lengths:
        pairs = data.unit_counts.get(L, [])
        if pairs:
            a, b = np.array(pairs).T
            axes[1, 2].scatter(b + 0.1 * (L - lengths[0]), a, s=14, alpha=0.6, label=f"L = {L}")
    axes[1, 2].set(
        xlabel="unit-circle eigenvalues of Φ",
        ylabel="unit-circle eigenvalues of W_hh",
        title="Memory count: RNN vs theory",
    )
    lo, hi = axes[1, 2].get_xlim()
    axes[1, 2].plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
    if axes[1, 2].collections:
        axes[1, 2].legend(fontsize=8)
    fig.suptitle(f"Statistics over {data.n_models} models")
    return fig
