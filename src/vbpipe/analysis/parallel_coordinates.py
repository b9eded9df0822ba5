"""Parallel coordinates of the runs table (MLflow's and W&B's sweep view): one line per variant
across its swept parameters, its mean accuracy and its mean spectral error."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

MAX_TICKS = 8


def axis_positions(values: Sequence) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Values mapped to [0, 1] and the ticks to label: numbers linearly (all equal: 0.5),
    anything else by its rank among the distinct values; missing values are NaN."""
    numbers = []
    numeric = True
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            numbers.append(math.nan)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            numeric = False
            break
        numbers.append(float(v))
    if numeric:
        x = np.array(numbers, dtype=float)
        finite = x[np.isfinite(x)]
        if finite.size == 0:
            return x, []
        low, high = float(finite.min()), float(finite.max())
        span = high - low
        pos = np.full_like(x, 0.5) if span == 0 else (x - low) / span
        pos[~np.isfinite(x)] = np.nan
        distinct = np.unique(finite)
        ticks = distinct if distinct.size <= MAX_TICKS else np.linspace(low, high, 5)
        return pos, [(0.5 if span == 0 else (t - low) / span, format(t, ".4g")) for t in ticks]
    texts = ["" if v is None else str(v) for v in values]
    distinct = sorted(set(texts))
    rank = {t: i for i, t in enumerate(distinct)}
    n = len(distinct)
    pos = np.array([0.5 if n == 1 else rank[t] / (n - 1) for t in texts], dtype=float)
    return pos, [(0.5 if n == 1 else i / (n - 1), t) for i, t in enumerate(distinct)]


def parallel_coordinates(
    columns: dict[str, Sequence], color: Sequence[float], color_label: str, title: str = ""
) -> Figure:
    """One line per row across the ``columns`` (name -> values, all of one length), coloured by
    ``color``; each axis labelled with its own values."""
    names = list(columns)
    n_rows = len(color)
    fig = Figure(figsize=(max(5.0, 1.6 * len(names) + 1.5), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    c = np.asarray(color, dtype=float)
    finite = c[np.isfinite(c)]
    norm = Normalize(
        float(finite.min()) if finite.size else 0.0, float(finite.max()) if finite.size else 1.0
    )
    if norm.vmin == norm.vmax:
        norm = Normalize(norm.vmin - 0.5, norm.vmax + 0.5)
    mapper = ScalarMappable(norm=norm, cmap="viridis")
    positions = []
    for i, name in enumerate(names):
        pos, ticks = axis_positions(list(columns[name]))
        positions.append(pos)
        ax.axvline(i, color="0.3", linewidth=0.8)
        for y, label in ticks:
            ax.text(i + 0.04, y, label, fontsize=7, va="center", ha="left", color="0.2")
    grid = np.vstack(positions) if positions else np.zeros((0, n_rows))
    for row in range(n_rows):
        rgba = mapper.to_rgba(c[row]) if math.isfinite(c[row]) else (0.6, 0.6, 0.6, 1.0)
        ax.plot(range(len(names)), grid[:, row], color=rgba, linewidth=1.6, alpha=0.85,
                marker="o", markersize=3)  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(names) - 0.6 if len(names) > 1 else 0.8)
    ax.set_ylim(-0.08, 1.08)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.colorbar(mapper, ax=ax, label=color_label, fraction=0.04)
    if title:
        ax.set_title(title)
    return fig
