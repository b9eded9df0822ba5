"""The paper's spectral error, by the original's rule: greedy angle matching and the count-match rule.

Why a second spectral error: the paper's Table 1 numbers come from the original's
``spectral_comparison(W_hh, Φ)`` (emt-tools; reference ``original-behaviour.md`` sections 4.3 and 6),
which differs from the error evaluation stores (:func:`vbpipe.evaluation.spectra.spectral_comparison`:
an optimal Hungarian matching, whatever the counts). Comparing our numbers with the paper's needs the
paper's rule; the stored error stays as our own, better-defined measure beside it.

The rule, re-implemented from its described behaviour:

1. The *unit-circle parts*: the eigenvalues of ``W_hh`` (the full recurrent matrix, the matrix the
   paper compared) and of the task's ``Φ`` with ``|λ| > 0.9``.
2. **Count match**: when the two parts have different sizes the original padded the shorter one with
   zeros, whose direction ``0/|0|`` is NaN, so the error was NaN. Here: NaN whenever the counts differ,
   and also when both parts are empty (the original's mean of nothing).
3. **Greedy matching**: for each unit-circle eigenvalue of ``W_hh`` *in order*, the remaining
   eigenvalue of ``Φ`` at the smallest angle is taken and removed (the first one in ``Φ``'s order on a
   tie). The error is the mean of the matched angles, in radians. The angle is computed exactly as the
   wrapped difference of the arguments, ``|wrap(arg a − arg b)|`` in ``[0, π]``, which is what the
   original's ``arccos(⟨a/|a|, b/|b|⟩)`` computes without its rounding (``arccos`` of a dot product
   that rounds to just above 1 is NaN, and near 1 it loses half the digits).

Order: greedy matching depends on the order of ``W_hh``'s eigenvalues. The original took LAPACK's
order (``numpy.linalg.eig``), which is an artefact of the QR iterations and not stored anywhere; here
it is the order evaluation stores (:func:`vbpipe.evaluation.spectra.eigenvalues`: decreasing ``|λ|``,
then increasing angle), so that the number is reproducible. Greedy matching is never below the optimal
(Hungarian) matching of the same parts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..constants import DEFAULT_UNIT_THRESHOLD
from .spectra import angular_distance_matrix, unit_circle_part

__all__ = [
    "PAPER_UNIT_THRESHOLD",
    "greedy_angle_matching",
    "paper_rule_errors",
    "paper_spectral_error",
]

#: The original's ``spectral_comparison`` threshold (its default; the paper's Table 1 used it).
PAPER_UNIT_THRESHOLD = DEFAULT_UNIT_THRESHOLD


def greedy_angle_matching(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The angles (radians) of the pairs formed greedily: each ``a[i]`` in order takes the nearest
    remaining ``b[j]`` (the first such ``j`` on a tie). Needs ``len(a) <= len(b)``."""
    a = np.asarray(a, dtype=np.complex128).reshape(-1)
    b = np.asarray(b, dtype=np.complex128).reshape(-1)
    if a.size > b.size:
        raise ValueError(f"greedy matching needs len(a) <= len(b), got {a.size} > {b.size}")
    cost = angular_distance_matrix(a, b)
    free = np.ones(b.size, dtype=bool)
    angles = np.empty(a.size)
    for i in range(a.size):
        row = np.where(free, cost[i], np.inf)
        j = int(np.argmin(row))
        angles[i] = row[j]
        free[j] = False
    return angles


def paper_spectral_error(
    eig_rnn: np.ndarray, eig_theory: np.ndarray, threshold: float = PAPER_UNIT_THRESHOLD
) -> float:
    """The paper's spectral error of one model (radians): greedy mean angle between the unit-circle
    parts of ``eig_rnn`` (in its given order) and ``eig_theory``; NaN when their counts differ or
    both are empty (see the module docstring)."""
    a = unit_circle_part(eig_rnn, threshold)
    b = unit_circle_part(eig_theory, threshold)
    if a.size != b.size or a.size == 0:
        return float("nan")
    return float(greedy_angle_matching(a, b).mean())


def paper_rule_errors(
    rnn_spectra: Sequence[np.ndarray | None],
    theory_spectra: Sequence[np.ndarray | None],
    threshold: float = PAPER_UNIT_THRESHOLD,
) -> np.ndarray:
    """:func:`paper_spectral_error` per row (NaN where either spectrum is missing)."""
    if len(rnn_spectra) != len(theory_spectra):
        raise ValueError(
            f"{len(rnn_spectra)} W_hh spectra but {len(theory_spectra)} theory spectra"
        )
    return np.array(
        [
            float("nan") if a is None or b is None else paper_spectral_error(a, b, threshold)
            for a, b in zip(rnn_spectra, theory_spectra, strict=True)
        ],
        dtype=float,
    )
