"""A census of mechanisms: each model classified from its own numbers, rates per cell with Wilson
intervals, and which swept settings go with which mechanism.

The classes, tested in this order (the first that applies wins; every model gets exactly one):

``collapsed``
    accuracy ``<= chance_accuracy`` (default 0.55): at chance. A non-finite model scores 0 and
    lands here too. Why 0.55: chance is 0.5 with a sampling spread of ~0.001 on the evaluation's
    test set, and a model right on ``k`` of the 200 output steps and at chance elsewhere scores
    ``0.5 + k / 400``: 0.55 lets a collapsed model keep its first ~20 steps (it often does, the
    most recent input is still in the state) without calling a half-solved model collapsed.
``emt_linear``
    solved (accuracy ``> solved_accuracy``, default 0.9, :data:`vbpipe.constants.SOLVED_ACCURACY`,
    the rule Table 1 uses), as many unit-circle eigenvalues of ``W_hh`` as Φ has (the
    evaluation's ``unit_threshold``), and spectral error ``<= max_spectral_error`` (default 0.05
    rad). Why 0.05: above 4x the largest cell the paper publishes (0.0112 rad, T4 h64) and 4x
    below what an unrelated set of angles gives against the L-th roots of unity of the paper's
    L = 8 (a random angle lies on average π / (2L) = 0.196 rad from the nearest root).
``contracting``
    solved, not EMT-linear, and every ``|λ(W_hh)| < max_radius`` (default 1): the state decays
    to the origin without input, so the memories are held by a leaky (transient) solution, which
    long horizons expose.
``other``
    the rest: partly solved models, and solved ones whose spectrum neither matches the theory's
    count nor contracts.

Accuracy at long horizons (:func:`horizon_accuracy`) separates a leaky solution (its late
accuracy falls to chance) from a marginally stable one (it holds). Association of a swept key with
the mechanism (:func:`association`): Pearson's chi-square test of independence of the key's
values and the classes, and Cramér's V = sqrt(chi2 / (n (min(r, c) - 1))), over the classes and
values that occur (with few models per cell the p-value is indicative only: the chi-square
approximation wants expected counts of about 5 or more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..constants import SOLVED_ACCURACY
from ..intervals import wilson_interval

__all__ = [
    "MECHANISMS",
    "CensusThresholds",
    "association",
    "census_figure",
    "classify",
    "horizon_accuracy",
    "rates",
]

#: The classes, in the order they are tested.
MECHANISMS = ("collapsed", "emt_linear", "contracting", "other")
#: The fraction of a horizon, at its end, over which the *late* accuracy is taken.
LATE_FRACTION = 0.1
_COLOURS = {
    "collapsed": "#9e9e9e",
    "emt_linear": "#1f77b4",
    "contracting": "#ff7f0e",
    "other": "#d62728",
}


@dataclass(frozen=True)
class CensusThresholds:
    """The classification's settings (their defaults are justified in the module docstring)."""

    chance_accuracy: float = 0.55
    solved_accuracy: float = SOLVED_ACCURACY
    max_spectral_error: float = 0.05
    max_radius: float = 1.0

    def __post_init__(self):
        if not 0.5 <= self.chance_accuracy < self.solved_accuracy <= 1.0:
            raise ValueError(
                "census thresholds need 0.5 <= chance_accuracy < solved_accuracy <= 1, got "
                f"chance_accuracy={self.chance_accuracy}, solved_accuracy={self.solved_accuracy}"
            )
        if not self.max_spectral_error > 0 or not self.max_radius > 0:
            raise ValueError(
                "census thresholds max_spectral_error and max_radius must be > 0, got "
                f"{self.max_spectral_error} and {self.max_radius}"
            )

    def as_dict(self) -> dict:
        return asdict(self)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):  # None, pandas' NA
        return float("nan")


def _floats(values) -> np.ndarray:
    """A float array of ``values``; a missing value (None, NaN, pandas' NA) is NaN."""
    return np.array([_float(v) for v in np.ravel(np.asarray(values, dtype=object))], dtype=float)


def classify(
    accuracy,
    n_unit_circle,
    n_unit_circle_theory,
    spectral_error,
    spectral_radius,
    thresholds: CensusThresholds | None = None,
) -> np.ndarray:
    """Each model's class (a string array of :data:`MECHANISMS`) from its accuracy, unit-circle
    counts (model and theory), spectral error (radians; NaN or None: none) and spectral radius of
    ``W_hh``. Missing numbers never satisfy a condition."""
    th = thresholds or CensusThresholds()
    acc = _floats(accuracy)
    arrays = [_floats(a) for a in (n_unit_circle, n_unit_circle_theory, spectral_error)]
    n_unit, n_theory, error = arrays
    radius = _floats(spectral_radius)
    if len({a.size for a in (acc, n_unit, n_theory, error, radius)}) != 1:
        raise ValueError("classify: every input needs one value per model")
    acc = np.where(np.isfinite(acc), acc, 0.0)  # a non-finite accuracy is no accuracy
    with np.errstate(invalid="ignore"):
        collapsed = acc <= th.chance_accuracy
        solved = acc > th.solved_accuracy
        emt = solved & (n_unit == n_theory) & (error <= th.max_spectral_error)
        contracting = solved & (radius < th.max_radius)
    out = np.full(acc.size, "other", dtype=object)
    out[contracting] = "contracting"
    out[emt] = "emt_linear"
    out[collapsed] = "collapsed"
    return out.astype(str)


def horizon_accuracy(per_step, horizons: Sequence[int]) -> dict[str, float]:
    """From a per-step accuracy curve ``(H,)``: for each horizon ``h`` the accuracy over its first
    ``h`` output steps (the evaluation's definition) and over its last :data:`LATE_FRACTION`
    (``accuracy_h{h}``, ``late_accuracy_h{h}``)."""
    curve = np.asarray(per_step, dtype=float)
    out = {}
    for h in horizons:
        if not 1 <= h <= curve.size:
            raise ValueError(f"horizon {h} outside the curve's 1..{curve.size} steps")
        late = max(1, int(round(h * LATE_FRACTION)))
        out[f"accuracy_h{h}"] = float(curve[:h].mean())
        out[f"late_accuracy_h{h}"] = float(curve[h - late : h].mean())
    return out


def rates(classes, groups) -> list[dict]:
    """Per group (one key per model: a cell, or a value of one swept key), in order of first
    appearance: ``n`` and, per class, its count, rate and Wilson 95 % interval."""
    classes = np.asarray(classes, dtype=str)
    groups = list(groups)
    if len(groups) != classes.size:
        raise ValueError("rates: one group per model")
    order = list(dict.fromkeys(groups))
    rows = []
    for group in order:
        mask = np.array([g == group for g in groups])
        n = int(mask.sum())
        row: dict = {"group": group, "n": n}
        for mechanism in MECHANISMS:
            k = int(np.count_nonzero(classes[mask] == mechanism))
            low, high = wilson_interval(k, n)
            row[f"n_{mechanism}"] = k
            row[f"rate_{mechanism}"] = k / n
            row[f"rate_{mechanism}_low"] = float(low)
            row[f"rate_{mechanism}_high"] = float(high)
        rows.append(row)
    return rows


def association(classes, values) -> dict:
    """How much one key's values tell about the mechanism: the contingency table (values x the
    classes that occur), Pearson's chi-square, its degrees of freedom and p-value, and Cramér's V
    (0: independent, 1: the value decides the class). ``None`` statistics when fewer than two
    values or two classes occur."""
    from scipy.stats import chi2 as chi2_dist

    classes = np.asarray(classes, dtype=str)
    values = [str(v) for v in values]
    if len(values) != classes.size:
        raise ValueError("association: one value per model")
    levels = list(dict.fromkeys(values))
    seen = [m for m in MECHANISMS if np.any(classes == m)]
    table = np.array(
        [[int(np.sum((classes == m) & (np.array(values) == v))) for m in seen] for v in levels]
    )
    out = {
        "values": levels,
        "classes": seen,
        "table": table.tolist(),
        "n": int(classes.size),
        "chi2": None,
        "dof": None,
        "p_value": None,
        "cramers_v": None,
    }
    if len(levels) < 2 or len(seen) < 2:
        return out
    n = table.sum()
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    dof = (len(levels) - 1) * (len(seen) - 1)
    out.update(
        chi2=chi2,
        dof=dof,
        p_value=float(chi2_dist.sf(chi2, dof)),
        cramers_v=float(np.sqrt(chi2 / (n * (min(len(levels), len(seen)) - 1)))),
    )
    return out


def census_figure(
    cells: Sequence[Mapping],
    classes,
    spectral_radius,
    horizon_curves: Mapping[int, np.ndarray],
    thresholds: CensusThresholds | None = None,
):
    """Three panels: (a) the class rates per cell (stacked), with n; (b) each model's spectral
    radius against its late accuracy at the longest horizon, coloured by class; (c) accuracy
    against horizon per model (the evaluation's horizon and the census' long ones)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    th = thresholds or CensusThresholds()
    classes = np.asarray(classes, dtype=str)
    fig, axes = plt.subplots(
        1, 3, figsize=(16, max(4.5, 0.35 * len(cells) + 2)), layout="constrained"
    )
    ax = axes[0]
    labels = [str(c["group"]) for c in cells]
    left = np.zeros(len(cells))
    for mechanism in MECHANISMS:
        widths = np.array([c[f"rate_{mechanism}"] for c in cells])
        ax.barh(labels, widths, left=left, color=_COLOURS[mechanism], label=mechanism)
        left += widths
    for i, cell in enumerate(cells):
        ax.text(1.01, i, f"n={cell['n']}", va="center", fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.invert_yaxis()
    ax.set_xlabel("fraction of models")
    ax.set_title("(a) mechanism per cell")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)

    horizons = sorted(horizon_curves)
    longest = horizons[-1]
    late = np.asarray(horizon_curves[longest]["late"], dtype=float)
    radius = _floats(spectral_radius)
    ax = axes[1]
    for mechanism in MECHANISMS:
        mask = classes == mechanism
        if mask.any():
            ax.scatter(radius[mask], late[mask], color=_COLOURS[mechanism], label=mechanism, s=25)
    ax.legend(loc="lower left", fontsize=8)
    ax.axvline(th.max_radius, color="k", lw=0.8, ls="--")
    finite = radius[np.isfinite(radius)]
    low = min([th.max_radius, *finite]) - 0.05
    high = max([th.max_radius, *finite]) + 0.05
    ax.set_xlim(low, high)  # a margin around the threshold: radii 1 + 1e-9 read as 1
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("spectral radius of W_hh")
    ax.set_ylabel(f"accuracy over the last {int(LATE_FRACTION * 100)}% of {longest} steps")
    ax.set_title(f"(b) leaky or marginal: late accuracy at horizon {longest}")
    ax.set_ylim(0.4, 1.02)

    ax = axes[2]
    for i, mechanism in enumerate(classes):
        ys = [horizon_curves[h]["accuracy"][i] for h in horizons]
        ax.plot(horizons, ys, color=_COLOURS[mechanism], alpha=0.6, marker="o", ms=3)
    ax.set_xscale("log")
    ax.set_xlabel("horizon (output steps)")
    ax.set_ylabel("accuracy over the horizon")
    ax.set_title("(c) accuracy against horizon")
    ax.set_ylim(0.4, 1.02)
    return fig
