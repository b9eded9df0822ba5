import numpy as np
import pytest

from vbpipe.analysis.data import subsample_indices
from vbpipe.analysis.persistence import (
    betti_curve,
    betti_curves,
    diagram_distance,
    diagram_distance_matrix,
    diagram_statistics,
    eigenvalue_points,
    persistence_diagrams,
    statistics_keys,
)

ROOTS8 = np.exp(2j * np.pi * np.arange(8) / 8)


def _random_models(n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(6, 20))
        z = rng.uniform(0.3, 1.1, k) * np.exp(1j * rng.uniform(0, np.pi, k))
        out.append(persistence_diagrams(eigenvalue_points(np.concatenate([z, z.conj()]))))
    return out


def test_eight_points_on_circle_one_dominant_h1_bar():
    dgms = persistence_diagrams(eigenvalue_points(ROOTS8), maxdim=1)
    h1 = dgms[1]
    pers = h1[:, 1] - h1[:, 0]
    assert h1.shape[0] >= 1
    dominant = pers > 0.5 * pers.max()
    assert dominant.sum() == 1
    assert pers.max() > 1.0  # born at the side 2 sin(pi/8) ~ 0.77, dies at ~1.85
    stats = diagram_statistics(dgms)
    assert stats["h1_count"] == 1 and stats["h0_count"] == 7  # infinite H0 bar dropped


def test_normalize_projects_onto_unit_circle():
    pts = eigenvalue_points(np.array([2.0, 0.5j, 0.0, -3 - 4j]), normalize=True)
    assert pts.shape == (3, 2)  # the zero is dropped
    assert np.allclose(np.hypot(pts[:, 0], pts[:, 1]), 1.0)


def test_empty_diagram_statistics_carry_every_key():
    empty = [np.empty((0, 2)), np.empty((0, 2))]
    stats = diagram_statistics(empty, maxdim=1)
    assert list(stats) == statistics_keys(1)
    assert all(v == 0 for v in stats.values())
    # a single point: H0 only has the infinite bar, which is dropped
    single = diagram_statistics(persistence_diagrams(np.array([[0.5, 0.5]]), maxdim=1))
    assert list(single) == statistics_keys(1) and single["h0_count"] == 0
    # keys are the same for a non-empty cloud
    assert list(diagram_statistics(persistence_diagrams(eigenvalue_points(ROOTS8)))) == list(stats)


def test_betti_curve_counts_half_open_intervals():
    dgm = np.array([[0.0, 1.0], [0.5, 2.0], [0.0, np.inf]])
    assert list(betti_curve(dgm, [0.0, 0.5, 1.0, 2.0])) == [1, 2, 1, 0]
    scales, curves = betti_curves([[dgm], [np.empty((0, 2))]], dim=0, n_scales=5)
    assert scales[-1] == 2.0 and curves.shape == (2, 5) and curves[1].sum() == 0


@pytest.mark.parametrize("metric", ["bottleneck", "wasserstein"])
def test_identical_models_have_zero_distance(metric):
    dgms = persistence_diagrams(eigenvalue_points(0.9 * ROOTS8 + 0.1))
    assert diagram_distance(dgms, dgms, metric) == 0.0
    d = diagram_distance_matrix([dgms, dgms, dgms], metric)
    assert np.all(d == 0.0)


@pytest.mark.parametrize("metric", ["bottleneck", "wasserstein"])
def test_fast_backend_matches_persim_and_is_symmetric(metric):
    models = _random_models(7)
    models.append([np.empty((0, 2)), np.empty((0, 2))])  # empty diagrams
    models.append(persistence_diagrams(np.array([[0.0, 0.0]])))  # single point
    fast = diagram_distance_matrix(models, metric)
    slow = diagram_distance_matrix(models, metric, backend="persim")
    assert np.allclose(fast, slow, atol=1e-12)
    assert np.array_equal(fast, fast.T) and np.all(np.diag(fast) == 0)
    assert np.all(fast[np.triu_indices(7, 1)] > 0)


def test_empty_vs_nonempty_distance_is_cost_to_diagonal():
    dgm = [np.array([[0.0, 1.0], [0.0, 3.0]]), np.array([[1.0, 2.0]])]
    empty = [np.empty((0, 2)), np.empty((0, 2))]
    assert diagram_distance(dgm, empty, "bottleneck") == pytest.approx(1.5 + 0.5)
    expected = (1.0 + 3.0) / np.sqrt(2) + 1.0 / np.sqrt(2)
    assert diagram_distance(dgm, empty, "wasserstein") == pytest.approx(expected)


def test_parallel_distances_match_serial():
    models = _random_models(6, seed=3)
    serial = diagram_distance_matrix(models, "bottleneck")
    parallel = diagram_distance_matrix(models, "bottleneck", n_jobs=2)
    assert np.array_equal(serial, parallel)


def test_subsample_indices_seeded():
    a = subsample_indices(100, 10, seed=1)
    assert a.size == 10 and np.array_equal(a, np.sort(a)) and len(set(a)) == 10
    assert np.array_equal(a, subsample_indices(100, 10, seed=1))
    assert not np.array_equal(a, subsample_indices(100, 10, seed=2))
    assert np.array_equal(subsample_indices(5, 10), np.arange(5))
