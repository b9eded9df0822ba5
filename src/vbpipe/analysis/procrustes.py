"""Procrustes comparison of spectra (the original ``procrustes_analysis.py``), pairwise over models.

Each model's eigenvalues of ``W_hh`` become 2-D points (Re, Im) in a fixed order: by magnitude,
largest first (magnitudes rounded to 10 decimals so that a conjugate pair ties), then by imaginary
part, largest first, then by real part. Two such point lists are compared as
:func:`scipy.spatial.procrustes` does: each is centred and scaled to unit Frobenius norm, the best
orthogonal map (rotation or reflection) takes one onto the other, and the disparity is the remaining
sum of squared differences, in [0, 1]. 0 means one spectrum is a rotated/reflected, scaled and
shifted copy of the other, point for point in the magnitude order.

Unequal counts (hidden 64 vs 128): only the top ``k`` eigenvalues by magnitude are compared, ``k``
= the smallest count among the models given (or the ``k`` passed), the same ``k`` for every pair of
a matrix. The top of the spectrum is where the learned memories sit, the rest is near 0.

The original also had a "distance to Φ" branch that was dead code (always NaN). Here
:func:`procrustes_to_reference` compares each model with one reference spectrum, e.g. eig(Φ) of
the task: a disparity of 0 says the model's top-|λ| spectrum has Φ's shape up to rotation and scale.

Caveat (inherited from the original method): the point-to-point pairing comes from the magnitude
order, so it is only meaningful where magnitudes are well separated. A trained model has many
eigenvalues at |λ| ≈ 1 (64 for repeat copy), whose order is set by tiny differences; two models with
the same set of angles can then be paired arbitrarily and get a large disparity. Read it with the
pairing-free distances (Hausdorff, Wasserstein, histogram distances) beside it.

For 2-D points the disparity has a closed form (1 - (sum of singular values of AᵀB)², with
sum of the two singular values of a 2x2 matrix M = sqrt(||M||_F² + 2|det M|)), which makes the
pairwise matrix one vectorised computation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "procrustes_disparity",
    "procrustes_disparity_matrix",
    "procrustes_to_reference",
    "spectrum_points",
    "standardised_points",
]


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
    """Centred and scaled to unit Frobenius norm; NaN when all points coincide (no shape)."""
    x = np.asarray(points, dtype=float)
    x = x - x.mean(axis=-2, keepdims=True)
    norm = np.sqrt((x**2).sum(axis=(-2, -1), keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, x / norm, np.nan)


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


def procrustes_disparity(eig_a, eig_b, k: int | None = None) -> float:
    """Procrustes disparity between two spectra (top ``k``; default the smaller count)."""
    k = _common_k([eig_a, eig_b], k)
    a = standardised_points(spectrum_points(eig_a, k))
    b = standardised_points(spectrum_points(eig_b, k))
    return float(_disparity_from_cross(a.T @ b))


def procrustes_disparity_matrix(eigenvalue_list: Sequence, k: int | None = None) -> np.ndarray:
    """``(n, n)`` symmetric disparity matrix, zero diagonal (NaN rows for a spectrum with no shape,
    e.g. all eigenvalues equal). ``k`` as in :func:`procrustes_disparity`, common to all pairs."""
    k = _common_k(eigenvalue_list, k)
    x = np.stack([standardised_points(spectrum_points(e, k)) for e in eigenvalue_list])
    # cross[i, j] = x_iᵀ x_j (2x2), as four (n, k) @ (k, n) products
    cross = np.stack(
        [np.stack([x[:, :, p] @ x[:, :, q].T for q in range(2)], axis=-1) for p in range(2)],
        axis=-2,
    )
    out = _disparity_from_cross(cross)
    out = 0.5 * (out + out.T)
    np.fill_diagonal(out, np.where(np.isnan(np.diag(out)), np.nan, 0.0))
    return out


def procrustes_to_reference(
    eigenvalue_list: Sequence, reference, k: int | None = None
) -> np.ndarray:
    """Disparity of each model's spectrum with one reference spectrum (e.g. eig(Φ)), shape ``(n,)``.

    ``k`` defaults to the smallest count among the models and the reference.
    """
    k = _common_k([*eigenvalue_list, reference], k)
    ref = standardised_points(spectrum_points(reference, k))
    x = np.stack([standardised_points(spectrum_points(e, k)) for e in eigenvalue_list])
    return _disparity_from_cross(np.einsum("ikp,kq->ipq", x, ref))
