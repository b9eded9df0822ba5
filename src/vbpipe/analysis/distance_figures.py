"""Figure for any model-by-model distance matrix: a clustered heatmap next to its 2-D embedding.

Serves the histogram distances, the Hausdorff distance and the Procrustes disparity alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from .figures import new_figure

__all__ = ["cluster_order", "plot_distance_overview"]

_MAX_TICK_LABELS = 40


def cluster_order(distance_matrix: np.ndarray) -> np.ndarray:
    """Model order from average-linkage clustering (Ward assumes Euclidean distances, which
    disparities and divergences are not); rows with NaN go last, in their given order."""
    d = np.asarray(distance_matrix, dtype=float)
    d = 0.5 * (d + d.T)  # a directed divergence is ordered by its symmetric part
    np.fill_diagonal(d, 0.0)
    ok = np.arange(d.shape[0])
    while ok.size and np.isnan(d[np.ix_(ok, ok)]).any():  # drop the row with most NaNs
        ok = np.delete(ok, np.argmax(np.isnan(d[np.ix_(ok, ok)]).sum(axis=1)))
    bad = np.setdiff1d(np.arange(d.shape[0]), ok)
    if ok.size < 3:
        return np.concatenate([ok, bad])
    sub = d[np.ix_(ok, ok)]
    leaves = leaves_list(linkage(squareform(sub, checks=False), method="average"))
    return np.concatenate([ok[leaves], bad])


def plot_distance_overview(
    distance_matrix: np.ndarray,
    coords: np.ndarray | None = None,
    values: np.ndarray | None = None,
    *,
    value_label: str = "accuracy",
    distance_label: str = "distance",
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Left: the matrix with models in :func:`cluster_order` (blocks on the diagonal = groups of
    similar models; grey = undefined). Right, when ``coords`` ``(n, 2)`` are given (e.g. classical
    MDS of the matrix): the models as points coloured by ``values`` (viridis; grey where missing)."""
    d = np.asarray(distance_matrix, dtype=float)
    n = d.shape[0]
    order = cluster_order(d)
    fig = new_figure((11.0, 5.0) if coords is not None else (6.2, 5.2))
    axes = fig.subplots(1, 2 if coords is not None else 1, squeeze=False)[0]
    ax = axes[0]
    cmap = colormaps["magma_r"].with_extremes(bad="0.8")
    image = ax.imshow(d[np.ix_(order, order)], cmap=cmap, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax, label=distance_label, shrink=0.85)
    if names is not None and n <= _MAX_TICK_LABELS:
        labels = [names[i] for i in order]
        ax.set_xticks(range(n), labels, rotation=90, fontsize=6)
        ax.set_yticks(range(n), labels, fontsize=6)
    else:
        ax.set_xlabel(f"model ({n}, clustered order)")
        ax.set_ylabel("model")
    ax.set_title("pairwise matrix, average-linkage order", fontsize=10)
    if coords is not None:
        ax2 = axes[1]
        xy = np.asarray(coords, dtype=float)
        size = float(np.clip(3000.0 / max(n, 1), 8, 50))
        v = None if values is None else np.asarray(values, dtype=float)
        missing = np.zeros(n, bool) if v is None else ~np.isfinite(v)
        if missing.any():
            ax2.scatter(
                xy[missing, 0], xy[missing, 1], s=size, color="0.6", label=f"{value_label} missing"
            )
            ax2.legend(fontsize=8, loc="best")
        if v is None:
            ax2.scatter(xy[:, 0], xy[:, 1], s=size, color="C0", alpha=0.85)
        elif (~missing).any():
            lo, hi = float(v[~missing].min()), float(v[~missing].max())
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            sc = ax2.scatter(
                xy[~missing, 0],
                xy[~missing, 1],
                c=v[~missing],
                cmap="viridis",
                norm=Normalize(lo, hi),
                s=size,
                alpha=0.85,
                edgecolors="none",
            )
            fig.colorbar(sc, ax=ax2, label=value_label, shrink=0.85)
        ax2.set_xlabel("MDS 1")
        ax2.set_ylabel("MDS 2")
        ax2.set_title("2-D embedding of the matrix", fontsize=10)
    fig.suptitle(title or f"Models compared by {distance_label}")
    return fig
