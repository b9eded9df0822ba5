import json
import math

import numpy as np
import pytest

from vbpipe.analysis.diagnostics import DIAGNOSIS_RULES, diagnostics_report, diagnostics_text


def _fired(report) -> set[str]:
    return {d["name"] for d in report["diagnosis"] if d["fired"]}


def test_one_varying_feature_closed_forms():
    # feature 0 takes 1, 2, 3 (mean 2, population std sqrt(2/3)); the other three are constant
    h = np.array([[1.0, 5, 5, 0], [2.0, 5, 5, 0], [3.0, 5, 5, 0]])
    report = diagnostics_report(h, [1.0, 1.0, 0.95], [1e-3, np.nan, 3e-3])
    sig = report["signatures"]
    assert (sig["n_features"], sig["n_constant_features"]) == (4, 3)
    assert sig["mean_cv"] == pytest.approx(np.sqrt(2 / 3) / 2)
    assert sig["total_variance"] == pytest.approx(2 / 3)
    pca = report["pca"]
    assert pca["n_features_used"] == 1
    assert pca["explained_variance_ratio"] == pytest.approx([1.0])
    assert (pca["n_components_90"], pca["n_components_95"]) == (1, 1)
    assert pca["spectral_entropy"] == 0.0
    # default distances: |z_i - z_j| of the z-scored feature (-1.2247, 0, 1.2247)
    dist = report["distances"]
    assert dist["n_pairs"] == 3 and dist["max"] == pytest.approx(2 * np.sqrt(1.5))
    assert report["accuracy"]["fraction_above_0.9"] == 1.0
    assert report["spectral_error"]["n"] == 2
    assert report["spectral_error"]["mean"] == pytest.approx(2e-3)
    assert {"nearly_identical", "low_dimensional", "all_solved"} <= _fired(report)
    assert "no_spectral_error" not in _fired(report)


def test_two_equal_orthogonal_directions_give_maximal_entropy():
    # columns are orthogonal ±1 patterns with equal variance: PCA ratios 1/2, 1/2
    h = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]) + 3.0
    report = diagnostics_report(h, [0.5, 0.6, 0.5, 0.7], [np.nan] * 4)
    pca = report["pca"]
    assert pca["explained_variance_ratio"] == pytest.approx([0.5, 0.5])
    assert pca["n_components_90"] == 2
    assert pca["spectral_entropy"] == pytest.approx(math.log(2))
    assert pca["normalised_spectral_entropy"] == pytest.approx(1.0)
    fired = _fired(report)
    assert {"diffuse", "low_dimensional", "mostly_failed", "no_spectral_error"} <= fired
    assert report["accuracy"]["fraction_above_0.9"] == 0.0


def test_distance_bimodality_separates_one_cloud_from_two():
    rng = np.random.default_rng(0)
    one_cloud = rng.normal(size=(60, 5)) + 10.0
    two_clouds = np.vstack([rng.normal(size=(30, 5)), rng.normal(size=(30, 5)) + 8.0]) + 10.0
    acc = np.full(60, 0.99)
    err = np.full(60, 1e-3)
    one = diagnostics_report(one_cloud, acc, err)
    two = diagnostics_report(two_clouds, acc, err)
    assert two["distances"]["normality"]["p_value"] < 1e-6
    # Shapiro-Wilk also rejects the single cloud (chi-distributed distances are skewed) ...
    assert one["distances"]["normality"]["p_value"] < 0.05
    # ... the bimodality coefficient tells them apart
    assert (
        one["distances"]["bimodality_coefficient"]
        < 0.555
        < two["distances"]["bimodality_coefficient"]
    )
    assert "bimodal_distances" in _fired(two)
    assert "bimodal_distances" not in _fired(one)
    assert two["pca"]["n_components_90"] < one["pca"]["n_components_90"]


def test_given_distance_matrix_and_json_ready():
    h = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    d = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])
    report = diagnostics_report(h, [1.0, np.nan, 0.5], [np.nan] * 3, distance_matrix=d)
    assert report["distances"]["metric"] == "given"
    assert report["distances"]["mean"] == pytest.approx(2.0)
    assert report["accuracy"]["n"] == 2 and report["accuracy"]["fraction_above_0.9"] == 0.5
    assert report["spectral_error"]["mean"] is None
    text = json.dumps(report, allow_nan=False)  # raises on NaN
    assert json.loads(text)["n_models"] == 3
    with pytest.raises(ValueError, match="shape"):
        diagnostics_report(h, [1, 1, 1], [1, 1, 1], distance_matrix=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="accuracies"):
        diagnostics_report(h, [1, 1], [1, 1, 1])


def test_text_states_every_rule_and_its_outcome():
    h = np.array([[1.0, 5, 5, 0], [2.0, 5, 5, 0], [3.0, 5, 5, 0]])
    report = diagnostics_report(h, [1.0, 1.0, 0.95], [1e-3, np.nan, 3e-3])
    text = diagnostics_text(report)
    for rule in DIAGNOSIS_RULES.values():
        assert rule in text
    assert f"[x] {DIAGNOSIS_RULES['all_solved']}" in text
    assert f"[ ] {DIAGNOSIS_RULES['mostly_failed']}" in text
    assert "components for 90%: 1, for 95%: 1" in text
    assert "Diagnostics of 3 models" in text


def test_single_model_degenerates_gracefully():
    report = diagnostics_report([[1.0, 2.0]], [0.99], [1e-3])
    assert report["distances"]["n_pairs"] == 0
    assert report["pca"]["n_components_90"] is None
    assert "n/a" in diagnostics_text(report)
