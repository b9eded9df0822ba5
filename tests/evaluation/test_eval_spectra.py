"""Spectra: eigenvalues, unit-circle counts, the Hungarian spectral error, PCA-subspace metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbpipe.evaluation.spectra import (
    angular_distance_matrix,
    count_unit_circle,
    eigenvalues,
    pca_subspace_metrics,
    spectral_comparison,
)
from vbpipe.histograms import ANGLE_EDGES, MAGNITUDE_EDGES, angle_histogram, magnitude_histogram
from vbpipe.tasks import Task


def roots(n, multiplicity=1, radius=1.0, rotate=0.0):
    base = radius * np.exp(1j * (2 * np.pi * np.arange(n) / n + rotate))
    return np.repeat(base, multiplicity)


def test_eigenvalues_sorted_by_magnitude():
    matrix = np.diag([0.1, -2.0, 0.5])
    eig = eigenvalues(matrix)
    np.testing.assert_allclose(eig, [-2.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="non-finite"):
        eigenvalues(np.array([[np.nan]]))


def test_counts_use_configurable_threshold():
    eig = np.array([1.0, 0.95, 0.85, 0.1j])
    assert count_unit_circle(eig) == 2
    assert count_unit_circle(eig, threshold=0.8) == 3


def test_identical_spectra_have_zero_error():
    theory = Task((255, 0, 0), 8, 8).phi(8)
    result = spectral_comparison(eigenvalues(theory), eigenvalues(theory))
    assert result.n_a == result.n_b == result.n_matched == 64
    assert result.error_rad == pytest.approx(0.0, abs=1e-9)


def test_uniform_rotation_gives_that_angle_in_radians_and_degrees():
    delta = 0.01
    result = spectral_comparison(roots(8, 8, rotate=delta), roots(8, 8))
    assert result.error_rad == pytest.approx(delta, rel=1e-9)
    assert result.error_deg == pytest.approx(np.degrees(delta), rel=1e-9)
    assert result.max_error_rad == pytest.approx(delta, rel=1e-9)


def test_angular_distance_wraps_around_pi():
    a = np.exp(1j * np.array([np.pi - 0.01]))
    b = np.exp(1j * np.array([-np.pi + 0.01]))
    assert angular_distance_matrix(a, b)[0, 0] == pytest.approx(0.02, abs=1e-12)


def test_matching_is_optimal_not_greedy():
    # Greedy in A's order pairs a0 (0.0) with b1 (0.1), leaving a1 (0.2) with b0 (-0.2): mean 0.25.
    # The optimal assignment pairs a0-b0 and a1-b1: mean (0.2 + 0.1) / 2 = 0.15.
    a = np.exp(1j * np.array([0.0, 0.2]))
    b = np.exp(1j * np.array([-0.2, 0.1]))
    assert spectral_comparison(a, b).error_rad == pytest.approx(0.15, abs=1e-12)


def test_count_mismatch_is_reported_separately_and_never_nan():
    rnn = np.concatenate([roots(8), [0.2, 0.1]])  # 8 on the circle
    theory = roots(8, 2)  # 16 on the circle
    result = spectral_comparison(rnn, theory)
    assert (result.n_a, result.n_b, result.n_matched, result.count_mismatch) == (8, 16, 8, -8)
    assert result.error_rad == pytest.approx(0.0, abs=1e-12)
    empty = spectral_comparison(np.array([0.1, 0.2]), theory)
    assert empty.error_rad is None and empty.error_deg is None and empty.n_matched == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-np.pi, np.pi), min_size=1, max_size=12),
    st.lists(st.floats(-np.pi, np.pi), min_size=1, max_size=12),
)
def test_error_is_symmetric_bounded_and_permutation_invariant(angles_a, angles_b):
    a, b = np.exp(1j * np.array(angles_a)), np.exp(1j * np.array(angles_b))
    ab, ba = spectral_comparison(a, b), spectral_comparison(b, a)
    assert 0.0 <= ab.error_rad <= np.pi + 1e-12
    assert ab.error_rad == pytest.approx(ba.error_rad, abs=1e-12)
    assert spectral_comparison(a, a[::-1]).error_rad == pytest.approx(0.0, abs=1e-12)
    assert ab.n_matched == min(len(angles_a), len(angles_b))


def test_histograms_count_every_eigenvalue_with_fixed_bins():
    eig = np.array([1.0, -1.0, 1j, 2.5, 0.0])
    ah, mh = angle_histogram(eig), magnitude_histogram(eig)
    assert ah.shape == (36,) and mh.shape == (20,)
    assert ah.sum() == mh.sum() == 5
    assert ah[-1] == 1 and ah[18] == 1  # π in the last bin, π/2 starts bin 18
    assert mh[-1] == 1 and mh[10] == 3 and mh[0] == 1  # 2.5 clipped into the last bin
    assert ANGLE_EDGES.size == 37 and MAGNITUDE_EDGES[-1] == 2.0


def test_pca_metrics_full_size():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((80, 80)) / 9
    phi = Task((255, 0, 0), 8, 8).phi(8)
    out = pca_subspace_metrics(w, phi)
    assert out["hidden_too_small"] is False and out["subspace_dim"] == 64
    assert 0.0 < out["variance_ratio"] < 1.0
    assert out["frob_error"] > 0 and out["frob_relative"] == pytest.approx(out["frob_error"] / 8)
    assert out["eigenvalues_sub"].shape == (64,)


def test_pca_metrics_hidden_smaller_than_task_dim_are_flagged_not_failing():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((32, 32)) / 6
    phi = Task((255, 0, 0), 8, 8).phi(8)
    out = pca_subspace_metrics(w, phi)
    assert out["hidden_too_small"] is True and out["subspace_dim"] == 32
    assert out["frob_error"] is None and out["frob_relative"] is None
    assert out["variance_ratio"] == pytest.approx(1.0)
    assert out["eigenvalues_sub"].shape == (32,)
    assert out["spectral"].n_b == 64
