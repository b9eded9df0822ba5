"""Figure: our Table 1 against the paper's, one row per cell (see :mod:`vbpipe.analysis.reproduction`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .figures import new_figure
from .reproduction import DIFFERS, HUNGARIAN, UNDERPOWERED, WITHIN

__all__ = ["VERDICT_COLORS", "plot_table1_comparison"]

VERDICT_COLORS = {WITHIN: "tab:green", DIFFERS: "tab:red", UNDERPOWERED: "tab:orange"}
NOT_COMPARABLE_COLOR = "0.55"


def _color(verdict: str) -> str:
    return VERDICT_COLORS.get(verdict, NOT_COMPARABLE_COLOR)


def _panel(ax, comparison: pd.DataFrame, quantity: str, y: np.ndarray, floor: float | None) -> None:
    hungarian = None
    if quantity == "spectral_error" and HUNGARIAN in comparison.columns:
        hungarian = comparison[HUNGARIAN].to_numpy(float)
        if floor is not None:
            hungarian = np.maximum(hungarian, floor)
    mean = comparison[quantity].to_numpy(float)
    low = comparison[f"{quantity}_low"].to_numpy(float)
    high = comparison[f"{quantity}_high"].to_numpy(float)
    paper = comparison[f"paper_{quantity}"].to_numpy(float)
    if floor is not None:  # log axis: keep zero errors visible at the floor
        mean, low, high, paper = (np.maximum(v, floor) for v in (mean, low, high, paper))
    for i, verdict in enumerate(comparison[f"{quantity}_verdict"]):
        color = _color(verdict)
        if np.isfinite(mean[i]):
            ax.errorbar(
                mean[i],
                y[i],
                xerr=[[mean[i] - low[i]], [high[i] - mean[i]]],
                fmt="o",
                color=color,
                markersize=4.5,
                elinewidth=1.6,
                capsize=2.5,
            )
        if np.isfinite(paper[i]):
            ax.plot(paper[i], y[i], "D", mfc="none", mec="black", markersize=6, mew=1.1)
        if hungarian is not None and np.isfinite(hungarian[i]):
            ax.plot(hungarian[i], y[i], "x", color="0.35", markersize=4.5, mew=1.0)
        if not (np.isfinite(mean[i]) or np.isfinite(paper[i])):
            ax.text(
                0.5,
                y[i],
                "no value on either side",
                transform=ax.get_yaxis_transform(),
                ha="center",
                va="center",
                fontsize=6.5,
                color=NOT_COMPARABLE_COLOR,
            )


def plot_table1_comparison(comparison: pd.DataFrame, title: str | None = None) -> Figure:
    """Two panels sharing the cells as rows: accuracy (linear) and spectral error (log, radians).

    Ours: dot at the mean with the bootstrap interval, coloured by verdict (green within noise, red
    differs, orange underpowered, grey otherwise); the spectral error is the paper's rule (greedy,
    count match), and a grey cross marks ours with Hungarian matching over every model. Paper: open
    black diamond. ``comparison`` is
    :func:`vbpipe.analysis.reproduction.compare_with_paper`'s output.
    """
    n = len(comparison)
    fig = new_figure((10.0, 1.6 + 0.24 * max(n, 1)))
    ax_acc, ax_err = fig.subplots(1, 2, sharey=True)
    y = np.arange(n)[::-1].astype(float)
    _panel(ax_acc, comparison, "accuracy", y, None)
    errors = comparison[["spectral_error", "spectral_error_low", "paper_spectral_error"]].to_numpy(
        float
    )
    positive = errors[np.isfinite(errors) & (errors > 0)]
    floor = float(positive.min()) / 2.0 if positive.size else 1e-5
    _panel(ax_err, comparison, "spectral_error", y, floor)
    ax_err.set_xscale("log")

    labels = [
        f"{r.task}  h{int(r.hidden_dim)}  L2 {r.l2_penalty:g}"
        for r in comparison.itertuples(index=False)
    ]
    ax_acc.set_yticks(y, labels, fontsize=7.5)
    ax_acc.set_ylim(-0.7, n - 0.3)
    tasks = comparison["task"].to_numpy()
    for k in range(1, n):
        if tasks[k] != tasks[k - 1]:
            for ax in (ax_acc, ax_err):
                ax.axhline(y[k] + 0.5, color="0.6", linewidth=0.8)
    for ax in (ax_acc, ax_err):
        ax.grid(axis="x", color="0.9", linewidth=0.6)
        ax.tick_params(axis="x", labelsize=8)
    ax_acc.axvline(0.9, color="0.5", linestyle=":", linewidth=1.0)
    ax_acc.set_xlabel("mean test accuracy (dotted: 0.9, solved / valid)")
    ax_err.set_xlabel("radians, log scale (mean over valid seeds)")
    ax_acc.set_title("accuracy", fontsize=10)
    ax_err.set_title("spectral error by the paper's rule, full W_hh vs Φ", fontsize=10)
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=VERDICT_COLORS[WITHIN],
            label="ours: within noise",
        ),
        Line2D(
            [], [], marker="o", linestyle="", color=VERDICT_COLORS[DIFFERS], label="ours: differs"
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=VERDICT_COLORS[UNDERPOWERED],
            label="ours: underpowered",
        ),
        Line2D([], [], marker="x", linestyle="", color="0.35", label="ours, Hungarian"),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=NOT_COMPARABLE_COLOR,
            label="ours: not tested (agrees on —, or not comparable)",
        ),
        Line2D([], [], marker="D", linestyle="", mfc="none", mec="black", label="paper"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle(title or "Table 1: ours (mean, 95% seed-bootstrap interval) vs the paper")
    return fig
