"""Diagnostics of a set of models' histogram signatures (the original ``analyze_diagnostics.py``).

It answers "is there structure across seeds for an embedding to show?": how much the signatures vary,
how the pairwise distances spread, how many principal components the variance needs, and how the
models performed. :func:`diagnostics_report` returns a JSON-ready dict (NaN becomes None);
:func:`diagnostics_text` renders it, stating every diagnosis rule and whether it fired.

Choices: the coefficient of variation is per feature (std / mean over models) and ignores constant
features; PCA runs on column z-scores of the non-constant features (counts and magnitudes on one
scale); the spectral entropy is the Shannon entropy (nats) of the explained-variance ratios, also
divided by its maximum ln(m) over m components. Normality of the distances: Shapiro-Wilk on at most
5000 upper-triangle distances (a seeded subsample above that). Pairs share models, so they are not
independent: read the p-value as descriptive. With hundreds of pairs it rejects normality for any
skewed unimodal spread too (distances in a single Gaussian cloud are chi-distributed), so the
"separate groups" diagnosis uses Sarle's bimodality coefficient of the distances instead.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import kurtosis, shapiro, skew

from .distances import distance_statistics, pairwise_distances

__all__ = ["DIAGNOSIS_RULES", "diagnostics_report", "diagnostics_text"]

_MAX_SHAPIRO = 5000
_CONSTANT = 1e-12

#: name -> the rule in words (thresholds in the text are those the code uses).
DIAGNOSIS_RULES = {
    "nearly_identical": "signatures nearly identical: median CV of the varying features < 0.1, "
    "or more than half of the features constant",
    "low_dimensional": "low-dimensional: 2 or fewer principal components reach 90% of the variance",
    "diffuse": "diffuse, no dominant direction: normalised spectral entropy of PCA > 0.8",
    "bimodal_distances": "bimodal distances (separate groups of models likely): Sarle's bimodality "
    "coefficient of the pairwise distances > 0.555 (its value for a uniform distribution)",
    "all_solved": "every model solved the task (accuracy > 0.9): spectra differ for reasons "
    "accuracy does not show",
    "mostly_failed": "most models failed (fewer than half above accuracy 0.9): failed models' spectra "
    "dominate the comparison",
    "no_spectral_error": "no model has a spectral error",
}


def _json_ready(value):
    """Plain Python numbers, lists and dicts; NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value


def _describe(values: np.ndarray) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "median": None, "max": None}
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(v.min()),
        "median": float(np.median(v)),
        "max": float(v.max()),
    }


def _signature_variation(x: np.ndarray) -> dict:
    var = x.var(axis=0)
    mean = x.mean(axis=0)
    varying = var > _CONSTANT
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.sqrt(var) / np.abs(mean)
    cv = cv[varying & (np.abs(mean) > _CONSTANT)]
    return {
        "n_features": int(x.shape[1]),
        "n_constant_features": int((~varying).sum()),
        "total_variance": float(var.sum()),
        "mean_variance": float(var.mean()),
        "mean_cv": float(cv.mean()) if cv.size else float("nan"),
        "median_cv": float(np.median(cv)) if cv.size else float("nan"),
        "max_cv": float(cv.max()) if cv.size else float("nan"),
    }


def _pca(x: np.ndarray) -> dict:
    sd = x.std(axis=0)
    z = (x[:, sd > _CONSTANT] - x[:, sd > _CONSTANT].mean(axis=0)) / sd[sd > _CONSTANT]
    empty = {
        "n_features_used": int(z.shape[1]),
        "explained_variance_ratio": [],
        "n_components_90": None,
        "n_components_95": None,
        "spectral_entropy": None,
        "normalised_spectral_entropy": None,
    }
    if z.shape[0] < 2 or z.shape[1] == 0:
        return empty
    s = np.linalg.svd(z, compute_uv=False)
    power = s**2
    ratio = power[power > _CONSTANT * power.sum()] / power.sum()
    cumulative = np.cumsum(ratio)
    entropy = float(-(ratio * np.log(ratio)).sum())
    return {
        **empty,
        "explained_variance_ratio": ratio.tolist(),
        "n_components_90": int(np.searchsorted(cumulative, 0.9 - 1e-12) + 1),
        "n_components_95": int(np.searchsorted(cumulative, 0.95 - 1e-12) + 1),
        "spectral_entropy": entropy,
        "normalised_spectral_entropy": entropy / math.log(ratio.size) if ratio.size > 1 else 0.0,
    }


def _upper(d: np.ndarray) -> np.ndarray:
    values = d[np.triu_indices(d.shape[0], k=1)]
    return values[np.isfinite(values)]


def _bimodality(values: np.ndarray) -> float:
    """Sarle's coefficient (g² + 1) / (k + 3 (n-1)² / ((n-2)(n-3))), g skewness, k excess
    kurtosis (bias-corrected): 1/3 for a normal, 5/9 for a uniform, towards 1 for two separate modes."""
    n = values.size
    if n < 4 or np.ptp(values) <= 0:
        return float("nan")
    g = skew(values, bias=False)
    k = kurtosis(values, bias=False)
    return float((g**2 + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def _normality(values: np.ndarray, seed: int) -> dict:
    if values.size > _MAX_SHAPIRO:
        values = np.random.default_rng(seed).choice(values, _MAX_SHAPIRO, replace=False)
    if values.size < 3 or np.ptp(values) <= 0:
        return {"normality_test": "shapiro", "statistic": None, "p_value": None, "n_tested": 0}
    stat, p = shapiro(values)
    return {
        "normality_test": "shapiro",
        "statistic": float(stat),
        "p_value": float(p),
        "n_tested": int(values.size),
    }


def _diagnosis(report: dict) -> list[dict]:
    sig, pca, dist = report["signatures"], report["pca"], report["distances"]
    acc, err = report["accuracy"], report["spectral_error"]
    n_feat = max(sig["n_features"], 1)
    median_cv = sig["median_cv"]
    bimodality = dist["bimodality_coefficient"]
    entropy = pca["normalised_spectral_entropy"]
    fired = {
        "nearly_identical": (median_cv is not None and median_cv < 0.1)
        or sig["n_constant_features"] > n_feat / 2,
        "low_dimensional": pca["n_components_90"] is not None and pca["n_components_90"] <= 2,
        "diffuse": entropy is not None and entropy > 0.8,
        "bimodal_distances": bimodality is not None and bimodality > 0.555,
        "all_solved": acc["n"] > 0 and acc["fraction_above_0.9"] == 1.0,
        "mostly_failed": acc["n"] > 0 and acc["fraction_above_0.9"] < 0.5,
        "no_spectral_error": err["n"] == 0,
    }
    return [{"name": k, "rule": DIAGNOSIS_RULES[k], "fired": bool(v)} for k, v in fired.items()]


def diagnostics_report(
    histograms,
    accuracy,
    spectral_error,
    distance_matrix: np.ndarray | None = None,
    seed: int = 0,
) -> dict:
    """Diagnostics of ``histograms`` ``(n_models, n_bins)`` (e.g. histogram signatures), with each
    model's ``accuracy`` and ``spectral_error`` (NaN where none). ``distance_matrix`` defaults to
    Euclidean distances between the z-scored signatures. Keys: n_models, signatures, distances,
    pca, accuracy, spectral_error, diagnosis (a list of {name, rule, fired})."""
    x = np.atleast_2d(np.asarray(histograms, dtype=float))
    n = x.shape[0]
    acc = np.asarray(accuracy, dtype=float).ravel()
    err = np.asarray(spectral_error, dtype=float).ravel()
    if acc.size != n or err.size != n:
        raise ValueError(f"{n} signatures but {acc.size} accuracies and {err.size} spectral errors")
    if distance_matrix is None:
        sd = x.std(axis=0)
        z = (x[:, sd > _CONSTANT] - x[:, sd > _CONSTANT].mean(axis=0)) / sd[sd > _CONSTANT]
        d = pairwise_distances(z) if z.shape[1] else np.zeros((n, n))
        metric = "euclidean on z-scored signatures"
    else:
        d = np.asarray(distance_matrix, dtype=float)
        metric = "given"
        if d.shape != (n, n):
            raise ValueError(f"distance matrix has shape {d.shape}, expected ({n}, {n})")
    finite_acc = acc[np.isfinite(acc)]
    report = {
        "n_models": n,
        "signatures": _signature_variation(x),
        "distances": {
            "metric": metric,
            **distance_statistics(d),
            "bimodality_coefficient": _bimodality(_upper(d)),
            "normality": _normality(_upper(d), seed),
        },
        "pca": _pca(x),
        "accuracy": {
            **_describe(acc),
            "fraction_above_0.9": float((finite_acc > 0.9).mean()) if finite_acc.size else None,
        },
        "spectral_error": _describe(err),
    }
    report = _json_ready(report)
    report["diagnosis"] = _diagnosis(report)
    return report


def _fmt(value, spec: str = ".4g") -> str:
    return "n/a" if value is None else format(value, spec)


def diagnostics_text(report: dict) -> str:
    """Plain-text rendering of :func:`diagnostics_report`, every rule stated with its outcome."""
    sig, dist, pca = report["signatures"], report["distances"], report["pca"]
    acc, err = report["accuracy"], report["spectral_error"]
    norm = dist["normality"]
    ratios = ", ".join(f"{r:.3f}" for r in pca["explained_variance_ratio"][:5])
    lines = [
        f"Diagnostics of {report['n_models']} models",
        "",
        "Signatures",
        f"  features: {sig['n_features']} ({sig['n_constant_features']} constant across models)",
        f"  variance: total {_fmt(sig['total_variance'])}, mean per feature "
        f"{_fmt(sig['mean_variance'])}",
        f"  coefficient of variation (varying features): mean {_fmt(sig['mean_cv'])}, "
        f"median {_fmt(sig['median_cv'])}, max {_fmt(sig['max_cv'])}",
        "",
        f"Pairwise distances ({dist['metric']}, {dist['n_pairs']} pairs)",
        f"  mean {_fmt(dist['mean'])}, std {_fmt(dist['std'])}, min {_fmt(dist['min'])}, "
        f"max {_fmt(dist['max'])}, relative spread {_fmt(dist['relative_spread'])}",
        f"  bimodality coefficient {_fmt(dist['bimodality_coefficient'], '.3f')} "
        "(normal 0.333, uniform 0.555, two separate modes towards 1)",
        f"  Shapiro-Wilk on {norm['n_tested']} distances: W = {_fmt(norm['statistic'])}, "
        f"p = {_fmt(norm['p_value'])} (pairs share models: descriptive)",
        "",
        f"PCA of z-scored signatures ({pca['n_features_used']} varying features)",
        f"  explained variance ratio, first components: {ratios or 'n/a'}",
        f"  components for 90%: {_fmt(pca['n_components_90'], 'd')}, for 95%: "
        f"{_fmt(pca['n_components_95'], 'd')}",
        f"  spectral entropy {_fmt(pca['spectral_entropy'])} nats "
        f"(normalised {_fmt(pca['normalised_spectral_entropy'], '.3f')})",
        "",
        f"Accuracy ({acc['n']} models): mean {_fmt(acc['mean'])}, std {_fmt(acc['std'])}, "
        f"min {_fmt(acc['min'])}, max {_fmt(acc['max'])}, above 0.9: "
        f"{_fmt(acc['fraction_above_0.9'], '.0%')}",
        f"Spectral error ({err['n']} models with one): mean {_fmt(err['mean'])}, "
        f"median {_fmt(err['median'])}, max {_fmt(err['max'])}",
        "",
        "Diagnosis (heuristic; [x] = rule fired)",
    ]
    lines += [f"  [{'x' if d['fired'] else ' '}] {d['rule']}" for d in report["diagnosis"]]
    return "\n".join(lines) + "\n"
