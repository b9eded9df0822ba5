"""Figures of :mod:`vbpipe.analysis.fixed_points`: one model's points, and counts across models."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .figures import new_figure
from .fixed_points import STABILITY, FixedPointResult

__all__ = ["STABILITY_COLORS", "plot_fixed_point_counts", "plot_fixed_points"]

STABILITY_COLORS = {"stable": "tab:blue", "marginal": "tab:orange", "unstable": "tab:red"}
_KIND_MARKERS = {"fixed": "o", "slow": "X"}
_EIG_SIZES = {"stable": 70, "marginal": 40, "unstable": 16}


def _principal_axes(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, top-2 principal directions ``(N, 2)`` and their explained-variance fractions."""
    mean = reference.mean(axis=0)
    centred = reference - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = np.zeros((reference.shape[1], 2))
    k = min(2, vt.shape[0])
    axes[:, :k] = vt[:k].T
    total = float((s**2).sum())
    frac = np.zeros(2)
    if total > 0:
        frac[:k] = s[:k] ** 2 / total
    return mean, axes, frac


def plot_fixed_points(
    result: FixedPointResult, trajectory: np.ndarray | None = None, title: str | None = None
) -> Figure:
    """Left: the points in the plane of the trajectory's top two principal components (the
    trajectory's states as grey dots). Right: the Jacobian eigenvalues at each point with the unit circle.
    Colour = stability (blue stable, orange marginal, red unstable); marker o fixed, X slow."""
    fig = new_figure((10.0, 4.6))
    ax_pc, ax_eig = fig.subplots(1, 2)
    points = result.points
    use_trajectory = trajectory is not None and len(trajectory) > 1
    reference = trajectory if use_trajectory else points
    source = "trajectory" if use_trajectory else "point"
    if reference is not None and len(reference) > 1:
        mean, axes, frac = _principal_axes(np.asarray(reference, dtype=float))
    else:
        n = points.shape[1] if points.ndim == 2 else 2
        mean, axes, frac = np.zeros(n), np.eye(n, 2), np.full(2, np.nan)
    if trajectory is not None:
        xy = (np.asarray(trajectory, dtype=float) - mean) @ axes
        ax_pc.scatter(xy[:, 0], xy[:, 1], s=5, color="0.7", zorder=1, rasterized=True)
    for kind, marker in _KIND_MARKERS.items():
        for label in STABILITY:
            sel = (result.kind == kind) & (result.stability == label)
            if not sel.any():
                continue
            xy = (points[sel] - mean) @ axes
            ax_pc.scatter(
                xy[:, 0],
                xy[:, 1],
                marker=marker,
                s=55,
                color=STABILITY_COLORS[label],
                edgecolors="black",
                linewidths=0.6,
                zorder=3,
            )
            eig = result.jacobian_eigenvalues[sel].ravel()
            ax_eig.scatter(  # rings of decreasing size, so that coinciding eigenvalues all show
                eig.real,
                eig.imag,
                marker=marker,
                s=_EIG_SIZES[label],
                facecolors="none",
                edgecolors=STABILITY_COLORS[label],
                linewidths=1.1,
                zorder=3,
            )
    pc = [
        f"PC{i + 1}" + (f" ({100 * f:.0f}% of {source} variance)" if np.isfinite(f) else "")
        for i, f in enumerate(frac)
    ]
    ax_pc.set_xlabel(pc[0])
    ax_pc.set_ylabel(pc[1])
    ax_pc.set_title(
        "points in the " + ("trajectory's" if use_trajectory else "points'") + " principal plane",
        fontsize=10,
    )
    theta = np.linspace(0.0, 2.0 * np.pi, 361)
    ax_eig.plot(np.cos(theta), np.sin(theta), color="0.4", linestyle="--", linewidth=0.8)
    top = float(np.abs(result.jacobian_eigenvalues).max()) if len(result) else 1.0
    lim = 1.15 * max(1.0, top)
    ax_eig.set_xlim(-lim, lim)
    ax_eig.set_ylim(-lim, lim)
    ax_eig.set_aspect("equal")
    ax_eig.set_xlabel("Re λ")
    ax_eig.set_ylabel("Im λ")
    ax_eig.set_title("Jacobian eigenvalues at the points", fontsize=10)
    handles = [
        Line2D([], [], marker="s", linestyle="", color=STABILITY_COLORS[s], label=s)
        for s in STABILITY
    ] + [
        Line2D([], [], marker=m, linestyle="", color="0.3", label=f"{k} point")
        for k, m in _KIND_MARKERS.items()
    ]
    if trajectory is not None:
        handles.append(
            Line2D([], [], marker=".", linestyle="", color="0.7", label="trajectory state")
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=6, fontsize=8, frameon=False)
    n_fixed = int((result.kind == "fixed").sum())
    fig.suptitle(
        title
        or f"Fixed and slow points of h → tanh(W_hh h): {n_fixed} fixed, "
        f"{len(result) - n_fixed} slow, from {result.n_starts} starts"
    )
    return fig


def plot_fixed_point_counts(summaries: pd.DataFrame, group: str = "variant") -> Figure:
    """Mean number of fixed points (left) and slow points (right) per model, by stability, one bar
    per ``group`` value. ``summaries``: one row per model, :func:`fixed_point_summary`'s keys plus
    the ``group`` column."""
    grouped = summaries.groupby(group, sort=True)
    labels = [str(g) for g in grouped.groups]
    n_groups = len(labels)
    fig = new_figure((max(6.0, 0.55 * n_groups + 3.0) * 1.6, 4.4))
    axes = fig.subplots(1, 2, sharey=False)
    x = np.arange(n_groups)
    for ax, kind in zip(axes, ("fixed", "slow"), strict=True):
        means = grouped[[f"n_{kind}_{s}" for s in STABILITY]].mean()
        bottom = np.zeros(n_groups)
        for s in STABILITY:
            values = means[f"n_{kind}_{s}"].to_numpy(float)
            ax.bar(x, values, bottom=bottom, color=STABILITY_COLORS[s], label=s)
            bottom += values
        ax.set_xticks(
            x,
            labels,
            rotation=45 if n_groups > 4 else 0,
            ha="right" if n_groups > 4 else "center",
            fontsize=8,
        )
        ax.set_ylabel(f"{kind} points per model (mean)")
        ax.set_title(f"{kind} points", fontsize=10)
        sizes = grouped.size().to_numpy()
        for xi, top, n in zip(x, bottom, sizes, strict=True):
            ax.text(xi, top, f"n={n}", ha="center", va="bottom", fontsize=7)
        ax.set_ylim(0.0, max(1.0, 1.15 * float(bottom.max(initial=0.0))))
    axes[0].legend(fontsize=8, title="stability", title_fontsize=8)
    fig.suptitle("Fixed and slow points of the autonomous dynamics, by " + group)
    return fig
