"""Spectra of the recurrent matrix and of EMT's Φ: eigenvalues, unit-circle counts, spectral error,
histograms.

Spectral error (replaces the original's greedy ``spectral_comparison``)
---------------------------------------------------------------------
The *unit-circle part* of a spectrum is its eigenvalues with ``|λ| > threshold`` (default 0.9). Two
unit-circle parts ``A`` (``n_a`` eigenvalues) and ``B`` (``n_b``) are compared by their angles only:
the cost of pairing ``a`` with ``b`` is the angular distance ``|wrap(arg a − arg b)|`` in ``[0, π]``
(the angle between the unit vectors ``a/|a|`` and ``b/|b|``). An optimal assignment (Hungarian,
:func:`scipy.optimize.linear_sum_assignment`) pairs ``min(n_a, n_b)`` eigenvalues with the least
total cost, and the error is the **mean angular distance over the matched pairs** (radians; degrees
alongside). The count mismatch ``n_a − n_b`` is reported separately and never enters the error: the
error answers "are the angles right?", the counts answer "are there as many memories as the theory
needs?". When no pair can be formed (either part empty) the error is ``None`` (``null`` in JSON); it
is never NaN. The original padded with zeros and normalised them (NaN) and matched greedily in list
order.

PCA-subspace metrics (kept for compatibility with the original summary)
-----------------------------------------------------------------------
``W_hh = U S Vᵀ``, ``k = L·d``, ``U_k`` = the first ``min(k, N)`` left singular vectors, ``W_sub =
U_kᵀ W_hh U_k``. ``variance_ratio`` = share of ``Σ S²`` in the first ``min(k, N)`` singular values;
``frob_error`` = ``‖W_sub − Φ‖_F`` and ``frob_relative`` = ``frob_error / ‖Φ‖_F`` (only when ``N ≥
k``: otherwise the shapes differ and both are ``None``), the eigenvalues of ``W_sub`` and the
spectral error ``W_sub`` vs ``Φ``. When ``N < k`` the model is flagged ``hidden_too_small`` and
everything computable is still computed (the original hit a shape error, swallowed it and dropped
the model). Note that ``W_sub`` is not an invariant subspace and the Frobenius numbers compare
matrices in different bases: prefer the full-``W_hh`` spectral error.

Histograms
----------
Counts of ``|arg λ|`` and of ``|λ|`` in the bins of :data:`vbpipe.histograms.ANGLE_EDGES` (36 on
``[0, π]``) and :data:`vbpipe.histograms.MAGNITUDE_EDGES` (20 on ``[0, 2]``); values outside a range
are counted in the nearest end bin (:func:`vbpipe.histograms.angle_histogram`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..constants import DEFAULT_UNIT_THRESHOLD

__all__ = [
    "SpectralComparison",
    "angular_distance_matrix",
    "count_unit_circle",
    "eigenvalues",
    "pca_subspace_metrics",
    "spectral_comparison",
    "unit_circle_part",
]


def eigenvalues(matrix: np.ndarray) -> np.ndarray:
    """Eigenvalues of a square matrix (complex128), sorted by decreasing ``|λ|`` then increasing
    angle.

    The order is deterministic so that stored spectra diff cleanly. Non-finite matrices raise
    ``ValueError``.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"expected a square matrix, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("matrix has non-finite entries; its eigenvalues are undefined")
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=np.complex128)
    eig = np.linalg.eigvals(matrix).astype(np.complex128)
    order = np.lexsort((np.round(np.angle(eig), 12), -np.round(np.abs(eig), 12)))
    return eig[order]


def unit_circle_part(eig: np.ndarray, threshold: float = DEFAULT_UNIT_THRESHOLD) -> np.ndarray:
    """The eigenvalues with ``|λ| > threshold``."""
    eig = np.asarray(eig, dtype=np.complex128).reshape(-1)
    return eig[np.abs(eig) > threshold]


def count_unit_circle(eig: np.ndarray, threshold: float = DEFAULT_UNIT_THRESHOLD) -> int:
    """How many eigenvalues have ``|λ| > threshold``."""
    return int(unit_circle_part(eig, threshold).size)


def angular_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``D[i, j]`` = angle in ``[0, π]`` between ``a[i]`` and ``b[j]`` seen as directions in the
    plane."""
    diff = np.angle(np.asarray(a).reshape(-1, 1)) - np.angle(np.asarray(b).reshape(1, -1))
    return np.abs(np.angle(np.exp(1j * diff)))


@dataclass(frozen=True)
class SpectralComparison:
    """Result of :func:`spectral_comparison` (see the module docstring for the rule)."""

    error_rad: float | None
    error_deg: float | None
    max_error_rad: float | None
    n_a: int
    n_b: int
    n_matched: int

    @property
    def count_mismatch(self) -> int:
        """``n_a − n_b``: positive when ``A`` has more unit-circle eigenvalues than ``B``."""
        return self.n_a - self.n_b


def spectral_comparison(
    eig_a: np.ndarray, eig_b: np.ndarray, threshold: float = DEFAULT_UNIT_THRESHOLD
) -> SpectralComparison:
    """Optimal angular matching of the unit-circle parts of two spectra (mean angle of matched
    pairs)."""
    a = unit_circle_part(eig_a, threshold)
    b = unit_circle_part(eig_b, threshold)
    n_matched = min(a.size, b.size)
    if n_matched == 0:
        return SpectralComparison(None, None, None, int(a.size), int(b.size), 0)
    cost = angular_distance_matrix(a, b)
    rows, cols = linear_sum_assignment(cost)
    matched = cost[rows, cols]
    error = float(matched.mean())
    return SpectralComparison(
        error, float(np.degrees(error)), float(matched.max()), int(a.size), int(b.size), n_matched
    )


def pca_subspace_metrics(
    w_hh: np.ndarray,
    phi: np.ndarray,
    threshold: float = DEFAULT_UNIT_THRESHOLD,
    svd: tuple[np.ndarray, np.ndarray] | None = None,
    eig_phi: np.ndarray | None = None,
) -> dict:
    """The original's "PCA-subspace" comparison of ``W_hh`` with ``Φ`` (see the module docstring).

    ``svd`` may pass a precomputed ``(U, S)`` of ``W_hh`` and ``eig_phi`` the eigenvalues of ``Φ``
    (neither is recomputed then). Returns a dict with ``variance_ratio``,
    ``frob_error``, ``frob_relative``, ``eigenvalues_sub`` (complex array), ``spectral`` (a
    :class:`SpectralComparison` of ``W_sub`` vs ``Φ``), ``hidden_too_small``, ``subspace_dim``;
    ``None`` where a value is not computable.
    """
    w_hh = np.asarray(w_hh, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    n, k = w_hh.shape[0], phi.shape[0]
    if svd is None:
        u, s, _ = np.linalg.svd(w_hh)
    else:
        u, s = svd
    k_eff = min(k, n)
    u_k = u[:, :k_eff]
    w_sub = u_k.T @ w_hh @ u_k
    total = float(np.sum(s**2))
    variance_ratio = float(np.sum(s[:k_eff] ** 2) / total) if total > 0 else None
    too_small = n < k
    frob_error = frob_relative = None
    if not too_small:
        frob_error = float(np.linalg.norm(w_sub - phi))
        phi_norm = float(np.linalg.norm(phi))
        frob_relative = frob_error / phi_norm if phi_norm > 0 else None
    eig_sub = eigenvalues(w_sub)
    return {
        "variance_ratio": variance_ratio,
        "frob_error": frob_error,
        "frob_relative": frob_relative,
        "eigenvalues_sub": eig_sub,
        "spectral": spectral_comparison(
            eig_sub, eigenvalues(phi) if eig_phi is None else eig_phi, threshold
        ),
        "hidden_too_small": bool(too_small),
        "subspace_dim": int(k_eff),
    }
