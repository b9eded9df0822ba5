"""The paper's spectral error (greedy matching, count match) on hand-built spectra with known answers."""

import numpy as np
import pytest

from vbpipe.evaluation.paper_spectral_rule import (
    greedy_angle_matching,
    paper_rule_errors,
    paper_spectral_error,
)
from vbpipe.evaluation.spectra import eigenvalues, spectral_comparison


def polar(magnitude, angle):
    return magnitude * np.exp(1j * np.asarray(angle, dtype=float))


# A (in order): 1.0 at +0.1 rad, then 0.95 at -0.1 rad; B: 1 at 0, 1 at 0.25 rad.
# Greedy: +0.1 takes 0 (0.1 < 0.15), -0.1 is left with 0.25 (0.35): mean 0.225.
# Hungarian: +0.1 -> 0.25 (0.15), -0.1 -> 0 (0.1): mean 0.125.
A = polar(np.array([1.0, 0.95]), [0.1, -0.1])
B = polar(np.ones(2), [0.0, 0.25])


def test_greedy_and_hungarian_differ_on_a_known_case():
    assert greedy_angle_matching(A, B) == pytest.approx([0.1, 0.35])
    assert paper_spectral_error(A, B) == pytest.approx(0.225)
    assert spectral_comparison(A, B).error_rad == pytest.approx(0.125)


def test_greedy_follows_the_order_of_the_rnn_spectrum():
    # the other order: -0.1 first takes 0 (0.1), +0.1 takes 0.25 (0.15): the optimum here
    assert paper_spectral_error(A[::-1], B) == pytest.approx(0.125)
    # evaluation's stored order (decreasing |λ|, then angle) puts 1.0 at +0.1 first: 0.225
    assert paper_spectral_error(eigenvalues_sorted(A[::-1]), B) == pytest.approx(0.225)


def test_count_mismatch_gives_nan_and_hungarian_does_not():
    extra = np.concatenate([A, [polar(0.99, 2.0)]])  # one more unit-circle eigenvalue
    assert np.isnan(paper_spectral_error(extra, B))
    assert np.isnan(paper_spectral_error(A[:1], B))  # one fewer
    assert spectral_comparison(extra, B).error_rad is not None
    # eigenvalues inside the threshold do not count: adding 0.5 and 0.89 changes nothing
    inside = np.concatenate([A, polar(np.array([0.5, 0.89]), [1.0, 2.0])])
    assert paper_spectral_error(inside, B) == pytest.approx(0.225)
    # nothing on either unit circle: no error (the original's mean of nothing)
    assert np.isnan(paper_spectral_error(polar(np.array([0.3]), [0.0]), np.zeros(3)))


def test_a_rotated_copy_spectrum_has_the_rotation_as_error():
    # repeat copy d=2, L=4: Φ's eigenvalues are the 4th roots of unity, each twice; a model with the
    # same spectrum rotated by 0.01 rad has error 0.01 under both rules
    theory = np.repeat(np.exp(2j * np.pi * np.arange(4) / 4), 2)
    # a real matrix with that spectrum: 2x2 rotation blocks by ±(kπ/2 + 0.01), scaled by 0.999
    blocks = [0.999 * rotation(k * np.pi / 2 + 0.01) for k in range(4)]
    w_hh = np.block(
        [[blocks[i] if i == j else np.zeros((2, 2)) for j in range(4)] for i in range(4)]
    )
    rnn = eigenvalues(w_hh)  # evaluation's order
    assert paper_spectral_error(rnn, theory) == pytest.approx(0.01)
    assert spectral_comparison(rnn, theory).error_rad == pytest.approx(0.01)
    assert paper_spectral_error(theory, theory) == pytest.approx(0.0, abs=1e-15)


def eigenvalues_sorted(eig):
    """evaluation.spectra.eigenvalues' order (decreasing |λ|, then increasing angle)."""
    order = np.lexsort((np.angle(eig), -np.abs(eig)))
    return eig[order]


def rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def test_greedy_is_never_below_the_optimum():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(1, 9))
        a, b = (
            polar(np.ones(n), rng.uniform(-np.pi, np.pi, n)),
            polar(np.ones(n), rng.uniform(-np.pi, np.pi, n)),
        )
        assert paper_spectral_error(a, b) >= spectral_comparison(a, b).error_rad - 1e-12


def test_paper_rule_errors_per_row():
    out = paper_rule_errors([A, None, A[:1]], [B, B, B])
    assert out[0] == pytest.approx(0.225) and np.isnan(out[1]) and np.isnan(out[2])
    with pytest.raises(ValueError, match="2 W_hh spectra but 1 theory"):
        paper_rule_errors([A, A], [B])
    with pytest.raises(ValueError, match="len\\(a\\) <= len\\(b\\)"):
        greedy_angle_matching(B, B[:1])
