"""Figures of the cross-model analysis. Every function takes data and returns a ``Figure``.

Figures are built with the object-oriented API on an Agg canvas (no pyplot, no global state, never
``show``); save them with :func:`vbpipe.fileio.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "new_figure",
    "plot_complex_plane_examples",
    "plot_statistics_scatter_matrix",
    "plot_pca_variance",
    "plot_embedding",
    "plot_persistence_diagrams",
    "plot_betti_curves",
    "plot_topological_features",
    "plot_comparison_complex_plane",
    "plot_comparison_spectra",
    "plot_comparison_metrics",
]

DPI = 150
_NAN_COLOR = "0.6"
_STAT_LABELS = {
    "spectral_radius": "spectral radius  max|λ|",
    "mag_mean": "mean |λ|",
    "mag_std": "std |λ|",
    "n_unstable": "#|λ| > 1",
    "n_near_unit_circle": "#(0.95 < |λ| < 1.05)",
    "accuracy": "accuracy",
}


def new_figure(figsize=(6.0, 4.0), layout: str | None = "constrained") -> Figure:
    """A ``Figure`` attached to an Agg canvas."""
    fig = Figure(figsize=figsize, dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _unit_circle(ax, **kwargs) -> None:
    theta = np.linspace(0.0, 2.0 * np.pi, 361)
    style = {"color": "0.3", "linestyle": "--", "linewidth": 0.8, "label": "unit circle"}
    style.update(kwargs)
    ax.plot(np.cos(theta), np.sin(theta), **style)


def _complex_axes(ax, limit: float) -> None:
    ax.axhline(0.0, color="0.85", linewidth=0.6, zorder=0)
    ax.axvline(0.0, color="0.85", linewidth=0.6, zorder=0)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")


def _limit(eigs: Sequence[np.ndarray]) -> float:
    top = max((float(np.abs(e).max()) for e in eigs if np.size(e)), default=1.0)
    return 1.15 * max(1.0, top)


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(max_cols, max(n, 1))
    return int(np.ceil(max(n, 1) / cols)), cols


def plot_complex_plane_examples(
    eigenvalue_list: Sequence[np.ndarray], names: Sequence[str], max_models: int = 5
) -> Figure:
    """Eigenvalues of the first ``max_models`` models in the complex plane, with the unit circle."""
    k = min(max_models, len(eigenvalue_list))
    fig = new_figure((3.2 * max(k, 1), 3.6))
    axes = fig.subplots(1, max(k, 1), squeeze=False)[0]
    lim = _limit(eigenvalue_list[:k])
    for ax, eig, name in zip(axes, eigenvalue_list[:k], names[:k], strict=False):
        eig = np.asarray(eig)
        _unit_circle(ax)
        ax.scatter(eig.real, eig.imag, s=14, color="C0", alpha=0.8, label="eigenvalues")
        _complex_axes(ax, lim)
        ax.set_title(
            f"{name}\n{eig.size} eigenvalues, max|λ| = {np.abs(eig).max():.3f}", fontsize=9
        )
    axes[0].legend(loc="lower left", fontsize=7)
    fig.suptitle("Eigenvalues in the complex plane (example models)")
    return fig


def plot_statistics_scatter_matrix(
    matrix: np.ndarray,
    names: Sequence[str],
    title: str = "Eigenvalue statistics across models",
) -> Figure:
    """Scatter matrix: histograms on the diagonal, pairwise scatter plots off the diagonal."""
    x = np.asarray(matrix, dtype=float)
    k = len(names)
    # A manual layout: constrained layout is slow for a k x k grid.
    fig = new_figure((2.4 * k, 2.4 * k), layout=None)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.08, top=0.94, wspace=0.3, hspace=0.15)
    axes = fig.subplots(k, k, squeeze=False)
    alpha = float(np.clip(300.0 / max(x.shape[0], 1), 0.05, 0.8))
    for r in range(k):
        for c in range(k):
            ax = axes[r, c]
            if r == c:  # histogram; its count axis is not labelled (rows show the statistic)
                col = x[:, c][np.isfinite(x[:, c])]
                ax.hist(col, bins=min(30, max(5, col.size // 5 or 5)), color="C0", alpha=0.8)
                ax.set_yticks([])
                ax.set_title("histogram", fontsize=7, pad=2)
            else:
                ax.scatter(x[:, c], x[:, r], s=6, alpha=alpha, color="C0", rasterized=True)
            if r == k - 1:
                ax.set_xlabel(_STAT_LABELS.get(names[c], names[c]), fontsize=8)
            else:
                ax.tick_params(labelbottom=False)
            if c == 0:
                ax.set_ylabel(_STAT_LABELS.get(names[r], names[r]), fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"{title} (n = {x.shape[0]})")
    return fig


def plot_pca_variance(explained_variance_ratio: np.ndarray, max_components: int = 30) -> Figure:
    """Explained variance per principal component (bars) and cumulative (line, 90/95% marks)."""
    ratio = np.asarray(explained_variance_ratio, dtype=float)
    k = min(max_components, ratio.size)
    comps = np.arange(1, k + 1)
    cumulative = np.cumsum(ratio)[:k]
    fig = new_figure((7.0, 4.2))
    ax = fig.subplots()
    ax.bar(comps, 100 * ratio[:k], color="C0", alpha=0.8, label="per component")
    ax.plot(comps, 100 * cumulative, "o-", color="C1", markersize=3, label="cumulative")
    for level, style in ((90, ":"), (95, "--")):
        ax.axhline(level, color="0.4", linestyle=style, linewidth=0.9, label=f"{level}%")
        reached = np.flatnonzero(np.cumsum(ratio) >= level / 100.0)
        if reached.size:
            ax.annotate(
                f"{level}% at PC{reached[0] + 1}",
                xy=(min(reached[0] + 1, k), level),
                xytext=(3, 3 if level == 95 else -11),
                textcoords="offset points",
                fontsize=7,
            )
    ax.set_xlabel("principal component")
    ax.set_ylabel("explained variance (%)")
    ax.set_ylim(0, 102)
    ax.set_title("PCA of model signatures: explained variance")
    ax.legend(loc="center right", fontsize=8)
    return fig


def plot_embedding(
    coords: np.ndarray,
    values: np.ndarray | None = None,
    value_label: str = "",
    *,
    title: str = "Embedding of models",
    xlabel: str = "dimension 1",
    ylabel: str = "dimension 2",
    names: Sequence[str] | None = None,
    outliers: Sequence[int] = (),
) -> Figure:
    """2-D scatter of models coloured by ``values`` (viridis; NaN grey) with outliers annotated."""
    xy = np.asarray(coords, dtype=float)
    fig = new_figure((6.8, 5.4))
    ax = fig.subplots()
    size = float(np.clip(3000.0 / max(xy.shape[0], 1), 6, 40))
    if values is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=size, color="C0", alpha=0.8, rasterized=True)
    else:
        v = np.asarray(values, dtype=float)
        ok = np.isfinite(v)
        if (~ok).any():
            ax.scatter(
                xy[~ok, 0],
                xy[~ok, 1],
                s=size,
                color=_NAN_COLOR,
                alpha=0.7,
                label=f"{value_label or 'value'} missing",
                rasterized=True,
            )
        if ok.any():
            lo, hi = float(v[ok].min()), float(v[ok].max())
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            sc = ax.scatter(
                xy[ok, 0],
                xy[ok, 1],
                c=v[ok],
                cmap="viridis",
                norm=Normalize(lo, hi),
                s=size,
                alpha=0.85,
                rasterized=True,
            )
            fig.colorbar(sc, ax=ax, label=value_label or "value")
        if (~ok).any():
            ax.legend(loc="best", fontsize=8)
    outliers = [int(i) for i in outliers]
    if outliers:
        ax.scatter(
            xy[outliers, 0],
            xy[outliers, 1],
            s=size * 3,
            facecolors="none",
            edgecolors="red",
            linewidths=1.2,
        )
        for i in outliers:
            label = names[i] if names is not None else str(i)
            ax.annotate(
                label,
                xy=(xy[i, 0], xy[i, 1]),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize=7,
                color="red",
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    extra = f", {len(outliers)} outliers (red)" if outliers else ""
    ax.set_title(f"{title}\n(n = {xy.shape[0]}{extra})", fontsize=10)
    return fig


def plot_persistence_diagrams(
    diagram_sets: Sequence[Sequence[np.ndarray]], names: Sequence[str], max_models: int = 6
) -> Figure:
    """Persistence diagrams (finite points) of up to ``max_models`` models evenly spaced."""
    n = len(diagram_sets)
    idx = np.unique(np.linspace(0, n - 1, min(max_models, n)).round().astype(int)) if n else []
    rows, cols = _grid(len(idx))
    fig = new_figure((3.4 * cols, 3.3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(idx) :]:
        ax.set_visible(False)
    for ax, i in zip(axes, idx, strict=False):
        top = 0.0
        for dim, dgm in enumerate(diagram_sets[i]):
            d = np.asarray(dgm, dtype=float).reshape(-1, 2)
            d = d[np.isfinite(d[:, 1])]
            if d.size:
                top = max(top, float(d.max()))
            ax.scatter(d[:, 0], d[:, 1], s=12, alpha=0.75, color=f"C{dim}", label=f"H{dim}")
        top = 1.05 * (top if top > 0 else 1.0)
        ax.plot([0, top], [0, top], color="0.4", linewidth=0.8, linestyle="--")
        ax.set_xlim(-0.02 * top, top)
        ax.set_ylim(-0.02 * top, top)
        ax.set_xlabel("birth")
        ax.set_ylabel("death")
        ax.set_title(names[i], fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("Vietoris–Rips persistence diagrams (finite bars; H0's infinite bar omitted)")
    return fig


def plot_betti_curves(
    curves: Mapping[int, tuple[np.ndarray, np.ndarray]], max_individual: int = 40
) -> Figure:
    """Betti curves per homology dimension: faint individual curves and mean ± std."""
    dims = sorted(curves)
    fig = new_figure((5.0 * max(len(dims), 1), 3.8))
    axes = fig.subplots(1, max(len(dims), 1), squeeze=False)[0]
    for ax, dim in zip(axes, dims, strict=False):
        scales, c = curves[dim]
        c = np.asarray(c, dtype=float)
        step = max(1, c.shape[0] // max_individual)
        for row in c[::step]:
            ax.plot(scales, row, color=f"C{dim}", alpha=0.15, linewidth=0.7)
        if c.shape[0]:
            mean, std = c.mean(axis=0), c.std(axis=0)
            ax.plot(scales, mean, color="k", linewidth=1.6, label="mean")
            lower = np.clip(mean - std, 0.0, None)
            ax.fill_between(scales, lower, mean + std, color="k", alpha=0.15, label="± std")
        ax.set_xlabel("scale ε")
        ax.set_ylabel(f"Betti number β{dim}")
        ax.set_title(f"H{dim} Betti curves (n = {c.shape[0]})")
        ax.legend(fontsize=8)
    fig.suptitle("Betti curves of the eigenvalue point clouds")
    return fig


def _rho(x: np.ndarray, y: np.ndarray) -> str:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return "ρ = n/a"
    from scipy.stats import spearmanr  # scipy.stats costs ~0.5 s to import: only when drawn

    return f"Spearman ρ = {spearmanr(x[ok], y[ok]).statistic:.2f}"


def plot_topological_features(
    statistics: Sequence[Mapping[str, float]], accuracy: np.ndarray, max_dimension: int = 1
) -> Figure:
    """Per dimension: bar count and total persistence vs accuracy; max-persistence histogram."""
    acc = np.asarray(accuracy, dtype=float)
    rows = max_dimension + 1
    fig = new_figure((12.0, 3.5 * rows))
    axes = fig.subplots(rows, 3, squeeze=False)
    alpha = float(np.clip(300.0 / max(acc.size, 1), 0.1, 0.8))
    for dim in range(rows):
        count = np.array([s[f"h{dim}_count"] for s in statistics], dtype=float)
        total = np.array([s[f"h{dim}_total_persistence"] for s in statistics], dtype=float)
        maxp = np.array([s[f"h{dim}_max_persistence"] for s in statistics], dtype=float)
        for ax, feat, label in ((axes[dim, 0], count, "count"), (axes[dim, 1], total, "total")):
            ax.scatter(acc, feat, s=10, alpha=alpha, color=f"C{dim}", rasterized=True)
            ax.set_xlabel("accuracy")
            ax.set_ylabel(f"H{dim} {'number of bars' if label == 'count' else 'total persistence'}")
            ax.set_title(f"H{dim} {label} vs accuracy ({_rho(acc, feat)})", fontsize=9)
        ax = axes[dim, 2]
        ax.hist(maxp, bins=30, color=f"C{dim}", alpha=0.8)
        ax.set_xlabel(f"H{dim} max persistence")
        ax.set_ylabel("number of models")
        ax.set_title(f"H{dim} max persistence", fontsize=9)
    fig.suptitle("Topological features of the eigenvalue clouds")
    return fig


def _set_colors(labels: Sequence[str]) -> dict[str, str]:
    return {label: f"C{i % 10}" for i, label in enumerate(labels)}


def plot_comparison_complex_plane(first_models: Mapping[str, np.ndarray]) -> Figure:
    """One panel per set: the eigenvalues of the set's first model."""
    labels = list(first_models)
    colors = _set_colors(labels)
    fig = new_figure((3.6 * max(len(labels), 1), 3.8))
    axes = fig.subplots(1, max(len(labels), 1), squeeze=False)[0]
    lim = _limit(list(first_models.values()))
    for ax, label in zip(axes, labels, strict=False):
        eig = np.asarray(first_models[label])
        _unit_circle(ax)
        ax.scatter(eig.real, eig.imag, s=14, color=colors[label], alpha=0.8)
        _complex_axes(ax, lim)
        ax.set_title(f"{label}: first model ({eig.size} eigenvalues)", fontsize=9)
    fig.suptitle("Eigenvalues of one model per set")
    return fig


def plot_comparison_spectra(sets: Mapping[str, Sequence[np.ndarray]]) -> Figure:
    """All eigenvalues of every set overlaid: complex plane, |λ| density and arg λ density."""
    labels = list(sets)
    colors = _set_colors(labels)
    pooled = {label: np.concatenate([np.ravel(e) for e in sets[label]]) for label in labels}
    fig = new_figure((15.0, 4.6))
    ax_c, ax_m, ax_a = fig.subplots(1, 3)
    _unit_circle(ax_c)
    for label in labels:
        z = pooled[label]
        alpha = float(np.clip(500.0 / max(z.size, 1), 0.02, 0.5))
        ax_c.scatter(z.real, z.imag, s=4, alpha=alpha, color=colors[label], rasterized=True)
        ax_c.scatter(
            [], [], s=20, color=colors[label], label=f"{label} ({len(sets[label])} models)"
        )
    _complex_axes(ax_c, _limit(list(pooled.values())))
    ax_c.legend(fontsize=8, loc="lower left")
    ax_c.set_title("All eigenvalues (complex plane)")
    top = max(float(np.abs(z).max()) for z in pooled.values())
    mag_bins = np.linspace(0.0, max(1.1, 1.05 * top), 50)
    ang_bins = np.linspace(-np.pi, np.pi, 49)
    for label in labels:
        z = pooled[label]
        kw = {"density": True, "histtype": "step", "linewidth": 1.5, "color": colors[label]}
        ax_m.hist(np.abs(z), bins=mag_bins, label=label, **kw)
        ax_a.hist(np.angle(z), bins=ang_bins, label=label, **kw)
    ax_m.axvline(1.0, color="red", linestyle="--", linewidth=0.9, label="|λ| = 1")
    ax_m.set_xlabel("|λ|")
    ax_m.set_ylabel("density")
    ax_m.set_title("Magnitude distribution (pooled over models)")
    ax_m.legend(fontsize=8)
    ax_a.set_xlabel("arg λ (rad)")
    ax_a.set_ylabel("density")
    ax_a.set_title("Angle distribution (pooled over models)")
    ax_a.legend(fontsize=8)
    fig.suptitle("Eigenvalue spectra by model set: " + " vs ".join(labels))
    return fig


def plot_comparison_metrics(
    comparison: Sequence[Mapping],
    keys: Sequence[str] = ("spectral_radius", "mag_mean", "n_unstable", "n_near_unit_circle"),
    *,
    error: str = "std",
    include_accuracy: bool = True,
) -> Figure:
    """Bar chart per statistic: mean of each set with ``std`` or ``sem`` error bars."""
    labels = [c["label"] for c in comparison]
    colors = _set_colors(labels)
    panels = list(keys)
    if include_accuracy and all("accuracy" in c for c in comparison):
        panels.append("accuracy")
    fig = new_figure((3.0 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    x = np.arange(len(labels))
    for ax, key in zip(axes, panels, strict=True):
        aggs = [c["accuracy"] if key == "accuracy" else c["statistics"][key] for c in comparison]
        means = np.array([np.nan if a["mean"] is None else a["mean"] for a in aggs], dtype=float)
        errs = np.array([np.nan if a.get(error) is None else a[error] for a in aggs], dtype=float)
        ax.bar(
            x,
            means,
            yerr=np.nan_to_num(errs),
            capsize=4,
            color=[colors[label] for label in labels],
            alpha=0.85,
        )
        ax.set_xticks(x, labels, rotation=20 if len(labels) > 3 else 0, fontsize=8)
        ax.set_title(_STAT_LABELS.get(key, key), fontsize=10)
        ax.set_ylabel(_STAT_LABELS.get(key, key), fontsize=8)
        if key == "spectral_radius":
            ax.axhline(1.0, color="red", linestyle="--", linewidth=0.8)
    n_text = ", ".join(f"{c['label']}: n={c['n_models']}" for c in comparison)
    fig.suptitle(f"Key eigenvalue statistics per set (mean ± {error}; {n_text})", fontsize=10)
    return fig
