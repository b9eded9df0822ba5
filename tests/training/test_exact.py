"""Exactness: a member's model and outcome are bit-identical alone, in a block of seeds or in any pack."""

import pytest
from helpers.training import (
    OTHER_TASK,
    alone,
    assert_same_model,
    member,
    same_outcome,
    small,
    train,
)

from vbpipe.training import MemberSpec, pack_key, train_block
from vbpipe.training.module import PackModule


def test_block_members_equal_each_seed_trained_alone(tmp_path):
    config = small(steps_per_epoch=300)
    block = train_block(
        config, [1, 2, 3], output_dir=tmp_path / "block", accelerator="cpu", tensorboard=False
    )
    histories = {s: block.outcomes[s]["curriculum_history"] for s in (1, 2, 3)}
    assert all(len(h) == 2 for h in histories.values())  # every seed reached the last level ...
    assert len({tuple(map(tuple, h)) for h in histories.values()}) > 1  # ... at different steps
    for seed in (1, 2, 3):
        solo = train_block(
            config, [seed], output_dir=tmp_path / "alone", accelerator="cpu", tensorboard=False
        )
        assert_same_model(block.checkpoints[seed], solo.checkpoints[seed])
        assert same_outcome(block.outcomes[seed], solo.outcomes[seed])


def test_pack_of_different_variants_equals_each_member_alone(tmp_path):
    """Other task ids, L2, learning rates, clipping, thresholds, horizons, window and epochs in one pack;
    two members share a seed (two variants)."""
    configs = [
        small(),
        small(task_id=OTHER_TASK, learning_rate=3e-3, l2_penalty=0.01),
        small(curriculum_threshold=0.9, curriculum_horizons=(4, 8), gradient_clip=0.5),
        small(epochs=2, steps_per_epoch=60, curriculum_window=3, task_id=OTHER_TASK),
        small(curriculum=False, fixed_horizon=7, early_stop=True, early_stop_patience=20),
    ]
    specs = [member(tmp_path / "pack", f"v{i}", c, seed=5) for i, c in enumerate(configs)]
    specs.append(member(tmp_path / "pack", "v5", configs[1], seed=6))
    pack = train(specs)
    assert len(pack.outcomes) == len(specs)
    for spec in specs:
        path, outcome = alone(spec, tmp_path / "alone")
        assert_same_model(spec.checkpoint, path)
        assert same_outcome(pack.outcomes[spec.checkpoint], outcome)


@pytest.mark.parametrize("shape", [dict(seq_length=(2, 3), use_eos=True), dict(bias=True)])
def test_variable_lengths_eos_and_biases_stay_exact(tmp_path, shape):
    configs = [
        small(steps_per_epoch=80, **shape),
        small(steps_per_epoch=80, **shape, l2_penalty=1e-3),
    ]
    specs = [member(tmp_path / "pack", f"m{i}", c, seed=i) for i, c in enumerate(configs)]
    pack = train(specs)
    for spec in specs:
        path, outcome = alone(spec, tmp_path / "alone")
        assert_same_model(spec.checkpoint, path)
        assert same_outcome(pack.outcomes[spec.checkpoint], outcome)


def test_workers_drawing_ahead_give_the_same_models(tmp_path, monkeypatch):
    """The GPU's data path (worker processes per shard of members, several batches ahead), run on the CPU."""
    import vbpipe.training.data as data_module
    import vbpipe.training.pack as pack_module

    specs = [member(tmp_path / "in", f"m{s}", small(steps_per_epoch=60), s) for s in range(3)]
    train(specs)
    monkeypatch.setattr(
        pack_module, "loader_options", lambda device: {"workers": True, "pin_memory": False}
    )
    monkeypatch.setattr(pack_module.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(data_module, "MEMBERS_PER_WORKER", 2)  # two shards, two worker processes
    workers = [MemberSpec(s.config, s.seed, tmp_path / "workers" / s.model_dir.name) for s in specs]
    train(workers)
    for a, b in zip(specs, workers, strict=True):
        assert_same_model(a.checkpoint, b.checkpoint)


def test_members_of_different_tasks_share_one_recurrence_per_horizon(tmp_path):
    specs = [
        member(tmp_path, "a", small(), 1),
        member(tmp_path, "b", small(task_id=OTHER_TASK), 2),
        member(tmp_path, "c", small(curriculum_horizons=(5, 40)), 3),
    ]
    module = PackModule(specs)
    module.roster.level[:] = [1, 0, 1]  # horizons 10, 5, 40
    batch = next(iter(_one_batch(module)))
    groups = module._groups(batch)
    horizons = sorted(g.targets.shape[1] for g in groups)
    assert horizons == [5, 10, 40]  # nobody runs a longer horizon than its own
    module.roster.level[:] = [0, 0, 0]
    (group,) = module._groups(batch)  # two tasks, one group
    assert group.rows is None and group.size == 3


def test_a_pack_refuses_members_of_different_shapes(tmp_path):
    specs = [member(tmp_path, "a", small(), 1), member(tmp_path, "b", small(hidden_dim=8), 2)]
    assert pack_key(specs[0].config) != pack_key(specs[1].config)
    with pytest.raises(ValueError, match="must share input_dim"):
        train(specs)
    with pytest.raises(ValueError, match="share a model_dir"):
        train([specs[0], MemberSpec(small(l2_penalty=1.0), 1, specs[0].model_dir)])


def test_a_step_reads_no_device_value_per_member(tmp_path):
    """No ``.item()``-style read anywhere in a step: the booking's one device-to-host copy is the only sync."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Reads(TorchDispatchMode):
        names: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Reads.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    specs = [member(tmp_path, f"m{s}", small(), s) for s in range(4)]
    module = PackModule(specs)
    optimizer = module.configure_optimizers()
    with Reads():
        for batch in _one_batch(module, steps=3):
            loss = module.training_step(batch, 0)
            optimizer.zero_grad()
            loss.backward()
            module.configure_gradient_clipping(optimizer)
            optimizer.step()
            module._book(optimizer.param_groups[0]["updated"])
    ops = {name.split(".")[0] for name in Reads.names}
    assert "bmm" in ops
    assert "_local_scalar_dense" not in ops  # .item(), bool(), float() of a tensor
    assert (module.roster.step == 3).all()


def _one_batch(module: PackModule, steps: int = 1):
    from vbpipe.training.data import DrawnBatches

    count = len(module.specs)
    return DrawnBatches(
        0,
        [s.config.task for s in module.specs],
        module.batch_size,
        [module.member_streams(k) for k in range(count)],
        [steps] * count,
        module.stopped,
        steps,
    )
