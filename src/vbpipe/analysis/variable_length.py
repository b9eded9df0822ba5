"""Variable sequence length: what a model trained on lengths ``L_min..L_max`` learned.

A task with a length drawn per batch asks one network to cycle with period ``L`` (repeat copy) for
every ``L`` in the range. A fixed linear map cannot: the coefficient of ``u_s`` in ``ŷ_t`` of a
linear time-invariant network depends on ``t − s`` only, while ``u_0`` must reappear at lag ``L``
for every ``L`` (:func:`vbpipe.analysis.linear_limits.lti_witness`; an EOS input only adds a
term that does not depend on the data). The functions here read the signs of that conflict in a
trained model: which roots of unity its recurrent spectrum holds (:func:`root_of_unity_orders`),
whether its per-step accuracy at one length beats with the periods of the others
(:func:`dominant_period`), and figures that put per-length accuracy next to the MSE-optimal linear
filter's (:mod:`vbpipe.analysis.linear_limits`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "conditions_figure",
    "dominant_period",
    "per_step_figure",
    "root_of_unity_orders",
    "roots_of_unity_figure",
]


def root_of_unity_orders(
    eig: np.ndarray, max_order: int = 12, threshold: float = 0.9, tol: float = 0.05
) -> dict[str, int]:
    """Count unit-circle eigenvalues (``|λ| > threshold``) by the order of the nearest root of unity.

    An eigenvalue at angle ``θ`` has order ``P`` when ``P`` is the smallest integer ``<= max_order``
    with ``|θ − 2πk/P| < tol`` (radians) for some integer ``k``; ``λ ≈ 1`` has order 1, ``−1``
    order 2. Keys are ``"1"``, ``"2"``, ... and ``"other"`` (no such ``P``); every key up to
    ``max_order`` is present."""
    eig = np.asarray(eig, dtype=np.complex128).reshape(-1)
    counts = {str(p): 0 for p in range(1, max_order + 1)}
    counts["other"] = 0
    for theta in np.angle(eig[np.abs(eig) > threshold]):
        for order in range(1, max_order + 1):
            k = round(theta * order / (2 * math.pi))
            if abs(theta - 2 * math.pi * k / order) < tol:
                counts[str(order)] += 1
                break
        else:
            counts["other"] += 1
    return counts


def dominant_period(per_step: np.ndarray, max_period: int | None = None) -> tuple[int, float]:
    """The beat period of a per-step accuracy curve: the shortest lag whose autocorrelation (of the
    curve minus its least-squares line) is within 0.05 of the highest one after the
    autocorrelation's first local minimum.

    Removing the line and starting after the first minimum skip the short lags where a drifting
    curve correlates with itself; taking the shortest near-best lag returns 20 rather than its
    multiple 60. Returns ``(p, correlation)``; ``(0, 0.0)`` for a constant or too short curve.
    ``max_period`` defaults to a third of the curve."""
    x = np.asarray(per_step, dtype=np.float64)
    if x.size < 6:
        return 0, 0.0
    t = np.arange(x.size)
    x = x - np.polyval(np.polyfit(t, x, 1), t)
    denom = float(np.sum(x**2))
    if denom < 1e-20:
        return 0, 0.0
    max_period = max_period or x.size // 3
    lags = np.arange(1, max_period + 1)
    corr = np.array([np.sum(x[:-lag] * x[lag:]) / denom * x.size / (x.size - lag) for lag in lags])
    start = 0
    while start + 1 < corr.size and corr[start + 1] < corr[start]:
        start += 1
    if start + 1 >= corr.size:
        return 0, 0.0
    tail = corr[start + 1 :]
    best = start + 1 + int(np.flatnonzero(tail >= tail.max() - 0.05)[0])
    return int(lags[best]), float(corr[best])


def per_step_figure(
    per_step: Mapping[int, np.ndarray],
    reference: Mapping[int, np.ndarray] | None = None,
    title: str | None = None,
    reference_label: str = "MSE-optimal linear filter",
) -> Figure:
    """Accuracy per output step, one panel per length; ``reference`` (same keys) dashed."""
    lengths = sorted(per_step)
    fig = Figure(figsize=(11, 2.3 * len(lengths) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(lengths), 1, sharex=True))
    for ax, length in zip(axes, lengths, strict=True):
        curve = np.asarray(per_step[length])
        ax.plot(np.arange(curve.size), curve, lw=1.2, label=f"model, mean {curve.mean():.3f}")
        if reference is not None and length in reference:
            ref = np.asarray(reference[length])
            ax.plot(
                np.arange(ref.size), ref, "--", lw=0.8, color="0.55",
                label=f"{reference_label}, mean {ref.mean():.3f}",
            )  # fmt: skip
        period, corr = dominant_period(curve)
        ax.set_ylabel(f"L = {length}\naccuracy")
        ax.set_ylim(0.4, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left", title=f"dominant period {period}", title_fontsize=8)
    axes[-1].set_xlabel("output step (0 = first step after the input)")
    if title:
        fig.suptitle(title)
    return fig


def conditions_figure(
    accuracy: Mapping[str, Mapping[int, Sequence[float]]],
    reference: Mapping[int, float] | None = None,
    title: str | None = None,
    ylabel: str = "test accuracy (horizon 200)",
) -> Figure:
    """Grouped bars: for each condition (x), one bar per length (mean over seeds, seeds as dots);
    ``reference`` draws one horizontal tick per length (e.g. the MSE-optimal linear filter)."""
    conditions = list(accuracy)
    lengths = sorted({length for per in accuracy.values() for length in per})
    width = 0.8 / max(len(lengths), 1)
    fig = Figure(figsize=(1.15 * len(conditions) + 4.5, 4.8), layout="constrained")
    ax = fig.subplots()
    colors = [f"C{i}" for i in range(len(lengths))]
    for li, length in enumerate(lengths):
        xs = np.arange(len(conditions)) + (li - (len(lengths) - 1) / 2) * width
        means = [np.mean(accuracy[c].get(length, [np.nan])) for c in conditions]
        ax.bar(xs, means, width * 0.92, color=colors[li], alpha=0.55, label=f"L = {length}")
        for x, c in zip(xs, conditions, strict=True):
            seeds = accuracy[c].get(length, [])
            ax.plot([x] * len(seeds), seeds, "k.", ms=4)
        if reference is not None and length in reference:
            ax.plot(
                xs, [reference[length]] * len(xs), "_", color=colors[li], ms=14, mew=2.5,
                label=f"MSE-optimal linear filter, L = {length}",
            )  # fmt: skip
    ax.set_xticks(np.arange(len(conditions)), conditions, rotation=20, ha="right", fontsize=9)
    ax.set_ylim(0.45, 1.02)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def roots_of_unity_figure(
    spectra: Mapping[str, np.ndarray], periods: Sequence[int], title: str | None = None
) -> Figure:
    """Eigenvalues in the complex plane, one panel per model, with rays at the angles ``2πk/P``
    of the roots of unity of each period ``P`` (one colour per period). The frame holds every
    eigenvalue (at least ``|Re λ|, |Im λ| <= 1.35``); the titles count them by order."""
    names = list(spectra)
    fig = Figure(figsize=(3.9 * len(names) + 0.4, 4.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 361))
    for ax, name in zip(axes, names, strict=True):
        eig = np.asarray(spectra[name], dtype=np.complex128)
        reach = max(1.35, 1.05 * float(np.abs(eig).max(initial=0.0)))
        ax.plot(circle.real, circle.imag, color="0.6", lw=0.8)
        for pi, period in enumerate(periods):
            for k in range(period):
                z = 0.95 * reach * np.exp(2j * np.pi * k / period)
                ax.plot([0, z.real], [0, z.imag], color=f"C{pi + 1}", lw=0.8, alpha=0.7,
                        label=f"period {period}" if k == 0 else None)  # fmt: skip
        ax.plot(eig.real, eig.imag, "k.", ms=4)
        counts = root_of_unity_orders(eig, max_order=max(periods))
        text = ", ".join(f"{p}: {counts[str(p)]}" for p in periods)
        ax.set_title(f"{name}\n|λ|>0.9 by order: {text}, other: {counts['other']}", fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_xlabel("Re λ")
    axes[0].set_ylabel("Im λ")
    axes[0].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title)
    return fig
