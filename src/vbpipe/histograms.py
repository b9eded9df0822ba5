"""Histograms of eigenvalue angles and magnitudes, shared by the summary export and the analyses'
signatures (numpy only)."""

import numpy as np

#: Edges of the angle histogram: 36 bins of ``|arg λ|`` on ``[0, π]``.
ANGLE_EDGES = np.linspace(0.0, np.pi, 37)
#: Edges of the magnitude histogram: 20 bins of ``|λ|`` on ``[0, 2]`` (``|λ| ≥ 2`` in the last).
MAGNITUDE_EDGES = np.linspace(0.0, 2.0, 21)


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins ``edges``; values outside are counted in the nearest end bin."""
    nbins = edges.size - 1
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, nbins - 1)
    return np.bincount(idx, minlength=nbins).astype(np.int64)


def angle_histogram(eigenvalues) -> np.ndarray:
    """Counts of ``|arg λ|`` in the :data:`ANGLE_EDGES` bins."""
    return binned_counts(np.abs(np.angle(np.asarray(eigenvalues).reshape(-1))), ANGLE_EDGES)


def magnitude_histogram(eigenvalues) -> np.ndarray:
    """Counts of ``|λ|`` in the :data:`MAGNITUDE_EDGES` bins (``|λ| ≥ 2`` in the last)."""
    return binned_counts(np.abs(np.asarray(eigenvalues).reshape(-1)), MAGNITUDE_EDGES)
