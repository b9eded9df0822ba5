"""The 21 per-model statistics of an eigenvalue spectrum, and their aggregation over models.

Angles are ``np.angle(lambda)`` in ``[-pi, pi]``. ``n_unstable`` counts ``|lambda| > 1`` (with a
round-off tolerance: ``|lambda| > 1 + 1e-9``, so eigenvalues exactly on the unit circle are not
"unstable" because of floating-point noise) and ``n_near_unit_circle`` counts
``0.95 < |lambda| < 1.05``. ``mean_direction_cos``/``sin`` are the
means of ``cos``/``sin`` of the angles (the mean resultant direction, ~0 for a symmetric spectrum).
Standard deviations are population standard deviations (``ddof=0``), as ``np.std``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "STATISTIC_NAMES",
    "eigenvalue_statistics",
    "statistics_dict",
    "statistics_matrix",
    "aggregate",
    "aggregate_statistics",
]

STATISTIC_NAMES: tuple[str, ...] = (
    "mag_mean",
    "mag_std",
    "mag_median",
    "mag_min",
    "mag_max",
    "mag_q25",
    "mag_q75",
    "mag_range",
    "angle_mean",
    "angle_std",
    "angle_median",
    "angle_range",
    "real_mean",
    "real_std",
    "imag_mean",
    "imag_std",
    "spectral_radius",
    "n_unstable",
    "n_near_unit_circle",
    "mean_direction_cos",
    "mean_direction_sin",
)

_INTEGER_STATS = {"n_unstable", "n_near_unit_circle"}
UNSTABLE_TOL = 1e-9


def _as_complex(eigenvalues) -> np.ndarray:
    eig = np.asarray(eigenvalues)
    if eig.ndim == 2 and eig.shape[1] == 2 and not np.iscomplexobj(eig):
        eig = eig[:, 0] + 1j * eig[:, 1]
    eig = np.ravel(eig).astype(complex)
    if eig.size == 0:
        raise ValueError("cannot compute statistics of an empty eigenvalue array")
    return eig


def _statistics_vector(eig: np.ndarray) -> np.ndarray:
    mag = np.abs(eig)
    ang = np.angle(eig)
    q25, median, q75 = np.percentile(mag, [25, 50, 75])
    return np.array(
        [
            mag.mean(),
            mag.std(),
            median,
            mag.min(),
            mag.max(),
            q25,
            q75,
            mag.max() - mag.min(),
            ang.mean(),
            ang.std(),
            np.median(ang),
            ang.max() - ang.min(),
            eig.real.mean(),
            eig.real.std(),
            eig.imag.mean(),
            eig.imag.std(),
            mag.max(),
            np.count_nonzero(mag > 1.0 + UNSTABLE_TOL),
            np.count_nonzero((mag > 0.95) & (mag < 1.05)),
            np.cos(ang).mean(),
            np.sin(ang).mean(),
        ],
        dtype=float,
    )


def eigenvalue_statistics(eigenvalues) -> dict[str, float]:
    """The 21 statistics of one model's eigenvalues (complex array, or ``(n, 2)`` re/im pairs).

    Returns a dict keyed by :data:`STATISTIC_NAMES`; counts are ``int``, the rest ``float``.
    """
    return statistics_dict(_statistics_vector(_as_complex(eigenvalues)))


def statistics_dict(row) -> dict[str, float]:
    """One row of :func:`statistics_matrix` as a dict (counts as ``int``)."""
    return {
        name: int(v) if name in _INTEGER_STATS else float(v)
        for name, v in zip(STATISTIC_NAMES, row, strict=True)
    }


def statistics_matrix(eigenvalue_list: Sequence) -> np.ndarray:
    """``(n_models, 21)`` matrix of the statistics, columns in :data:`STATISTIC_NAMES` order."""
    if len(eigenvalue_list) == 0:
        return np.empty((0, len(STATISTIC_NAMES)))
    return np.vstack([_statistics_vector(_as_complex(e)) for e in eigenvalue_list])


def aggregate(values, *, include_sem: bool = False) -> dict[str, float]:
    """``{mean, std, min, max}`` (and ``sem``) of ``values``, ignoring NaN.

    ``std`` is the population std (``ddof=0``); ``sem`` = sample std (``ddof=1``) / sqrt(n).
    With no finite value every entry is NaN (``null`` in JSON); ``sem`` is NaN when n < 2.
    """
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    n = arr.size
    if n == 0:
        out = {"mean": np.nan, "std": np.nan, "min": np.nan, "max": np.nan}
    else:
        out = {
            "mean": float(arr.mean()),
            "std": float(arr.std()),
            "min": float(arr.min()),
            "max": float(arr.max()),
        }
    if include_sem:
        out["sem"] = float(arr.std(ddof=1) / np.sqrt(n)) if n >= 2 else np.nan
        out["n"] = int(n)
    return out


def aggregate_statistics(
    per_model: Sequence[Mapping[str, float]] | np.ndarray,
    names: Sequence[str] | None = None,
    *,
    include_sem: bool = False,
) -> dict[str, dict[str, float]]:
    """Aggregate per-model statistics into ``{name: {mean, std, min, max[, sem, n]}}``.

    ``per_model`` is either a list of dicts (every key of the first dict is aggregated; a key
    missing from a model counts as NaN) or a matrix whose columns are ``names``
    (default :data:`STATISTIC_NAMES`).
    """
    if isinstance(per_model, np.ndarray):
        names = list(names or STATISTIC_NAMES)
        matrix = np.asarray(per_model, dtype=float).reshape(-1, len(names))
        columns = {name: matrix[:, j] for j, name in enumerate(names)}
    else:
        if names is None:
            names = list(per_model[0].keys()) if len(per_model) else list(STATISTIC_NAMES)
        columns = {
            name: np.array([_num(m.get(name)) for m in per_model], dtype=float) for name in names
        }
    return {name: aggregate(col, include_sem=include_sem) for name, col in columns.items()}


def _num(value) -> float:
    if value is None or isinstance(value, (str, bool)):
        return np.nan
    return float(value)
