"""Divergence: a member whose loss, gradient or updated weights are not finite keeps its last finite weights,
is marked and frozen; its neighbours are bit-identical to training alone. Clipping and Adam are per member."""

import math

import pytest
import pytorch_lightning as pl
import torch
from helpers.training import alone, assert_same_model, member, same_outcome, small, train, weights

from vbpipe.training.optim import StackedAdam, clip_per_member


class PoisonGradient(pl.Callback):
    """Makes member ``index``'s gradient NaN in pack step ``step`` (a tensor hook on the flat parameter)."""

    def __init__(self, index: int, step: int):
        self.index, self.step, self.handle = index, step, None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx + 1 == self.step:
            rows = torch.tensor([self.index])
            self.handle = pl_module.flat.register_hook(lambda g: g.index_fill(0, rows, math.nan))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None


def test_a_diverging_member_keeps_its_last_finite_weights_and_its_neighbours_are_unaffected(
    tmp_path,
):
    config = small(steps_per_epoch=60)
    specs = [member(tmp_path / "pack", f"m{s}", config, s) for s in range(3)]
    result = train(specs, callbacks=[PoisonGradient(1, step=25)])
    outcome = result.outcomes[specs[1].checkpoint]
    assert outcome["diverged"] and outcome["status"] == "diverged"
    assert outcome["diverged_at_step"] == 25 and outcome["steps"] == 24
    assert not outcome["converged"]
    assert all(torch.isfinite(w).all() for w in weights(specs[1].checkpoint).values())
    # its weights are those after 24 steps of training alone
    stopped = member(tmp_path / "short", "m1", small(steps_per_epoch=24), 1)
    assert_same_model(specs[1].checkpoint, alone(stopped, tmp_path / "alone24")[0])
    for k in (0, 2):
        path, solo = alone(specs[k], tmp_path / "alone")
        assert_same_model(specs[k].checkpoint, path)
        assert same_outcome(result.outcomes[specs[k].checkpoint], solo)
    log = (specs[1].model_dir / "checkpoint" / "training.log").read_text()
    assert "step 25: loss, gradient or updated weights not finite" in log


def _optimizer(flat: torch.Tensor, lr, active=None) -> StackedAdam:
    count = flat.shape[0]
    optimizer = StackedAdam(
        [flat],
        lr=torch.as_tensor(lr, dtype=torch.float32),
        weight_decay=torch.full((count,), 0.01),
        active=torch.ones(count, dtype=torch.bool) if active is None else active,
    )
    optimizer.param_groups[0]["valid"] = torch.ones(count, dtype=torch.bool)
    return optimizer


def _steps(flat, optimizer, grads):
    for grad in grads:
        flat.grad = grad.clone()
        optimizer.step()


def test_an_update_that_overflows_is_not_committed():
    grads = [torch.randn(3, 40, generator=torch.Generator().manual_seed(i)) for i in range(5)]
    flat = torch.nn.Parameter(torch.randn(3, 40, generator=torch.Generator().manual_seed(9)))
    with torch.no_grad():
        flat[1] = 3.0e38  # finite, but one step of a huge learning rate overflows it
    before = flat.detach()[1].clone()
    optimizer = _optimizer(flat, [1e-3, 1e38, 1e-3])
    _steps(flat, optimizer, grads)
    assert not optimizer.param_groups[0]["updated"][1]
    assert torch.equal(flat.detach()[1], before)
    assert (optimizer.state[flat]["step"] == torch.tensor([5, 0, 5])).all()
    assert torch.equal(optimizer.state[flat]["exp_avg"][1], torch.zeros(40))
    # the others are exactly what they would be without it
    pair = torch.nn.Parameter(
        torch.randn(3, 40, generator=torch.Generator().manual_seed(9))[[0, 2]]
    )
    _steps(pair, _optimizer(pair, [1e-3, 1e-3]), [g[[0, 2]] for g in grads])
    assert torch.equal(flat.detach()[[0, 2]], pair.detach())


def test_an_inactive_member_moves_neither_weights_nor_moments():
    flat = torch.nn.Parameter(torch.randn(2, 30))
    optimizer = _optimizer(flat, [1e-2, 1e-2])
    _steps(flat, optimizer, [torch.randn(2, 30) for _ in range(3)])
    state = {k: v.clone() for k, v in optimizer.state[flat].items()}
    before = flat.detach().clone()
    optimizer.param_groups[0]["active"][1] = False  # momentum alone would still move it
    _steps(flat, optimizer, [torch.zeros(2, 30) for _ in range(3)])
    assert torch.equal(flat.detach()[1], before[1]) and not torch.equal(flat.detach()[0], before[0])
    for key in ("exp_avg", "exp_avg_sq"):
        assert torch.equal(optimizer.state[flat][key][1], state[key][1])
    assert optimizer.state[flat]["step"].tolist() == [6, 3]


@pytest.mark.parametrize("commit", ["host", "where"])
def test_stacked_adam_matches_torch_adam_for_each_member(monkeypatch, commit):
    """Same arithmetic as ``torch.optim.Adam(lr, weight_decay)`` per member, through either commit path (the
    ``where`` one is the GPU's, which avoids a device-to-host read)."""
    if commit == "where":
        monkeypatch.setattr(StackedAdam, "_host_commit", staticmethod(lambda device: False))
    lrs, decays = [1e-2, 3e-3], [0.0, 0.1]
    start = torch.randn(2, 50, generator=torch.Generator().manual_seed(1))
    grads = [torch.randn(2, 50, generator=torch.Generator().manual_seed(i)) for i in range(20)]
    flat = torch.nn.Parameter(start.clone())
    optimizer = StackedAdam(
        [flat],
        lr=torch.tensor(lrs),
        weight_decay=torch.tensor(decays),
        active=torch.ones(2, dtype=torch.bool),
    )
    optimizer.param_groups[0]["valid"] = torch.ones(2, dtype=torch.bool)
    _steps(flat, optimizer, grads)
    for k in range(2):
        reference = torch.nn.Parameter(start[k].clone())
        adam = torch.optim.Adam([reference], lr=lrs[k], weight_decay=decays[k])
        for grad in grads:
            reference.grad = grad[k].clone()
            adam.step()
        torch.testing.assert_close(flat.detach()[k], reference.detach(), rtol=1e-5, atol=1e-6)


def test_clipping_is_per_member_like_clip_grad_norm():
    grads = torch.randn(3, 20) * torch.tensor([[0.1], [5.0], [50.0]])
    clipped = grads.clone()
    norms = clip_per_member([clipped], torch.tensor([1.0, 1.0, 10.0]))
    for k, max_norm in enumerate((1.0, 1.0, 10.0)):
        reference = torch.nn.Parameter(torch.zeros(20))
        reference.grad = grads[k].clone()
        norm = torch.nn.utils.clip_grad_norm_([reference], max_norm)
        torch.testing.assert_close(norms[k], norm)
        torch.testing.assert_close(clipped[k], reference.grad)
