"""Symmetric Hausdorff distance between eigenvalue sets in the complex plane, pairwise over models.

The Hausdorff distance is the largest distance from a point of one set to the nearest point of the
other, taken both ways: small only when every eigenvalue of each model has a close partner in the
other. Unlike Wasserstein it ignores multiplicities and sizes, so spectra of different lengths
(hidden 64 vs 128) compare directly; one stray eigenvalue is enough to make it large.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import cdist

__all__ = ["directed_hausdorff", "hausdorff_distance", "hausdorff_distance_matrix"]


def _points(eigenvalues) -> np.ndarray:
    """``(k, 2)`` array of (Re, Im)."""
    z = np.ravel(np.asarray(eigenvalues)).astype(complex)
    if z.size == 0 or not np.isfinite(z).all():
        raise ValueError("eigenvalue sets must be non-empty and finite")
    return np.column_stack([z.real, z.imag])


def _directed_pair(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(d(a, b), d(b, a)) where d(a, b) = max over a of the distance to the nearest b."""
    d2 = cdist(a, b, "sqeuclidean")
    return float(np.sqrt(d2.min(axis=1).max())), float(np.sqrt(d2.min(axis=0).max()))


def directed_hausdorff(a, b) -> float:
    """max over a of the distance to the nearest b (not symmetric)."""
    return _directed_pair(_points(a), _points(b))[0]


def hausdorff_distance(a, b) -> float:
    """Symmetric Hausdorff distance max(d(a, b), d(b, a)) between two eigenvalue sets."""
    return max(_directed_pair(_points(a), _points(b)))


def hausdorff_distance_matrix(eigenvalue_list: Sequence) -> np.ndarray:
    """``(n, n)`` symmetric matrix of :func:`hausdorff_distance` between models' eigenvalues.

    About 40 µs a pair for 128 eigenvalues: 2000 models take about a minute on one core.
    """
    sets = [_points(e) for e in eigenvalue_list]
    n = len(sets)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = max(_directed_pair(sets[i], sets[j]))
    return out
