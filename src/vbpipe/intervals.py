"""A mean and its confidence interval over seeds (the runs table's "accuracy 0.981 ± 0.006")."""

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
