"""Side-by-side comparison of several sets of models (e.g. hidden 128 vs hidden 64).

:func:`compare_sets` aggregates the 21 eigenvalue statistics (and the accuracy) of each set into
``{mean, std, min, max, sem, n}``; ``std`` is the population std, ``sem`` the sample std
(``ddof=1``) divided by sqrt(n).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .statistics import STATISTIC_NAMES, aggregate, aggregate_statistics, statistics_matrix

__all__ = ["compare_sets"]


def compare_sets(
    sets: Mapping[str, Sequence[np.ndarray]],
    accuracies: Mapping[str, Sequence[float]] | None = None,
) -> list[dict]:
    """One entry per set, in the order of ``sets``.

    ``sets`` maps a label to the eigenvalue arrays of its models; ``accuracies`` (optional) maps
    the same labels to per-model accuracies (NaN/None allowed). Each entry is ``{"label",
    "n_models", "statistics": {stat: {mean, std, min, max, sem, n}}, "accuracy": {...}}``.
    """
    out = []
    for label, eigs in sets.items():
        if len(eigs) == 0:
            raise ValueError(f"set {label!r} has no models")
        matrix = statistics_matrix(eigs)
        entry = {
            "label": label,
            "n_models": len(eigs),
            "statistics": aggregate_statistics(matrix, STATISTIC_NAMES, include_sem=True),
        }
        if accuracies is not None and label in accuracies:
            acc = np.array(
                [np.nan if a is None else float(a) for a in accuracies[label]], dtype=float
            )
            entry["accuracy"] = aggregate(acc, include_sem=True)
        out.append(entry)
    return out
