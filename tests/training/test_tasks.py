"""Task ids, operators and batches: the reference's worked examples and properties over random ids."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vbpipe.tasks import (
    PAPER_TASKS,
    Task,
    TaskIdError,
    build_batch,
    decode_task_id,
    generate_batch,
    make_generator,
    parse_task_id,
    recursive_targets,
    selection_operator,
    stream_seed,
    theory_phi,
)

EXPECTED = {  # (slot, dim) per output dimension and signs, from the reference's table
    "T1": ([(0, j) for j in range(8)], "++++++++"),
    "T2": ([(j, j) for j in range(8)], "++++++++"),
    "T3": ([(4, 4), (3, 3), (2, 2), (0, 0), (1, 1), (5, 5), (7, 7), (6, 6)], "-+----+-"),
    "T4": ([(5, 5), (6, 6), (0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (7, 7)], "-+++-++-"),
}


@pytest.mark.parametrize("name", sorted(PAPER_TASKS))
def test_paper_tasks_decode_to_reference_tables(name):
    choice, signs = decode_task_id(PAPER_TASKS[name], 8, 8)
    slots, expected_signs = EXPECTED[name]
    assert [(k // 8, k % 8) for k in choice] == slots
    assert "".join("+" if s > 0 else "-" for s in signs) == expected_signs


@pytest.mark.parametrize("name, count", [("T1", 64), ("T2", 36), ("T3", 36), ("T4", 36)])
def test_phi_unit_circle_counts(name, count):
    phi = theory_phi(selection_operator(PAPER_TASKS[name], 8, 8), 8, 8)
    magnitudes = np.abs(np.linalg.eigvals(phi))
    assert (magnitudes > 0.8).sum() == count
    assert np.allclose(magnitudes[magnitudes <= 0.8], 0, atol=1e-6)


def test_t1_exceeds_int64_and_stays_exact():
    t1 = PAPER_TASKS["T2"][0]
    assert t1 > 2**63 - 1
    assert parse_task_id(str(t1) + ",0,0") == (t1, 0, 0)
    assert parse_task_id([str(t1), "262676", "189"]) == PAPER_TASKS["T3"]


def test_repeat_copy_gives_y_t_equals_y_t_minus_L():
    task = Task("repeat_copy", input_dim=8, seq_length=8)
    assert task.task_id == (255, 0, 0)
    x, y, mask, length = generate_batch(task, make_generator(3, "train"), horizon=20, batch_size=5)
    assert length == 8
    outputs = torch.cat([x[:8, :, :8], y[8:]])
    assert torch.equal(outputs[8:], outputs[:-8])


def test_worked_example_of_t2():
    u = np.array(
        [[1, -1, -1, -1, 1, 1, 1, 1], [1, 1, 1, -1, 1, -1, 1, -1], [1, 1, -1, -1, -1, -1, 1, 1]]
        + [[1] * 8] * 4
        + [[-1, 1, -1, -1, -1, -1, -1, 1]]
    )
    task = Task("T2")
    _, y, _ = build_batch(task, torch.tensor(u, dtype=torch.float32)[:, None, :], horizon=1)
    y8 = y[8, 0].numpy()
    assert list(y8[[0, 1, 2, 7]]) == [1, 1, -1, 1]  # y_8[j] = u_j[j], the reference's row
    assert np.array_equal(y8, np.diag(u))


@pytest.mark.parametrize(
    "bad, part",
    [
        ((254, 0, 0), "one-bits"),
        ((255, 8**8, 0), "t2"),
        ((255, 7 * 8, 0), "digit 1"),
        ((255, 0, 256), "t3"),
        ((-1, 0, 0), "non-negative"),
        ((1.5, 0, 0), "integer"),
        ("abc", "neither a name"),
        ((255, 0), "three parts"),
        ((True, 0, 0), "integer"),
        ((2**64 - 1, 0, 0), "one-bits"),
    ],
)
def test_invalid_ids_name_the_wrong_part(bad, part):
    with pytest.raises(TaskIdError, match=part):
        decode_task_id(bad, 8, 8)


def test_variable_length_needs_positions_in_the_shortest_window():
    late = (255 << 40, 0, 0)  # slot 5 of an 8-wide window
    decode_task_id(late, 8, 8)
    with pytest.raises(TaskIdError, match="shortest window"):
        decode_task_id(late, 8, (3, 8))


def test_variable_length_batches_draw_lengths_in_range():
    task = Task("repeat_copy", input_dim=4, seq_length=(3, 7))
    gen, lengths_gen = make_generator(0, "train"), make_generator(0, "length")
    lengths = set()
    for _ in range(40):
        x, y, mask, length = generate_batch(task, gen, 5, 4, length_generator=lengths_gen)
        lengths.add(length)
        assert x.shape == (length + 5, 4, 4) and mask.sum() == 5 and not mask[:length].any()
        cycle = torch.arange(5) % length
        assert torch.equal(y[length:], x[cycle, :, :4])  # copy: y_{L+k} = u_{k mod L}
    assert lengths == {3, 4, 5, 6, 7}


def test_eos_channel_marks_the_first_output_step():
    task = Task("repeat_copy", input_dim=4, seq_length=3, use_eos=True)
    x, y, mask, length = generate_batch(task, make_generator(1, "train"), 6, 2)
    assert x.shape[-1] == 5 and y.shape[-1] == 4
    assert (x[:, :, 4] != 0).nonzero()[:, 0].unique().tolist() == [3]
    assert torch.all(x[3, :, 4] == -1)


def test_streams_are_distinct_and_reproducible():
    seeds = {stream_seed(s, split) for s in range(5) for split in ("init", "train", "test")}
    assert len(seeds) == 15
    a = torch.randint(0, 9, (20,), generator=make_generator(4, "train"))
    b = torch.randint(0, 9, (20,), generator=make_generator(4, "train"))
    assert torch.equal(a, b)


@st.composite
def valid_ids(draw):
    d = draw(st.integers(1, 5))
    length = draw(st.integers(1, 5))
    positions = draw(st.lists(st.integers(0, length * d - 1), min_size=d, max_size=d, unique=True))
    t1 = sum(1 << p for p in positions)
    digits = [draw(st.integers(0, d - 1 - i)) for i in range(d)]
    t2 = sum(a * d**i for i, a in enumerate(digits))
    t3 = draw(st.integers(0, 2**d - 1))
    horizon = draw(st.integers(1, 3 * length + 2))
    return (t1, t2, t3), d, length, horizon


@settings(max_examples=60, deadline=None)
@given(valid_ids(), st.integers(0, 1000))
def test_targets_obey_the_recursion_and_masks_cover_the_output_phase(case, seed):
    task_id, d, length, horizon = case
    task = Task(task_id, input_dim=d, seq_length=length)
    x, y, mask, _ = generate_batch(task, make_generator(seed, "train"), horizon, batch_size=3)
    operator = selection_operator(task_id, d, length)
    for b in range(3):
        expected = recursive_targets(x[:length, b].numpy(), operator, horizon)
        assert np.array_equal(y[length:, b].numpy(), expected)
    assert mask.tolist() == [False] * length + [True] * horizon
    assert torch.all(y[:length] == 0) and torch.all(x[length:] == 0)
    assert set(torch.unique(y[length:]).tolist()) <= {-1.0, 1.0}


@settings(max_examples=60, deadline=None)
@given(valid_ids(), st.integers(1, 2**20))
def test_ids_with_an_extra_one_bit_are_refused(case, extra):
    (t1, t2, t3), d, length, _ = case
    free = [p for p in range(length * d + 3) if not (t1 >> p) & 1]
    with pytest.raises(TaskIdError):
        decode_task_id((t1 | (1 << free[extra % len(free)]), t2, t3), d, length)
