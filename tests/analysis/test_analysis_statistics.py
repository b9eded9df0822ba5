import numpy as np
import pytest

from vbpipe.analysis.compare import compare_sets
from vbpipe.analysis.statistics import (
    STATISTIC_NAMES,
    aggregate,
    aggregate_statistics,
    eigenvalue_statistics,
    statistics_matrix,
)

ROOTS8 = np.exp(2j * np.pi * np.arange(8) / 8)


def test_there_are_21_statistics():
    assert len(STATISTIC_NAMES) == 21
    assert set(eigenvalue_statistics(ROOTS8)) == set(STATISTIC_NAMES)


def test_roots_of_unity_known_values():
    s = eigenvalue_statistics(ROOTS8)
    assert s["spectral_radius"] == pytest.approx(1.0)
    assert s["n_near_unit_circle"] == 8
    assert s["n_unstable"] == 0
    assert s["mag_mean"] == pytest.approx(1.0)
    assert s["mag_std"] == pytest.approx(0.0, abs=1e-12)
    assert s["mag_range"] == pytest.approx(0.0, abs=1e-12)
    assert s["mag_min"] == pytest.approx(1.0)
    assert s["mean_direction_cos"] == pytest.approx(0.0, abs=1e-12)
    assert s["mean_direction_sin"] == pytest.approx(0.0, abs=1e-12)
    assert s["real_mean"] == pytest.approx(0.0, abs=1e-12)
    assert s["imag_mean"] == pytest.approx(0.0, abs=1e-12)
    # Re and Im of the 8th roots: values {1, .707, 0, -.707, -1, ...}; variance 1/2 each
    assert s["real_std"] == pytest.approx(np.sqrt(0.5))
    assert s["imag_std"] == pytest.approx(np.sqrt(0.5))
    # angles -3pi/4 ... pi (np.angle maps -1 to +pi): range 7pi/4
    assert s["angle_range"] == pytest.approx(7 * np.pi / 4)
    assert isinstance(s["n_unstable"], int)


def test_unstable_and_near_unit_circle_counts():
    eig = np.array([1.2, 0.5j, -1.02, 0.97 * np.exp(1j), 0.2])
    s = eigenvalue_statistics(eig)
    assert s["n_unstable"] == 2
    assert s["n_near_unit_circle"] == 2  # 1.02 and 0.97
    assert s["spectral_radius"] == pytest.approx(1.2)


def test_re_im_pairs_are_accepted():
    pairs = np.column_stack([ROOTS8.real, ROOTS8.imag])
    assert eigenvalue_statistics(pairs) == eigenvalue_statistics(ROOTS8)


def test_empty_eigenvalues_raise():
    with pytest.raises(ValueError, match="empty"):
        eigenvalue_statistics(np.array([]))


def test_statistics_matrix_matches_dicts():
    eigs = [ROOTS8, 0.5 * ROOTS8[:4]]
    m = statistics_matrix(eigs)
    assert m.shape == (2, 21)
    j = STATISTIC_NAMES.index("spectral_radius")
    assert m[:, j] == pytest.approx([1.0, 0.5])


def test_aggregate_handles_nan_and_sem():
    a = aggregate([1.0, 3.0, np.nan], include_sem=True)
    assert a["mean"] == 2.0 and a["min"] == 1.0 and a["max"] == 3.0
    assert a["std"] == pytest.approx(1.0)
    assert a["sem"] == pytest.approx(np.sqrt(2.0) / np.sqrt(2.0))
    assert a["n"] == 2
    empty = aggregate([np.nan])
    assert all(np.isnan(v) for v in empty.values())


def test_aggregate_statistics_from_dicts_missing_key_is_nan():
    agg = aggregate_statistics([{"a": 1.0, "b": 2.0}, {"a": 3.0}])
    assert agg["a"]["mean"] == 2.0
    assert agg["b"]["mean"] == 2.0 and agg["b"]["std"] == 0.0


def test_compare_sets_orders_and_aggregates():
    sets = {"h128": [ROOTS8, ROOTS8], "h64": [0.5 * ROOTS8]}
    out = compare_sets(sets, {"h128": [0.9, None], "h64": [0.4]})
    assert [c["label"] for c in out] == ["h128", "h64"]
    assert out[0]["n_models"] == 2
    assert out[0]["statistics"]["spectral_radius"]["mean"] == pytest.approx(1.0)
    assert out[0]["statistics"]["spectral_radius"]["sem"] == pytest.approx(0.0)
    assert out[1]["statistics"]["mag_mean"]["mean"] == pytest.approx(0.5)
    assert np.isnan(out[1]["statistics"]["mag_mean"]["sem"])  # n = 1
    assert out[0]["accuracy"]["n"] == 1
