"""Pairwise distances between models, their summary statistics and outliers.

- :func:`pairwise_distances`: square matrix from any :func:`scipy.spatial.distance.pdist` metric.
- :func:`wasserstein_eigenvalue_distance` / :func:`wasserstein_distance_matrix`: 1-Wasserstein
  distances between two models' eigenvalue distributions. Modes:

  ``separate``       W1(|l1|, |l2|) + W1(arg l1, arg l2) (1-D distances, angles on ``[-pi, pi]``);
  ``magnitude_only`` W1(|l1|, |l2|);
  ``angle_only``     W1(arg l1, arg l2);
  ``2d``             sliced W1 in the complex plane: the mean over ``n_projections`` directions
                     ``theta ~ U[0, 2 pi)`` of W1 between the projections ``Re(l e^{-i theta})``.
                     The directions come from a local ``numpy.random.default_rng(seed)``; the
                     global numpy RNG is never touched.

  When every model has the same number of eigenvalues the matrix is computed in vectorised form
  (W1 between equal-size samples = mean absolute difference of the sorted samples); otherwise each
  pair goes through :func:`scipy.stats.wasserstein_distance`.
- :func:`distance_statistics`: summary of the upper triangle.
- :func:`find_outliers`: models whose mean distance to the others exceeds mean + 2 std.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import pdist, squareform

from ..results.layout import WASSERSTEIN_MODES

__all__ = [
    "WASSERSTEIN_MODES",
    "pairwise_distances",
    "wasserstein_eigenvalue_distance",
    "wasserstein_distance_matrix",
    "distance_statistics",
    "mean_distance_to_others",
    "find_outliers",
]


def pairwise_distances(features: np.ndarray, metric: str = "euclidean", **kwargs) -> np.ndarray:
    """``(n, n)`` symmetric distance matrix with zero diagonal from ``pdist(features, metric)``.

    NaN distances (e.g. ``correlation`` of a constant row) are replaced by 0 only on the diagonal;
    elsewhere a ``ValueError`` is raised naming the metric.
    """
    x = np.asarray(features, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"features must be 2-D (models x features); got shape {x.shape}")
    n = x.shape[0]
    if n < 2:
        return np.zeros((n, n))
    condensed = pdist(x, metric=metric, **kwargs)
    if not np.all(np.isfinite(condensed)):
        raise ValueError(
            f"distance metric {metric!r} produced non-finite distances for these signatures "
            "(e.g. a constant signature with 'correlation'/'cosine'); choose another metric"
        )
    return squareform(condensed, checks=False)


def _directions(n_projections: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0 * np.pi, size=n_projections)


def _projections(eig: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """``(n_projections, n_eigs)``: projections of the eigenvalues onto each direction."""
    return np.outer(np.cos(thetas), eig.real) + np.outer(np.sin(thetas), eig.imag)


def wasserstein_eigenvalue_distance(
    eig1, eig2, mode: str = "separate", *, n_projections: int = 50, seed: int = 42
) -> float:
    """1-Wasserstein distance between two eigenvalue distributions (see module docstring)."""
    from scipy.stats import wasserstein_distance  # ~0.5 s import: only when used

    a = np.ravel(np.asarray(eig1)).astype(complex)
    b = np.ravel(np.asarray(eig2)).astype(complex)
    if a.size == 0 or b.size == 0:
        raise ValueError("cannot compare an empty eigenvalue array")
    if mode == "magnitude_only":
        return float(wasserstein_distance(np.abs(a), np.abs(b)))
    if mode == "angle_only":
        return float(wasserstein_distance(np.angle(a), np.angle(b)))
    if mode == "separate":
        return float(
            wasserstein_distance(np.abs(a), np.abs(b))
            + wasserstein_distance(np.angle(a), np.angle(b))
        )
    if mode == "2d":
        thetas = _directions(n_projections, seed)
        pa, pb = _projections(a, thetas), _projections(b, thetas)
        return float(np.mean([wasserstein_distance(x, y) for x, y in zip(pa, pb, strict=True)]))
    raise ValueError(f"unknown Wasserstein mode {mode!r}; choose from {WASSERSTEIN_MODES}")


def _sorted_w1_matrix(samples: np.ndarray) -> np.ndarray:
    """W1 between rows of equal-size samples: mean |sorted(a) - sorted(b)|."""
    s = np.sort(samples, axis=1)
    return squareform(pdist(s, metric="cityblock") / s.shape[1], checks=False)


def wasserstein_distance_matrix(
    eigenvalue_list: Sequence, mode: str = "separate", *, n_projections: int = 50, seed: int = 42
) -> np.ndarray:
    """``(n, n)`` matrix of :func:`wasserstein_eigenvalue_distance` between all models."""
    if mode not in WASSERSTEIN_MODES:
        raise ValueError(f"unknown Wasserstein mode {mode!r}; choose from {WASSERSTEIN_MODES}")
    eigs = [np.ravel(np.asarray(e)).astype(complex) for e in eigenvalue_list]
    n = len(eigs)
    if n < 2:
        return np.zeros((n, n))
    sizes = {e.size for e in eigs}
    if len(sizes) == 1 and 0 not in sizes:
        stacked = np.vstack(eigs)
        if mode == "magnitude_only":
            return _sorted_w1_matrix(np.abs(stacked))
        if mode == "angle_only":
            return _sorted_w1_matrix(np.angle(stacked))
        if mode == "separate":
            return _sorted_w1_matrix(np.abs(stacked)) + _sorted_w1_matrix(np.angle(stacked))
        thetas = _directions(n_projections, seed)
        # (n_models, n_projections, n_eigs), sorted along the eigenvalue axis, then flattened:
        # cityblock over the concatenation sums the per-direction W1 * n_eigs.
        proj = np.cos(thetas)[None, :, None] * stacked.real[:, None, :]
        proj += np.sin(thetas)[None, :, None] * stacked.imag[:, None, :]
        proj.sort(axis=2)
        flat = proj.reshape(n, -1)
        d = pdist(flat, metric="cityblock") / (stacked.shape[1] * n_projections)
        return squareform(d, checks=False)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = wasserstein_eigenvalue_distance(
                eigs[i], eigs[j], mode, n_projections=n_projections, seed=seed
            )
    return out


def distance_statistics(distance_matrix: np.ndarray) -> dict[str, float]:
    """Summary of the upper triangle of a distance matrix.

    Keys: mean, median, std, min, max, q25, q75, range, relative_spread (= std / mean, NaN when
    the mean is 0) and n_pairs. With fewer than 2 models every value but ``n_pairs`` is NaN.
    """
    d = np.asarray(distance_matrix, dtype=float)
    iu = np.triu_indices(d.shape[0], k=1)
    vals = d[iu]
    keys = ("mean", "median", "std", "min", "max", "q25", "q75", "range", "relative_spread")
    if vals.size == 0:
        out = dict.fromkeys(keys, float("nan"))
        out["n_pairs"] = 0
        return out
    mean = float(vals.mean())
    std = float(vals.std())
    q25, median, q75 = (float(v) for v in np.percentile(vals, [25, 50, 75]))
    return {
        "mean": mean,
        "median": median,
        "std": std,
        "min": float(vals.min()),
        "max": float(vals.max()),
        "q25": q25,
        "q75": q75,
        "range": float(vals.max() - vals.min()),
        "relative_spread": std / mean if mean > 0 else float("nan"),
        "n_pairs": int(vals.size),
    }


def mean_distance_to_others(distance_matrix: np.ndarray) -> np.ndarray:
    """Per model, the mean distance to every other model (diagonal excluded)."""
    d = np.asarray(distance_matrix, dtype=float)
    n = d.shape[0]
    if n < 2:
        return np.zeros(n)
    return (d.sum(axis=1) - np.diag(d)) / (n - 1)


def find_outliers(distance_matrix: np.ndarray, n_std: float = 2.0) -> np.ndarray:
    """Indices of models whose mean distance to the others exceeds mean + ``n_std`` * std.

    Mean and std are taken over the models' mean distances to the others.
    """
    m = mean_distance_to_others(distance_matrix)
    if m.size < 3:
        return np.array([], dtype=int)
    threshold = m.mean() + n_std * m.std()
    return np.flatnonzero(m > threshold)
