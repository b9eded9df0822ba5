import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.optimize import brentq

from vbpipe.analysis.fixed_point_figures import (
    STABILITY_COLORS,
    plot_fixed_point_counts,
    plot_fixed_points,
)
from vbpipe.analysis.fixed_points import (
    _objective,
    find_fixed_points,
    fixed_point_summary,
    jacobian,
    sample_starts,
    speed,
)


def _grid_starts(n: int = 7) -> np.ndarray:
    g = np.linspace(-1.0, 1.0, n)
    return np.array([[x, y] for x in g for y in g])


def _rotation(theta: float) -> np.ndarray:
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def test_speed_and_jacobian_closed_forms():
    w = np.array([[0.5, -1.0], [2.0, 0.3]])
    h = np.array([0.2, -0.4])
    t = np.tanh(w @ h)
    assert speed(w, h) == pytest.approx(0.5 * np.sum((t - h) ** 2))
    np.testing.assert_allclose(speed(w, np.stack([h, 2 * h])), [speed(w, h), speed(w, 2 * h)])
    np.testing.assert_allclose(jacobian(w, h), np.diag(1 - t**2) @ w)
    np.testing.assert_allclose(jacobian(w, np.zeros(2)), w)  # at the origin J = W_hh


def test_gradient_and_hessian_match_finite_differences():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 5))
    h = rng.normal(size=5) * 0.3
    fun, hess = _objective(w)
    q, grad = fun(h)
    step = 1e-6
    eye = np.eye(5)
    fd_grad = np.array([(fun(h + step * e)[0] - fun(h - step * e)[0]) / (2 * step) for e in eye])
    fd_hess = np.array([(fun(h + step * e)[1] - fun(h - step * e)[1]) / (2 * step) for e in eye])
    np.testing.assert_allclose(grad, fd_grad, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(hess(h), fd_hess, rtol=1e-5, atol=1e-7)


def test_contraction_has_only_the_stable_origin():
    a = 0.7
    result = find_fixed_points(a * np.eye(3), np.random.default_rng(1).uniform(-1, 1, (20, 3)))
    assert len(result) == 1 and result.kind[0] == "fixed"
    np.testing.assert_allclose(result.points[0], 0.0, atol=1e-10)
    assert result.spectral_radius[0] == pytest.approx(a)
    assert result.stability[0] == "stable"
    summary = fixed_point_summary(result)
    assert summary["n_fixed"] == summary["n_fixed_stable"] == 1 and summary["n_slow"] == 0
    assert summary["origin_stability"] == "stable"
    assert summary["origin_spectral_radius"] == pytest.approx(a)


def test_expansion_has_the_symmetric_fixed_points_of_tanh_ax():
    a = 2.0
    x_star = brentq(lambda x: np.tanh(a * x) - x, 0.1, 1.0)  # 0.957504...
    result = find_fixed_points(a * np.eye(2), _grid_starts())
    assert len(result) == 9 and (result.kind == "fixed").all()
    # every coordinate is 0 or ±x*, and all 9 combinations appear
    expected = {(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)}
    found = {tuple(int(v) for v in np.rint(p / x_star)) for p in result.points}
    assert found == expected
    np.testing.assert_allclose(np.abs(result.points[np.abs(result.points) > 0.5]), x_star)
    # stability: corners stable (slope a(1 - x*²) < 1 per dimension), the rest unstable
    corners = np.all(np.abs(result.points) > 0.5, axis=1)
    assert (result.stability[corners] == "stable").all() and corners.sum() == 4
    assert (result.stability[~corners] == "unstable").all()
    np.testing.assert_allclose(result.spectral_radius[corners], a * (1 - x_star**2), rtol=1e-8)
    summary = fixed_point_summary(result)
    assert (summary["n_fixed_stable"], summary["n_fixed_unstable"]) == (4, 5)
    assert summary["origin_stability"] == "unstable"
    assert summary["max_q_fixed"] < 1e-20


def test_rotation_origin_is_the_only_and_neutral_fixed_point():
    w = np.zeros((4, 4))
    w[:2, :2], w[2:, 2:] = _rotation(0.5), _rotation(np.pi / 4)
    result = find_fixed_points(w, np.random.default_rng(2).uniform(-1, 1, (16, 4)))
    fixed = result.kind == "fixed"
    assert fixed.sum() == 1
    np.testing.assert_allclose(result.points[fixed][0], 0.0, atol=1e-10)
    assert result.spectral_radius[fixed][0] == pytest.approx(1.0)
    assert result.stability[fixed][0] == "marginal"


def test_slow_points_of_a_rotating_expansion():
    # 3 R(0.4): the fixed points of 3 I have vanished; four slow points ("ghosts") remain,
    # mapped onto each other by the 90-degree symmetry of the map
    w = 3.0 * _rotation(0.4)
    result = find_fixed_points(w, _grid_starts(), slow_tol=1e-3)
    slow = result.points[result.kind == "slow"]
    assert (result.kind == "fixed").sum() == 1 and len(slow) == 4
    q = result.q[result.kind == "slow"]
    assert ((q > 1e-14) & (q < 1e-3)).all()
    quarter = _rotation(np.pi / 2)
    for p in slow:
        assert np.min(np.linalg.norm(slow - quarter @ p, axis=1)) < 1e-6
    fun, hess = _objective(w)
    for p in slow:
        assert np.linalg.norm(fun(p)[1]) < 1e-9  # a critical point of q ...
        assert np.linalg.eigvalsh(hess(p)).min() > -1e-9  # ... and a minimum
        # grad q = (J - I)ᵀ F = 0 with F != 0: the Jacobian has an eigenvalue exactly 1
        eig = np.linalg.eigvals(jacobian(w, p))
        assert np.min(np.abs(eig - 1.0)) < 1e-6
    # with the default slow_tol they are not slow enough to count
    assert len(find_fixed_points(w, _grid_starts())) == 1


def test_random_network_points_come_in_plus_minus_pairs_and_are_deterministic():
    rng = np.random.default_rng(3)
    n = 12
    w = 1.6 * rng.normal(size=(n, n)) / np.sqrt(n)
    traj = np.empty((100, n))
    h = 0.5 * rng.normal(size=n)
    for t in range(100):
        h = np.tanh(w @ h)
        traj[t] = h
    starts = sample_starts(traj, 24, seed=4)
    result = find_fixed_points(w, np.vstack([starts, -starts]))
    assert len(result) == 3 and (result.kind == "fixed").all()  # the origin and a ± pair
    assert np.any(np.linalg.norm(result.points, axis=1) < 1e-10)
    for p in result.points:  # h -> tanh(W h) is odd: -p is a point too
        assert np.min(np.linalg.norm(result.points + p, axis=1)) < 2e-3
    again = find_fixed_points(w, np.vstack([starts, -starts]))
    np.testing.assert_array_equal(result.points, again.points)
    assert result.n_starts == 49  # 48 starts plus the origin
    # Jacobian eigenvalues are sorted by magnitude and give the spectral radius
    mags = np.abs(result.jacobian_eigenvalues)
    assert (np.diff(mags, axis=1) <= 1e-12).all()
    np.testing.assert_allclose(mags[:, 0], result.spectral_radius)


def test_sample_starts():
    traj = np.arange(30.0).reshape(10, 3)
    exact = sample_starts(traj, 5, noise=0.0, seed=0)
    assert exact.shape == (5, 3)
    assert all(any(np.array_equal(row, t) for t in traj) for row in exact)
    assert len({tuple(r) for r in exact}) == 5  # without replacement
    np.testing.assert_array_equal(sample_starts(traj, 5, seed=7), sample_starts(traj, 5, seed=7))
    assert sample_starts(traj, 25, noise=0.0).shape == (25, 3)  # with replacement
    with pytest.raises(ValueError, match="trajectory"):
        sample_starts(np.zeros(3), 2)


def test_dedup_and_input_checks():
    starts = np.tile([[0.9, 0.9]], (6, 1)) + 1e-6 * np.arange(6)[:, None]
    result = find_fixed_points(2 * np.eye(2), starts)
    assert len(result) == 2  # the origin and one corner
    assert result.n_converged == 7
    with pytest.raises(ValueError, match="square"):
        find_fixed_points(np.zeros((2, 3)), starts)
    with pytest.raises(ValueError, match="dimensions"):
        find_fixed_points(np.eye(3), starts)


def test_fixed_point_figures():
    result = find_fixed_points(3.0 * _rotation(0.4), _grid_starts(), slow_tol=1e-3)
    traj = np.empty((40, 2))
    h = np.array([0.3, 0.1])
    for t in range(40):
        h = np.tanh(3.0 * _rotation(0.4) @ h)
        traj[t] = h
    fig = plot_fixed_points(result, traj)
    assert isinstance(fig, Figure)
    ax_pc, ax_eig = fig.axes[:2]
    # trajectory dots, then one collection per (kind, stability) present: fixed/unstable, slow/marginal
    assert len(ax_pc.collections) == 3
    assert "4 slow" in fig._suptitle.get_text()
    assert "trajectory" in ax_pc.get_xlabel()
    assert len(ax_eig.collections) == 2

    rows = []
    for variant, res in (("A", result), ("B", find_fixed_points(2 * np.eye(2), _grid_starts()))):
        for _ in range(3):
            rows.append({**fixed_point_summary(res), "variant": variant})
    fig = plot_fixed_point_counts(pd.DataFrame(rows))
    ax_fixed, ax_slow = fig.axes[:2]
    heights = {(p.get_x(), tuple(p.get_facecolor()[:3])): p.get_height() for p in ax_fixed.patches}
    stable_b = [h for (x, c), h in heights.items() if x > 0.5 and c == _rgb("stable")]
    assert stable_b == [4.0]
    slow_heights = [p.get_height() for p in ax_slow.patches]
    assert max(slow_heights) == 4.0  # variant A: four marginal slow points per model


def _rgb(label):
    from matplotlib.colors import to_rgb

    return tuple(to_rgb(STABILITY_COLORS[label]))
