"""The training kernel: the packed recurrence and its hand-written backward against autograd, targets of mixed
tasks against the plain batch builder, and the alignment that keeps members independent of their neighbours."""

import pytest
import torch
from helpers.reference_rnn import rnn_forward

from vbpipe.tasks import (
    Task,
    build_batch,
    draw_bits,
    draw_inputs,
    make_generator,
    stacked_index_maps,
    stacked_model_inputs,
    stacked_targets,
)
from vbpipe.training.kernel import Arena, MemberGroup, PackedRNN, ParamLayout, init_weights

TASKS = [Task((7, 0, 0), 3, 2), Task((7, 4, 5), 3, 2)]


def _pack(members, hidden, bias, use_eos, batch, dtype=torch.float64):
    tasks = [Task(t.task_id, 3, 2, use_eos) for t in TASKS]
    layout = ParamLayout(tasks[0].model_input_dim, hidden, 3, bias)
    initial = [init_weights(s, layout.input_dim, hidden, 3, bias) for s in range(members)]
    flat = layout.flatten({n: torch.stack([w[n] for w in initial]) for n in initial[0]})
    inputs = torch.stack(
        [draw_inputs(make_generator(s, "train"), 2, batch, 3) for s in range(members)]
    )
    return layout, flat.to(dtype), inputs.to(dtype), tasks


@pytest.mark.parametrize("bias, use_eos", [(False, False), (False, True), (True, False)])
def test_packed_loss_and_gradient_equal_autograd_through_the_plain_model(bias, use_eos):
    layout, flat, inputs, tasks = _pack(4, 6, bias, use_eos, batch=5)
    horizon, which = 7, torch.tensor([0, 1, 0, 1])
    source, sign = stacked_index_maps(tasks, 2, horizon)
    targets = stacked_targets(inputs, source[which], sign[which].to(inputs.dtype))
    xs, ys = [], []
    for k in range(4):
        x, y, _ = build_batch(tasks[which[k]], inputs[k], horizon)
        assert torch.equal(y[2:], targets[k])  # one gather for mixed tasks = the plain builder
        xs.append(x)
        ys.append(y)
    x, y = torch.stack(xs, 1), torch.stack(ys, 1)
    weights = torch.randn(4, dtype=flat.dtype)  # a weighted sum: each member's gradient is its own

    packed = flat.clone().requires_grad_()
    groups = [
        MemberGroup(r, stacked_model_inputs(inputs[r], use_eos), targets[r], 2)
        for r in (torch.tensor([0, 2]), torch.tensor([3, 1]))
    ]
    losses, accuracy = PackedRNN(layout).loss(packed, groups)
    (losses * weights).sum().backward()

    plain = flat.clone().requires_grad_()
    y_hat = rnn_forward(x, layout.views(plain))[2:]
    reference = ((y_hat - y[2:]) ** 2).mean(dim=(0, 2, 3))
    (reference * weights).sum().backward()
    torch.testing.assert_close(losses, reference.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(packed.grad, plain.grad, rtol=1e-10, atol=1e-12)
    expected = ((y_hat >= 0) == (y[2:] > 0)).double().mean(dim=(0, 2, 3))
    torch.testing.assert_close(accuracy, expected)


@pytest.mark.parametrize("batch, hidden, bias", [(7, 9, False), (3, 5, True), (64, 16, False)])
def test_a_member_computes_the_same_bits_in_any_group(batch, hidden, bias):
    """Alone, in order, reversed, split in two: float32 losses and gradients identical to the last bit
    (odd sizes included: every member's blocks start on a 64-byte boundary)."""
    layout, flat, inputs, tasks = _pack(4, hidden, bias, False, batch, dtype=torch.float32)
    source, sign = stacked_index_maps(tasks[:1], 2, 5)
    targets = stacked_targets(inputs, source.expand(4, -1), sign.expand(4, -1))
    net = PackedRNN(layout)

    def run(partition):
        param = flat.clone().requires_grad_()
        groups = [
            MemberGroup(torch.tensor(rows), inputs[rows], targets[rows], 2) for rows in partition
        ]
        losses, _ = net.loss(param, groups)
        losses.sum().backward()
        return losses.detach(), param.grad

    alone = run([[0], [1], [2], [3]])
    for partition in ([[0, 1, 2, 3]], [[3, 2, 1, 0]], [[1, 3], [0, 2]], [[2], [0, 1, 3]]):
        together = run(partition)
        assert torch.equal(together[0], alone[0]) and torch.equal(together[1], alone[1])


def test_arena_blocks_are_aligned_per_member():
    arena = Arena()
    arena.reset(Arena.need(3, (5, 7)) + Arena.need(2, (3,)), torch.empty(0))
    first, second = arena.take(3, (5, 7)), arena.take(2, (3,))
    for region in (first, second):
        for k in range(region.shape[0]):
            assert region[k].data_ptr() % 64 == 0 and region[k].is_contiguous()
    layout = ParamLayout(3, 5, 3, bias=True)
    flat = torch.zeros(2, layout.size)
    for view in layout.views(flat).values():
        assert all(view[k].data_ptr() % 64 == 0 for k in range(2))


def test_drawn_bits_are_the_inputs_stream():
    a, b = make_generator(3, "train"), make_generator(3, "train")
    bits = draw_bits(a, 4, 5, 3)
    assert bits.dtype == torch.uint8
    assert torch.equal(bits.float() * 2 - 1, draw_inputs(b, 4, 5, 3))
    assert torch.equal(a.get_state(), b.get_state())
