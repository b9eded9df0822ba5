"""Distances between models' eigenvalue histograms (the original's ``histogram_distance``), pairwise.

Histograms are rows of counts (e.g. :func:`vbpipe.analysis.signatures.histogram_signature`: 36 angle
bins then 20 magnitude bins). Each row is first normalised to sum 1, so models with different numbers
of eigenvalues (hidden 64 vs 128) are compared by the *shape* of their histograms. Metrics, for
normalised p, q:

``euclidean``     ||p - q||_2, in [0, sqrt 2];
``manhattan``     ||p - q||_1, in [0, 2];
``chi2``          0.5 * sum (p - q)^2 / (p + q) over bins with p + q > 0, in [0, 1];
``kl``            symmetrised Kullback-Leibler 0.5 * (KL(p||q) + KL(q||p)) of the smoothed
                  histograms; ``kl_directed`` is KL(p||q) (matrix entry [i, j] = KL(h_i || h_j));
``bhattacharyya`` -ln sum sqrt(p q), with the coefficient floored at ``eps``;
``hellinger``     sqrt(1 - sum sqrt(p q)), in [0, 1] (a bounded relative of Bhattacharyya).

Empty bins: KL smooths each histogram as (p + eps) / sum(p + eps) before taking logs, so every term is
finite; with the default ``eps = 1e-10`` two histograms with disjoint support are about
ln(1 / eps) = 23 apart. Bhattacharyya is infinite for disjoint support; the floor caps it at
-ln(eps) = 23.03. Identical histograms are at distance 0 under every metric.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EPS",
    "HISTOGRAM_METRICS",
    "histogram_distance",
    "histogram_distance_matrix",
    "normalise_histograms",
]

EPS = 1e-10
HISTOGRAM_METRICS = (
    "euclidean",
    "manhattan",
    "chi2",
    "kl",
    "kl_directed",
    "bhattacharyya",
    "hellinger",
)
_BLOCK_ELEMENTS = 4_000_000  # pairwise work in blocks of rows of about this many numbers


def normalise_histograms(histograms) -> np.ndarray:
    """Rows of non-negative counts scaled to sum 1; an all-zero row is refused."""
    h = np.atleast_2d(np.asarray(histograms, dtype=float))
    if h.ndim != 2:
        raise ValueError(f"histograms must be 1-D or 2-D (models x bins), got shape {h.shape}")
    if (h < 0).any() or not np.isfinite(h).all():
        raise ValueError("histogram counts must be finite and non-negative")
    totals = h.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError(f"empty histogram in rows {np.flatnonzero(totals[:, 0] <= 0).tolist()}")
    return h / totals


def _smooth(p: np.ndarray, eps: float) -> np.ndarray:
    q = p + eps
    return q / q.sum(axis=-1, keepdims=True)


def _block(a: np.ndarray, b: np.ndarray, metric: str, eps: float) -> np.ndarray:
    """Distances between every row of ``a`` and every row of ``b`` (both normalised)."""
    p, q = a[:, None, :], b[None, :, :]
    if metric == "euclidean":
        return np.sqrt(((p - q) ** 2).sum(-1))
    if metric == "manhattan":
        return np.abs(p - q).sum(-1)
    if metric == "chi2":
        s = p + q
        terms = np.divide(
            (p - q) ** 2, s, out=np.zeros(np.broadcast_shapes(p.shape, q.shape)), where=s > 0
        )
        return 0.5 * terms.sum(-1)
    if metric in ("kl", "kl_directed"):
        ps, qs = _smooth(a, eps)[:, None, :], _smooth(b, eps)[None, :, :]
        log_ratio = np.log(ps) - np.log(qs)
        forward = (ps * log_ratio).sum(-1)
        if metric == "kl_directed":
            return forward
        return 0.5 * (forward - (qs * log_ratio).sum(-1))
    coefficient = np.sqrt(p * q).sum(-1)
    if metric == "bhattacharyya":
        return -np.log(np.maximum(coefficient, eps))
    if metric == "hellinger":
        return np.sqrt(np.clip(1.0 - coefficient, 0.0, None))
    raise ValueError(f"unknown histogram metric {metric!r}; choose from {HISTOGRAM_METRICS}")


def histogram_distance(p, q, metric: str = "chi2", eps: float = EPS) -> float:
    """Distance between two histograms (counts or probabilities; see the module docstring)."""
    a, b = normalise_histograms(p), normalise_histograms(q)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"histograms have different bin counts: {a.shape[1]} and {b.shape[1]}")
    return float(_block(a, b, metric, eps)[0, 0])


def histogram_distance_matrix(histograms, metric: str = "chi2", eps: float = EPS) -> np.ndarray:
    """``(n, n)`` matrix of :func:`histogram_distance` between the rows of ``histograms``.

    Symmetric with a zero diagonal except for ``kl_directed`` ([i, j] = KL(h_i || h_j)). Computed
    in blocks of rows, so 2000 models x 56 bins stay within a few tens of MB.
    """
    if metric not in HISTOGRAM_METRICS:
        raise ValueError(f"unknown histogram metric {metric!r}; choose from {HISTOGRAM_METRICS}")
    h = normalise_histograms(histograms)
    n, bins = h.shape
    rows = max(1, _BLOCK_ELEMENTS // max(n * bins, 1))
    out = np.empty((n, n))
    for start in range(0, n, rows):
        out[start : start + rows] = _block(h[start : start + rows], h, metric, eps)
    np.fill_diagonal(out, 0.0)
    if metric != "kl_directed":
        out = 0.5 * (out + out.T)  # exact symmetry despite rounding
    return out
