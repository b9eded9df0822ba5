"""Procrustes comparison of spectra (the original ``procrustes_analysis.py``), pairwise over models.

Each model's eigenvalues of ``W_hh`` become 2-D points (Re, Im). Two point lists are compared as
:func:`scipy.spatial.procrustes` does: each is centred and scaled to unit Frobenius norm, the best
orthogonal map (rotation or reflection) takes one onto the other, and the disparity is the remaining
sum of squared differences, in [0, 1]. 0 means one spectrum is a rotated/reflected, scaled and
shifted copy of the other.

Which point pairs with which (``pairing``):

``magnitude`` (the original's) pairs by a fixed order: magnitude, largest first (rounded to 10
    decimals so that a conjugate pair ties), then imaginary part, then real part, both largest first.
    Only meaningful where magnitudes are well separated. A trained model has many eigenvalues at
    |λ| ≈ 1 (64 for repeat copy) whose order is set by tiny differences, so two models with the same
    angles are paired arbitrarily: two synthetic repeat-copy spectra equal to 1e-3 get a disparity
    of about 0.99 this way.
``matched`` searches the pairing too: from the magnitude pairing and from 8 initial maps (4
    rotations, each with and without a reflection) it alternates an optimal assignment (Hungarian, on
    squared distances) with the optimal orthogonal map until the pairing stops changing, and keeps the
    smallest disparity. It is never above the ``magnitude`` value, and is 0 for a permuted, rotated,
    scaled copy. About 3 ms a pair for 64 points: a 200-model matrix takes about a minute.

Unequal counts (hidden 64 vs 128): only the top ``k`` eigenvalues by magnitude are compared, ``k``
= the smallest count among the models given (or the ``k`` passed), the same ``k`` for every pair of
a matrix. The top of the spectrum is where the learned memories sit, the rest is near 0.

The original also had a "distance to Φ" branch that was dead code (always NaN). Here
:func:`procrustes_to_reference` compares each model with one reference spectrum, e.g. eig(Φ) of
the task: a disparity of 0 says the model's top-|λ| spectrum has Φ's shape up to rotation and scale
(use ``pairing="matched"``: Φ's unit-circle eigenvalues all share one magnitude).

For 2-D points the disparity has a closed form (1 - (sum of singular values of AᵀB)², with
sum of the two singular values of a 2x2 matrix M = sqrt(||M||_F² + 2|det M|)), which makes the
``magnitude`` matrix one vectorised computation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

__all__ = [
    "PAIRINGS",
    "procrustes_disparity",
    "procrustes_disparity_matrix",
    "procrustes_to_reference",
    "spectrum_points",
    "standardised_points",
]

PAIRINGS = ("magnitude", "matched")
_MAX_ROUNDS = 50
#: Initial rotations of the ``matched`` search: spaced about 60 degrees apart and off the multiples
#: of 45 and 60 degrees, where a symmetric spectrum (L-th roots of unity) makes assignments tie.
_START_ANGLES = (0.1, 1.15, 2.2, 3.25, 4.3, 5.35)


def spectrum_points(eigenvalues, k: int | None = None) -> np.ndarray:
    """``(k, 2)`` array of (Re, Im) of the ``k`` largest-magnitude eigenvalues, in the fixed order."""
    z = np.ravel(np.asarray(eigenvalues)).astype(complex)
    if z.size == 0 or not np.isfinite(z).all():
        raise ValueError("eigenvalues must be non-empty and finite")
    order = np.lexsort((-z.real, -z.imag, -np.round(np.abs(z), 10)))
    k = z.size if k is None else int(k)
    if not 1 <= k <= z.size:
        raise ValueError(f"k = {k} must lie in [1, {z.size}] (the number of eigenvalues)")
    top = z[order[:k]]
    return np.column_stack([top.real, top.imag])


def standardised_points(points: np.ndarray) -> np.ndarray:
    """Centred and scaled to unit Frobenius norm; NaN when all points coincide (no shape), up to
    rounding (a spread below 1e-12 of the points' size)."""
    raw = np.asarray(points, dtype=float)
    x = raw - raw.mean(axis=-2, keepdims=True)
    norm = np.sqrt((x**2).sum(axis=(-2, -1), keepdims=True))
    size = np.sqrt((raw**2).sum(axis=(-2, -1), keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 1e-12 * np.maximum(size, 1e-300), x / norm, np.nan)


def _disparity_from_cross(m: np.ndarray) -> np.ndarray:
    """1 - (nuclear norm of the 2x2 cross products ``m[..., 2, 2]``)²."""
    det = m[..., 0, 0] * m[..., 1, 1] - m[..., 0, 1] * m[..., 1, 0]
    nuclear_sq = (m**2).sum(axis=(-2, -1)) + 2.0 * np.abs(det)
    return np.clip(1.0 - nuclear_sq, 0.0, 1.0)


def _common_k(eigenvalue_list: Sequence, k: int | None) -> int:
    smallest = min(np.size(e) for e in eigenvalue_list)
    if k is None:
        return smallest
    if k > smallest:
        raise ValueError(f"k = {k} exceeds the smallest eigenvalue count {smallest}")
    return int(k)


def _orthogonal_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthogonal ``r`` and scale minimising ||a - s b r||, returned as the map ``s r``."""
    u, sv, vt = np.linalg.svd(b.T @ a)
    return sv.sum() * (u @ vt)


def _matched_disparity(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest disparity over pairings found by assignment/fit alternation (module docstring)."""
    if np.isnan(a).any() or np.isnan(b).any():
        return float("nan")
    best = float(_disparity_from_cross(a.T @ b))  # the magnitude pairing
    starts = [_orthogonal_fit(a, b)]
    for angle in _START_ANGLES:
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        starts += [rot, np.diag([1.0, -1.0]) @ rot]
    for m in starts:
        pairing = None
        for _ in range(_MAX_ROUNDS):
            _, cols = linear_sum_assignment(cdist(a, b @ m, "sqeuclidean"))
            if pairing is not None and np.array_equal(cols, pairing):
                break
            pairing = cols
            m = _orthogonal_fit(a, b[pairing])
        best = min(best, float(_disparity_from_cross(a.T @ b[pairing])))
    return best


def _check_pairing(pairing: str) -> None:
    if pairing not in PAIRINGS:
        raise ValueError(f"unknown pairing {pairing!r}; choose from {PAIRINGS}")


def procrustes_disparity(eig_a, eig_b, k: int | None = None, pairing: str = "magnitude") -> float:
    """Procrustes disparity between two spectra (top ``k``; default the smaller count)."""
    _check_pairing(pairing)
    k = _common_k([eig_a, eig_b], k)
    a = standardised_points(spectrum_points(eig_a, k))
    b = standardised_points(spectrum_points(eig_b, k))
    if pairing == "matched":
        return _matched_disparity(a, b)
    return float(_disparity_from_cross(a.T @ b))


def procrustes_disparity_matrix(
    eigenvalue_list: Sequence, k: int | None = None, pairing: str = "magnitude"
) -> np.ndarray:
    """``(n, n)`` symmetric disparity matrix, zero diagonal (NaN rows for a spectrum with no shape,
    e.g. all eigenvalues equal). ``k`` as in :func:`procrustes_disparity`, common to all pairs."""
    _check_pairing(pairing)
    k = _common_k(eigenvalue_list, k)
    x = np.stack([standardised_points(spectrum_points(e, k)) for e in eigenvalue_list])
    n = x.shape[0]
    if pairing == "matched":
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(i + 1, n):
                out[i, j] = out[j, i] = _matched_disparity(x[i], x[j])
    else:
        # cross[i, j] = x_iᵀ x_j (2x2), as four (n, k) @ (k, n) products
        cross = np.stack(
            [np.stack([x[:, :, p] @ x[:, :, q].T for q in range(2)], axis=-1) for p in range(2)],
            axis=-2,
        )
        out = _disparity_from_cross(cross)
        out = 0.5 * (out + out.T)
    degenerate = np.isnan(x).any(axis=(1, 2))
    out[degenerate, :] = np.nan
    out[:, degenerate] = np.nan
    np.fill_diagonal(out, np.where(degenerate, np.nan, 0.0))
    return out


def procrustes_to_reference(
    eigenvalue_list: Sequence, reference, k: int | None = None, pairing: str = "magnitude"
) -> np.ndarray:
    """Disparity of each model's spectrum with one reference spectrum (e.g. eig(Φ)), shape ``(n,)``.

    ``k`` defaults to the smallest count among the models and the reference.
    """
    _check_pairing(pairing)
    k = _common_k([*eigenvalue_list, reference], k)
    ref = standardised_points(spectrum_points(reference, k))
    x = np.stack([standardised_points(spectrum_points(e, k)) for e in eigenvalue_list])
    if pairing == "matched":
        return np.array([_matched_disparity(ref, xi) for xi in x])
    return _disparity_from_cross(np.einsum("ikp,kq->ipq", x, ref))
