"""Fixed-length per-model signatures for embedding, computed from the eigenvalues themselves.

Signature types
---------------
``statistics``
    The 21 statistics of :mod:`vbpipe.analysis.statistics`.
``histogram``
    Counts of ``|arg lambda|`` in 36 bins on ``[0, pi]`` followed by counts of ``|lambda|`` in 20
    bins on ``[0, 2]`` (56 values; the bins of :data:`vbpipe.histograms.ANGLE_EDGES` and
    :data:`vbpipe.histograms.MAGNITUDE_EDGES`). Magnitudes >= 2 are counted in the last bin, so every
    eigenvalue is counted. The histograms are computed from the eigenvalues, never read from a
    summary (the original tooling's bug: the keys were missing).
``combined``
    ``histogram`` plus 7 extras (63 values): the count-weighted mean and std of the angle bin
    centres, the index of the fullest angle bin, the same three for magnitude, and the number of
    eigenvalues in magnitude bins whose left edge is > 1.

Signatures are not scaled; call :func:`standardize` (column z-scores) before PCA/t-SNE/MDS so that
counts and magnitudes are comparable.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .. import histograms
from ..histograms import ANGLE_EDGES, MAGNITUDE_EDGES
from ..results.layout import SIGNATURE_TYPES
from .statistics import STATISTIC_NAMES, statistics_matrix

__all__ = [
    "ANGLE_EDGES",
    "MAGNITUDE_EDGES",
    "SIGNATURE_TYPES",
    "angle_histogram",
    "magnitude_histogram",
    "histogram_signature",
    "combined_signature",
    "compute_signatures",
    "signature_feature_names",
    "standardize",
]

_ANGLE_CENTRES = 0.5 * (ANGLE_EDGES[:-1] + ANGLE_EDGES[1:])
_MAG_CENTRES = 0.5 * (MAGNITUDE_EDGES[:-1] + MAGNITUDE_EDGES[1:])
_MAG_UNSTABLE_BINS = MAGNITUDE_EDGES[:-1] > 1.0 + 1e-12


def angle_histogram(eigenvalues) -> np.ndarray:
    """36 counts of ``|arg lambda|`` over ``[0, pi]`` (``pi`` falls in the last bin), as floats."""
    return histograms.angle_histogram(eigenvalues).astype(float)


def magnitude_histogram(eigenvalues) -> np.ndarray:
    """20 counts of ``|lambda|`` over ``[0, 2]``; ``|lambda| >= 2`` goes to the last bin."""
    return histograms.magnitude_histogram(eigenvalues).astype(float)


def histogram_signature(eigenvalues) -> np.ndarray:
    """Angle histogram (36) followed by magnitude histogram (20)."""
    return np.concatenate([angle_histogram(eigenvalues), magnitude_histogram(eigenvalues)])


def _weighted_mean_std(centres: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    total = counts.sum()
    if total <= 0:
        return 0.0, 0.0
    mean = float(np.dot(centres, counts) / total)
    var = float(np.dot((centres - mean) ** 2, counts) / total)
    return mean, float(np.sqrt(max(var, 0.0)))


def combined_signature(eigenvalues) -> np.ndarray:
    """:func:`histogram_signature` followed by the 7 extras described in the module docstring."""
    ah = angle_histogram(eigenvalues)
    mh = magnitude_histogram(eigenvalues)
    a_mean, a_std = _weighted_mean_std(_ANGLE_CENTRES, ah)
    m_mean, m_std = _weighted_mean_std(_MAG_CENTRES, mh)
    extras = np.array(
        [
            a_mean,
            a_std,
            float(np.argmax(ah)),
            m_mean,
            m_std,
            float(np.argmax(mh)),
            float(mh[_MAG_UNSTABLE_BINS].sum()),
        ]
    )
    return np.concatenate([ah, mh, extras])


def signature_feature_names(signature_type: str) -> list[str]:
    """Names of the signature's columns (for labelling and JSON)."""
    if signature_type == "statistics":
        return list(STATISTIC_NAMES)
    hist = [f"angle_bin_{i}" for i in range(36)] + [f"mag_bin_{i}" for i in range(20)]
    if signature_type == "histogram":
        return hist
    if signature_type == "combined":
        return hist + [
            "angle_weighted_mean",
            "angle_weighted_std",
            "angle_mode_bin",
            "mag_weighted_mean",
            "mag_weighted_std",
            "mag_mode_bin",
            "n_mag_above_1",
        ]
    raise ValueError(f"unknown signature type {signature_type!r}; choose from {SIGNATURE_TYPES}")


def compute_signatures(eigenvalue_list: Sequence, signature_type: str = "combined") -> np.ndarray:
    """``(n_models, n_features)`` signature matrix for a list of complex eigenvalue arrays."""
    if signature_type == "statistics":
        return statistics_matrix(eigenvalue_list)
    if signature_type == "histogram":
        fn = histogram_signature
    elif signature_type == "combined":
        fn = combined_signature
    else:
        raise ValueError(
            f"unknown signature type {signature_type!r}; choose from {SIGNATURE_TYPES}"
        )
    width = len(signature_feature_names(signature_type))
    if len(eigenvalue_list) == 0:
        return np.empty((0, width))
    return np.vstack([fn(np.asarray(e)) for e in eigenvalue_list])


def standardize(features: np.ndarray, *, tol: float = 1e-12) -> np.ndarray:
    """Column-wise z-scores; constant (or all-NaN) columns become 0 instead of NaN."""
    x = np.asarray(features, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"features must be 2-D (models x features); got shape {x.shape}")
    if x.shape[0] == 0:
        return x.copy()
    with warnings.catch_warnings():  # all-NaN columns: "mean of empty slice"
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=0)
        std = np.nanstd(x, axis=0)
    mean = np.nan_to_num(mean)
    scale = np.where(np.isfinite(std) & (std > tol * np.maximum(1.0, np.abs(mean))), std, np.inf)
    z = (x - mean) / scale
    return np.nan_to_num(z, nan=0.0)
