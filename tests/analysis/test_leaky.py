"""The leaky circuit's margins, exact accuracy and float32 dynamic range, on known answers."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.input_phase import DIAG4

from vbpipe.analysis.leaky import (
    SMALLEST_SUBNORMAL,
    exact_accuracy,
    float64_outputs,
    naive_kernel,
    predicted_loss_step,
    relative_margins,
    rounding_floor,
    simulated_accuracy,
    target_lags,
)
from vbpipe.analysis.linear_limits import (
    expected_bit_accuracy,
    linear_model_coefficients,
    target_coefficients,
)
from vbpipe.circuits import leaky_circuit, naive_circuit
from vbpipe.evaluation.accuracy import evaluate_accuracy
from vbpipe.taskspec import PAPER_TASKS, Task, repeat_copy_id

T1, T2 = PAPER_TASKS["T1"], PAPER_TASKS["T2"]


def test_naive_kernel_is_signed_selection_and_copy_lags():
    kernel = naive_kernel(T2, 8, 8, 30)
    assert set(np.unique(kernel)) <= {-1.0, 0.0, 1.0}
    assert np.all(np.abs(kernel).sum(axis=2) <= 1)  # every row a signed one-hot (or zero)
    # repeat copy, L = 8: output step k copies u_{k mod 8}, at lag 8 + k − (k mod 8)
    k = np.arange(40)
    np.testing.assert_array_equal(target_lags(T1, 8, 8, 40)[:, 0], 8 + k - k % 8)


@pytest.mark.parametrize("scale", [0.3, 0.45, 0.5, 0.55, 0.8])
def test_relative_margins_closed_forms(scale):
    """Copy has no contaminants: ρ = 1 at every scale. T2's output 7 reads the newest slot, which
    (naive circuit) sums all 8 inputs of dimension 7: ρ = 1 − (s + s² + ... + s⁷) at every step."""
    np.testing.assert_allclose(relative_margins(T1, 8, 8, 50, scale), 1.0)
    rho = relative_margins(T2, 8, 8, 50, scale)
    np.testing.assert_allclose(rho[:, 7], 1 - sum(scale**m for m in range(1, 8)), rtol=1e-12)
    # s = 0.5: ρ = 2^-7 > 0 (every sign right); s = 0.55: negative (some sign wrong)
    assert (rho.min() > 0) == (scale <= 0.5)
    assert (exact_accuracy(T2, 8, 8, 50, scale).min() == 1.0) == (scale <= 0.5)


def test_exact_accuracy_is_that_of_the_circuit_linearised():
    """In the linear limit the leaky circuit's coefficients are s^τ times the naive ones: its
    accuracy from :func:`linear_model_coefficients` of the built weights (float64, no underflow at
    this horizon) equals :func:`exact_accuracy`; at s = 1 both are the naive circuit's."""
    for task_id, scale in ((DIAG4, 0.6), (DIAG4, 1.0), (repeat_copy_id(4), 0.3)):
        weights = leaky_circuit(task_id, 4, 4, 16, scale=scale)
        coef = linear_model_coefficients(weights, 4, 4, 24)
        built = expected_bit_accuracy(coef, target_coefficients(task_id, 4, 4, 24))
        np.testing.assert_allclose(exact_accuracy(task_id, 4, 4, 24, scale), built)
    naive = linear_model_coefficients(naive_circuit(DIAG4, 4, 4, 16), 4, 4, 24)
    np.testing.assert_allclose(
        exact_accuracy(DIAG4, 4, 4, 24, 1.0),
        expected_bit_accuracy(naive, target_coefficients(DIAG4, 4, 4, 24)),
    )


def test_predicted_loss_step_closed_form_for_copy():
    """Copy (ρ = 1): the bound is the first k with ε s^{8 + k − k mod 8} <= (N + 1) √N 2^-150 /
    (1 − s)."""
    eps, n = 1e-3, 64
    for scale in (0.3, 0.45, 0.6):
        floor = (n + 1) * np.sqrt(n) * 2.0**-150 / (1 - scale)
        assert rounding_floor("float32", n, scale, 500) == pytest.approx(floor)
        k = np.arange(500)
        expected = int(np.argmax(eps * scale ** (8 + k - k % 8) <= floor))
        assert predicted_loss_step(T1, 8, 8, 500, scale, eps, n) == expected
    assert predicted_loss_step(T1, 8, 8, 200, 0.45, eps, n, "float64") is None
    assert predicted_loss_step(T2, 8, 8, 200, 0.6, eps, n) == 0  # wrong in exact arithmetic
    assert SMALLEST_SUBNORMAL["float32"] == np.finfo(np.float32).smallest_subnormal


def test_float32_loses_the_sign_no_earlier_than_the_bound_and_float64_keeps_it():
    """The issue's claim: the leaky circuit at s = 0.45 scores 1.0 on T2 at horizon 200 in
    float64. In float32 (the evaluation's own forward pass) it loses signs, never before the
    predicted bound, and every output is 0 (read as +1) once the state has underflowed."""
    task = Task(T2, 8, 8)
    weights = leaky_circuit(T2, 8, 8, 64, scale=0.45, seed=2)
    f64 = simulated_accuracy(task, weights, 2, 200, 2, 64, "float64")
    assert f64.min() == 1.0
    f32 = simulated_accuracy(task, weights, 2, 200, 2, 64, "float32")
    np.testing.assert_array_equal(f32, evaluate_accuracy(task, weights, 2, 8, 200, 2, 64).per_step)
    first_wrong = int(np.flatnonzero(f32 < 1)[0])
    assert first_wrong >= predicted_loss_step(T2, 8, 8, 200, 0.45, 1e-3, 64)
    assert 0.4 < f32[-1] < 0.6  # sign(0) = +1 on balanced targets


def test_float64_outputs_match_the_float32_evaluation_where_both_are_exact():
    task = Task(T1, 8, 8)
    weights = naive_circuit(T1, 8, 8, 64, seed=1)
    assert simulated_accuracy(task, weights, 1, 60, 1, 32, "float64").min() == 1.0
    x = np.zeros((9, 3, 8))
    x[:8] = np.random.default_rng(0).choice((-1.0, 1.0), size=(8, 3, 8))
    out = float64_outputs(weights, x, 5)
    np.testing.assert_allclose(out[0], x[0], atol=1e-5)  # step 0 of copy repeats u_0
    with pytest.raises(ValueError, match="float32 or float64"):
        simulated_accuracy(task, weights, 1, 10, 1, 8, "float16")
