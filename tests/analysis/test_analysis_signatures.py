import numpy as np
import pytest

from vbpipe.analysis.signatures import (
    compute_signatures,
    histogram_signature,
    signature_feature_names,
    standardize,
)


def test_histogram_counts_every_eigenvalue():
    eig = np.array([0.1, -0.5, 0.9j, 1.5 * np.exp(0.3j), 3.0, -2.5j])  # two with |l| >= 2
    h = histogram_signature(eig)
    assert h.shape == (56,)
    assert h[:36].sum() == eig.size
    assert h[36:].sum() == eig.size
    assert h[-1] == 2  # |l| >= 2 counted in the last magnitude bin
    assert h[0] == 2  # arg 0 (0.1 and 3.0)
    assert h[35] == 1  # |arg(-0.5)| = pi goes into the last angle bin


def test_combined_extras():
    eig = np.array([1.55, 1.55, 0.25, 0.25j])
    sig = compute_signatures([eig], "combined")[0]
    names = signature_feature_names("combined")
    assert sig.shape == (63,) and len(names) == 63
    extras = dict(zip(names[56:], sig[56:], strict=True))
    assert extras["n_mag_above_1"] == 2
    assert extras["mag_mode_bin"] == 2  # 0.25 -> bin 2, 1.55 -> bin 15; ties: first bin
    assert extras["mag_weighted_mean"] == pytest.approx(0.5 * (0.25 + 1.55))  # bin centres
    assert extras["mag_weighted_std"] == pytest.approx(0.65)
    assert extras["angle_mode_bin"] == 0


def test_signature_shapes_and_unknown_type():
    eigs = [np.exp(1j * np.linspace(0, 3, 10)), 0.5 * np.ones(4)]
    assert compute_signatures(eigs, "statistics").shape == (2, 21)
    assert compute_signatures(eigs, "histogram").shape == (2, 56)
    with pytest.raises(ValueError, match="unknown signature type"):
        compute_signatures(eigs, "nope")


def test_standardize_constant_column_is_zero_not_nan():
    x = np.array([[1.0, 5.0, 0.0], [3.0, 5.0, 2.0], [5.0, 5.0, 4.0]])
    z = standardize(x)
    assert np.all(np.isfinite(z))
    assert np.allclose(z[:, 1], 0.0)
    assert np.allclose(z.mean(axis=0), 0.0)
    assert np.allclose(z[:, 0].std(), 1.0)
