"""The LTI obstruction: witnesses, the MSE-optimal filter, exact bit accuracies, margins."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.input_phase import DIAG4, DIAG4_SIGNED, accuracy, all_inputs, simulate

from vbpipe.analysis.linear_limits import (
    expected_bit_accuracy,
    filter_coefficients,
    linear_model_coefficients,
    lti_witness,
    optimal_lti_filter,
    target_coefficients,
    worst_case_margins,
)
from vbpipe.circuits import naive_circuit
from vbpipe.taskspec import PAPER_TASKS, repeat_copy_id

COPY4 = repeat_copy_id(4)


@pytest.mark.parametrize("task_id", [DIAG4, DIAG4_SIGNED, COPY4])
def test_target_coefficients_follow_the_recursion(rng, task_id):
    u = rng.choice((-1.0, 1.0), size=(4, 30, 4))
    coef = target_coefficients(task_id, 4, 4, 25)
    predicted = np.einsum("kjsi,sbi->kbj", coef, u)
    _, targets = simulate(naive_circuit(task_id, 4, 4, 16), task_id, 4, 4, u, 25)
    np.testing.assert_array_equal(predicted, targets)
    assert set(np.unique(coef)) <= {-1.0, 0.0, 1.0}
    assert np.all(np.sum(coef != 0, axis=(2, 3)) == 1)  # every output is one signed input bit


def test_witness_none_for_fixed_length_copy():
    assert lti_witness(COPY4, 4, 4, 60) is None
    assert lti_witness(PAPER_TASKS["T1"], 8, 8, 40) is None


@pytest.mark.parametrize(
    "task_id, d, lengths",
    [
        (DIAG4, 4, 4),
        (DIAG4_SIGNED, 4, 4),
        (PAPER_TASKS["T2"], 8, 8),
        (PAPER_TASKS["T4"], 8, 8),
        (COPY4, 4, (3, 4, 5)),
    ],
)
def test_witness_is_a_genuine_contradiction(task_id, d, lengths):
    witness = lti_witness(task_id, d, lengths, 30)
    assert witness is not None
    (l1, t1, s1, c1), (l2, t2, s2, c2) = witness["occurrences"]
    assert t1 - s1 == t2 - s2 == witness["lag"] and c1 != c2
    for length, t, s, c in witness["occurrences"]:
        coef = target_coefficients(task_id, d, length, 30)
        assert coef[t - length, witness["j"], s, witness["i"]] == c


def test_variable_length_copy_witness_is_the_period_clash():
    """u_0 must reappear at lag L for every L: at lag 4 it is read for L = 4, not for L = 3."""
    witness = lti_witness(COPY4, 4, (3, 4, 5), 20)
    assert witness["lag"] == 4 and sorted(o[0] for o in witness["occurrences"]) == [3, 4]


def test_optimal_filter_is_exact_when_no_witness():
    kernel = optimal_lti_filter(COPY4, 4, 4, 40)
    for lag in range(1, kernel.shape[0]):
        np.testing.assert_array_equal(kernel[lag], np.eye(4) if lag % 4 == 0 else 0.0)
    acc = expected_bit_accuracy(
        filter_coefficients(kernel, 4, 40), target_coefficients(COPY4, 4, 4, 40)
    )
    assert np.all(acc == 1.0)


def _mse(kernel, task_id, d, lengths, horizon):
    return sum(
        np.sum(
            (filter_coefficients(kernel, L, horizon) - target_coefficients(task_id, d, L, horizon))
            ** 2
        )
        for L in lengths
    )


def test_optimal_filter_minimises_the_mse(rng):
    lengths, horizon = (3, 4, 5), 20
    kernel = optimal_lti_filter(COPY4, 4, lengths, horizon)
    best = _mse(kernel, COPY4, 4, lengths, horizon)
    for _ in range(5):
        other = kernel + 0.05 * rng.standard_normal(kernel.shape)
        assert _mse(other, COPY4, 4, lengths, horizon) > best
    acc = {
        L: expected_bit_accuracy(
            filter_coefficients(kernel, L, horizon), target_coefficients(COPY4, 4, L, horizon)
        ).mean()
        for L in lengths
    }
    assert all(0.6 < a < 0.95 for a in acc.values())  # no LTI solves variable-length copy


def test_expected_bit_accuracy_known_cases():
    target = np.zeros((1, 1, 2, 1))
    target[0, 0, 0, 0] = 1.0  # y = u_0
    pred = np.zeros((1, 1, 2, 1))
    pred[0, 0, :, 0] = (2.0, 1.0)  # 2 u_0 + u_1: always right
    assert expected_bit_accuracy(pred, target)[0, 0] == 1.0
    pred[0, 0, :, 0] = (1.0, 1.0)  # u_0 + u_1: ties give +1, right 3 times in 4
    assert expected_bit_accuracy(pred, target)[0, 0] == 0.75
    pred[0, 0, :, 0] = (-1.0, 0.5)  # wrong sign: always wrong
    assert expected_bit_accuracy(pred, target)[0, 0] == 0.0
    assert worst_case_margins(np.array([[[2.0, 1.0]]]).reshape(1, 1, 2, 1), target)[0, 0] == 1.0


def test_monte_carlo_agrees_with_enumeration(rng):
    pred = rng.standard_normal((3, 2, 5, 2))
    target = np.zeros_like(pred)
    target[:, 0, 1, 0] = 1.0
    target[:, 1, 3, 1] = -1.0
    exact = expected_bit_accuracy(pred, target)
    sampled = expected_bit_accuracy(pred, target, max_exact=0, n_samples=1 << 16, seed=1)
    np.testing.assert_allclose(sampled, exact, atol=0.01)


def test_naive_circuit_accuracy_is_its_linearisation():
    """d = 2, L = 3: all 64 input phases, so means over them are exact expectations. The circuit
    is its linearisation up to O(ε²); only exact ties (a linear output of 0) are decided by tanh's
    curvature instead of the sign(0) = +1 convention."""
    task_id = (0b100100, 0, 0)  # d=2, L=3: output 0 reads (slot 1, dim 0), output 1 (slot 2, dim 1)
    w = naive_circuit(task_id, 2, 3, 10, seed=3)
    u = all_inputs(3, 2)
    out, targets = simulate(w, task_id, 2, 3, u, 30)
    coef = linear_model_coefficients(w, 2, 3, 30)
    linear = np.einsum("kjsi,sbi->kbj", coef, u)
    np.testing.assert_allclose(linear, out, rtol=1e-3, atol=2e-4)
    ties = np.abs(linear) < 1e-9
    assert np.all(np.sign(linear[~ties]) == np.sign(out[~ties]))
    exact = expected_bit_accuracy(coef, target_coefficients(task_id, 2, 3, 30)).mean()
    assert abs(accuracy(out, targets) - exact) <= ties.mean() + 1e-12
    assert exact < 1.0


def test_margins_telescope_for_any_lti(rng):
    """The margin proposition: along t = n p the worst-case margins of output j of the diagonal
    task sum to at most |K(p)_jj|, for any LTI system (here random stable ones)."""
    d = length = 4
    j, p = 1, 3  # output 1 copies y_{t-3}[1]
    target = target_coefficients(DIAG4, d, length, 120)
    for _ in range(5):
        n = 12
        a = rng.standard_normal((n, n))
        a *= 1.02 / np.max(np.abs(np.linalg.eigvals(a)))  # slightly unstable is allowed too
        w = {"W_hh": a, "W_ih": rng.standard_normal((n, d)), "W_r": rng.standard_normal((d, n))}
        coef = linear_model_coefficients(w, d, length, 120)
        margins = worst_case_margins(coef, target)
        steps = [m * p for m in range(2, 40) if length <= m * p < length + 120]
        kernel = w["W_r"] @ np.linalg.matrix_power(a, p) @ w["W_ih"]
        assert np.sum(margins[[t - length for t in steps], j]) <= abs(kernel[j, j]) + 1e-9
