"""Confidence intervals over seeds, written once: a mean's (Student's t: seeds are few) and a rate's
(Wilson's score interval: it stays inside [0, 1] and is not empty at 0 or n). The runs table, the
controls, the census and the docs' tables use them."""

from __future__ import annotations

import math

import numpy as np


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, int]:
    """``(mean, half_width, n)`` of the finite ``values``: Student's t interval of the mean,
    ``mean ± t_{(1+c)/2, n-1} · s / sqrt(n)`` (seeds are few, so t, not the normal quantile).

    ``half_width`` is NaN for fewer than two values and 0 when they are all equal; ``mean`` is
    NaN when no value is finite."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, n
    from scipy.stats import t

    half = float(t.ppf((1.0 + confidence) / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, half, n


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)`` of the finite ``values`` (:func:`mean_interval`); ``(mean, mean, mean)``
    for one value and all NaN for none."""
    mean, half, n = mean_interval(values, confidence)
    if n == 1:
        return mean, mean, mean
    return mean, mean - half, mean + half


def wilson_interval(successes, n, z: float = 1.959963984540054):
    """The Wilson score interval ``(low, high)`` (95 % by default) of the rate ``successes / n``,
    elementwise; NaN where ``n = 0``. Floats for scalar inputs, arrays for arrays."""
    k = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / total
        denom = 1 + z**2 / total
        centre = (p + z**2 / (2 * total)) / denom
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denom
    low = np.where(total > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(total > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high
