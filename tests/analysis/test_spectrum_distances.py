import numpy as np
import pytest
from scipy.spatial import procrustes as scipy_procrustes

from vbpipe.analysis.hausdorff import (
    directed_hausdorff,
    hausdorff_distance,
    hausdorff_distance_matrix,
)
from vbpipe.analysis.histogram_distances import (
    EPS,
    HISTOGRAM_METRICS,
    histogram_distance,
    histogram_distance_matrix,
)
from vbpipe.analysis.procrustes import (
    procrustes_disparity,
    procrustes_disparity_matrix,
    procrustes_to_reference,
    spectrum_points,
)

# ---------------------------------------------------------------- histogram distances


@pytest.mark.parametrize("metric", HISTOGRAM_METRICS)
def test_identical_histograms_are_at_zero(metric):
    h = np.array([3.0, 0.0, 5.0, 1.0])
    assert histogram_distance(h, 2 * h, metric) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("euclidean", np.sqrt(2.0)),
        ("manhattan", 2.0),
        ("chi2", 1.0),
        ("hellinger", 1.0),
        ("bhattacharyya", -np.log(EPS)),
        # smoothed p = (1+e, e)/(1+2e) against its mirror image: KL = 1/(1+2e) ln((1+e)/e)
        ("kl", np.log((1 + EPS) / EPS) / (1 + 2 * EPS)),
    ],
)
def test_disjoint_histograms_are_at_the_maximum(metric, expected):
    assert histogram_distance([4, 0], [0, 7], metric) == pytest.approx(expected, rel=1e-9)


def test_histogram_closed_forms():
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    kl_pq = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    kl_qp = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5)
    assert histogram_distance(p, q, "kl_directed") == pytest.approx(kl_pq, rel=1e-8)
    assert histogram_distance(q, p, "kl_directed") == pytest.approx(kl_qp, rel=1e-8)
    assert histogram_distance(p, q, "kl") == pytest.approx(0.5 * (kl_pq + kl_qp), rel=1e-8)
    # chi2 = 0.5 * (0.25^2/0.75 + 0.25^2/1.25)
    assert histogram_distance(p, q, "chi2") == pytest.approx(0.5 * (0.0625 / 0.75 + 0.0625 / 1.25))
    bc = np.sqrt(0.125) + np.sqrt(0.375)
    assert histogram_distance(p, q, "bhattacharyya") == pytest.approx(-np.log(bc))
    assert histogram_distance(p, q, "hellinger") == pytest.approx(np.sqrt(1 - bc))
    assert histogram_distance([1, 1], [1, 0], "bhattacharyya") == pytest.approx(0.5 * np.log(2))


def test_histogram_matrix_matches_pairs_and_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    h = rng.integers(0, 6, size=(9, 12)).astype(float)
    h[:, 0] += 1  # no empty row
    import vbpipe.analysis.histogram_distances as hd

    monkeypatch.setattr(hd, "_BLOCK_ELEMENTS", 30)  # force several row blocks
    for metric in HISTOGRAM_METRICS:
        d = histogram_distance_matrix(h, metric)
        pairs = np.array([[histogram_distance(a, b, metric) for b in h] for a in h])
        np.fill_diagonal(pairs, 0.0)
        np.testing.assert_allclose(d, pairs, rtol=1e-10, atol=1e-12)
        if metric != "kl_directed":
            assert np.array_equal(d, d.T)
    directed = histogram_distance_matrix(h, "kl_directed")
    assert not np.allclose(directed, directed.T)


def test_histogram_input_errors():
    with pytest.raises(ValueError, match="empty histogram"):
        histogram_distance_matrix([[1, 2], [0, 0]])
    with pytest.raises(ValueError, match="non-negative"):
        histogram_distance([1, -1], [1, 1])
    with pytest.raises(ValueError, match="unknown histogram metric"):
        histogram_distance_matrix([[1, 2], [2, 1]], "cosine")
    with pytest.raises(ValueError, match="different bin counts"):
        histogram_distance([1, 2], [1, 2, 3])


# ---------------------------------------------------------------- Hausdorff


def test_hausdorff_of_a_shifted_set_is_the_shift():
    rng = np.random.default_rng(1)
    z = rng.normal(size=30) + 1j * rng.normal(size=30)
    shift = 0.3 - 0.4j
    assert hausdorff_distance(z, z + shift) == pytest.approx(abs(shift))
    assert hausdorff_distance(z, z) == 0.0


def test_hausdorff_hand_example_and_asymmetry():
    a = [0.0, 1.0]
    b = [0.0, 1.0, 3.0 + 4.0j]  # one stray eigenvalue, at distance |3+4i - 1| from a
    assert directed_hausdorff(a, b) == 0.0
    assert directed_hausdorff(b, a) == pytest.approx(abs(2 + 4j))
    assert hausdorff_distance(a, b) == hausdorff_distance(b, a) == pytest.approx(np.sqrt(20))
    # ignores multiplicity
    assert hausdorff_distance([1j, 1j, -1j], [1j, -1j]) == 0.0


def test_hausdorff_matrix_with_unequal_sizes():
    sets = [np.array([0.0, 1.0]), np.array([0.0, 1.0, 3 + 4j]), np.array([2.0])]
    d = hausdorff_distance_matrix(sets)
    expected = np.array(
        [[0, np.sqrt(20), 2.0], [np.sqrt(20), 0, np.sqrt(17)], [2.0, np.sqrt(17), 0]]
    )
    np.testing.assert_allclose(d, expected)
    with pytest.raises(ValueError, match="non-empty"):
        hausdorff_distance_matrix([[], [1.0]])


# ---------------------------------------------------------------- Procrustes


def test_spectrum_points_order_and_top_k():
    z = np.array([0.1, 0.9j, -0.9j, -0.5, 0.95])
    pts = spectrum_points(z)
    np.testing.assert_allclose(pts[:, 0] + 1j * pts[:, 1], [0.95, 0.9j, -0.9j, -0.5, 0.1])
    assert spectrum_points(z, k=2).shape == (2, 2)
    with pytest.raises(ValueError, match="k = 6"):
        spectrum_points(z, k=6)


def test_procrustes_zero_for_a_rotated_scaled_copy():
    rng = np.random.default_rng(2)
    z = rng.normal(size=16) + 1j * rng.normal(size=16)
    # a rotation and a scaling about the origin keep the magnitude order, hence the pairing
    copy = 2.5 * np.exp(0.7j) * z
    assert procrustes_disparity(z, copy) == pytest.approx(0.0, abs=1e-12)
    assert procrustes_disparity(z, np.conj(z)) == pytest.approx(0.0, abs=1e-12)  # reflection
    assert procrustes_disparity(z, rng.normal(size=16) + 1j * rng.normal(size=16)) > 0.05


def test_procrustes_matrix_agrees_with_scipy():
    rng = np.random.default_rng(3)
    sets = [rng.normal(size=12) + 1j * rng.normal(size=12) for _ in range(5)]
    d = procrustes_disparity_matrix(sets)
    for i in range(5):
        for j in range(5):
            expected = scipy_procrustes(spectrum_points(sets[i]), spectrum_points(sets[j]))[2]
            assert d[i, j] == pytest.approx(expected, abs=1e-12)
    assert np.array_equal(d, d.T) and np.all(np.diag(d) == 0)


def test_procrustes_unequal_counts_use_the_top_k():
    rng = np.random.default_rng(4)
    big = rng.normal(size=10) + 1j * rng.normal(size=10)
    small = spectrum_points(big, 6)  # the 6 largest, as points
    small = small[:, 0] + 1j * small[:, 1]
    # the extra 4 small-magnitude eigenvalues are ignored: k = 6
    assert procrustes_disparity(big, 3.0 * small) == pytest.approx(0.0, abs=1e-12)
    d = procrustes_disparity_matrix([big, small, np.exp(1j) * big])
    np.testing.assert_allclose(d, 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="exceeds"):
        procrustes_disparity_matrix([big, small], k=8)


def test_procrustes_to_reference_and_degenerate_spectrum():
    # repeat-copy Φ (L = 4): the 4th roots of unity; a model whose top-4 spectrum is a scaled
    # copy of them plus small eigenvalues has disparity 0, a collapsed one has 1
    roots = np.exp(2j * np.pi * np.arange(4) / 4)
    good = np.concatenate([0.98 * roots * np.exp(0.1j), [0.1, -0.05]])
    line = np.array([0.99, 0.98, 0.97, 0.96, 0.1])  # four real eigenvalues on a line
    d = procrustes_to_reference([good, line], roots)
    assert d[0] == pytest.approx(0.0, abs=1e-12)
    # a line (rank-1 configuration) against a square: 1 - (σ1 of the cross product)² = 0.5
    assert d[1] == pytest.approx(0.5, abs=1e-6)
    flat = procrustes_disparity_matrix([np.full(4, 0.5), roots, 2 * roots])
    assert np.isnan(flat[0]).all() and flat[1, 2] == pytest.approx(0.0, abs=1e-12)


def _copy_task_spectrum(rng, lags: int = 8, dims: int = 8) -> np.ndarray:
    """Like a trained repeat-copy model: each L-th root of unity d times (|λ| ≈ 0.99, jittered by
    1e-3), plus 64 eigenvalues inside the disc of radius 0.5."""
    roots = np.repeat(np.exp(2j * np.pi * np.arange(lags) / lags), dims)
    jitter = (0.99 + rng.normal(0, 1e-3, roots.size)) * np.exp(1j * rng.normal(0, 1e-3, roots.size))
    small = 0.5 * rng.uniform(size=64) * np.exp(2j * np.pi * rng.uniform(size=64))
    return np.concatenate([roots * jitter, small])


def test_matched_pairing_sees_equal_copy_spectra_as_equal():
    rng = np.random.default_rng(5)
    models = [_copy_task_spectrum(rng) for _ in range(4)]
    by_magnitude = procrustes_disparity_matrix(models, k=64)
    matched = procrustes_disparity_matrix(models, k=64, pairing="matched")
    off = ~np.eye(4, dtype=bool)
    # the magnitude order pairs the 64 unit-circle eigenvalues arbitrarily ...
    assert by_magnitude[off].min() > 0.5
    # ... the matched pairing finds the shared structure (disparity of order jitter²)
    assert matched[off].max() < 1e-4
    assert (matched <= by_magnitude + 1e-12).all()
    roots = np.repeat(np.exp(2j * np.pi * np.arange(8) / 8), 8)
    assert procrustes_to_reference(models, roots, pairing="matched").max() < 1e-4
    assert procrustes_to_reference(models, roots).min() > 0.5


def test_matched_pairing_is_zero_for_a_permuted_shifted_copy():
    rng = np.random.default_rng(6)
    z = rng.normal(size=20) + 1j * rng.normal(size=20)
    shifted = z + 0.5  # a shift reorders the magnitudes: the magnitude pairing breaks
    assert procrustes_disparity(z, shifted) > 0.1
    assert procrustes_disparity(z, shifted, pairing="matched") == pytest.approx(0.0, abs=1e-12)
    copy = (1.7 * np.exp(-1.1j) * np.conj(z))[rng.permutation(20)]
    assert procrustes_disparity(z, copy, pairing="matched") == pytest.approx(0.0, abs=1e-12)
    flat = procrustes_disparity_matrix([np.full(3, 0.2), z[:3], z[:3] * 1j], pairing="matched")
    assert np.isnan(flat[0]).all() and flat[1, 2] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="unknown pairing"):
        procrustes_disparity(z, z, pairing="angle")
