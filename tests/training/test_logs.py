"""What a pack tells people: each member's training.log and TensorBoard events, and the job's progress lines."""

import re
import time

from helpers.training import member, small, train


def test_logs_and_tensorboard_events_sit_beside_the_checkpoint(tmp_path):
    spec = member(tmp_path, "model-4", small(validation_batches=2, epochs=2, steps_per_epoch=50), 4)
    result = train([spec], tensorboard=True)
    folder = spec.checkpoint.parent
    log = (folder / "training.log").read_text()
    assert "starting seed 4 at step 0/100" in log
    assert "curriculum difficulty increased" in log and "epoch 2/2" in log and "val_acc" in log
    assert "done: {'steps': 100" in log
    assert result.outcomes[spec.checkpoint]["steps"] == 100
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    tags = set(accumulator.Tags()["scalars"])
    assert {"train_loss", "train_acc", "curriculum_level", "horizon", "val_loss", "val_acc"} <= tags
    assert [e.step for e in accumulator.Scalars("val_acc")] == [50, 100]
    assert len(accumulator.Scalars("train_loss")) == 4  # every 25 steps over 100 steps
    assert not list(folder.glob("hparams.yaml"))


def test_the_job_log_shows_the_pack_and_every_member_compactly(tmp_path, capsys):
    configs = [small(steps_per_epoch=30), small(steps_per_epoch=30, l2_penalty=0.1)]
    specs = [
        member(tmp_path / f"variant-{i}", f"model-{s}", c, s)
        for i, c in enumerate(configs)
        for s in (1, 2, 3)
    ]
    train(specs, log_interval_seconds=1e-9)
    out = capsys.readouterr().out
    pack_lines = [line for line in out.splitlines() if line.startswith("[train] step")]
    assert len(pack_lines) >= 20
    assert re.search(
        r"\[train\] step \d+/30 \| active 6/6 \| mean level [\d.]+ \| mean train_acc [\d.]+ \| "
        r"[\d.]+ steps/s \(\d+ model-steps/s\)",
        pack_lines[0],
    )
    table = out.splitlines()[-2:]  # at the end: one line per variant, its members side by side
    assert table[0].lstrip().startswith("variant-0: model-1 s30 L")
    assert all(line.count("| model-") == 2 and "finished" in line for line in table)


def test_a_resumed_member_logs_each_step_once(tmp_path):
    """A run that dies after its last save logged steps it will train again: the resumed run purges them."""
    import pytest
    import pytorch_lightning as pl

    class Crash(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx + 1 == 58:
                raise RuntimeError("node lost")

    spec = member(tmp_path, "m", small(steps_per_epoch=100, log_every=5), 1)
    with pytest.raises(RuntimeError, match="node lost"):
        train([spec], tensorboard=True, save_every_steps=50, callbacks=[Crash()])
    # TensorBoard reads event files in name order: the name holds the second it was created and a
    # per-process counter, which in a long test session can pass 9 -> 10 and sort wrongly within one
    # second. A real resume runs in a new process, seconds later.
    time.sleep(1.1)
    train([spec], tensorboard=True)  # resumes at step 50; steps 55 was logged already
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(spec.checkpoint.parent))
    accumulator.Reload()
    steps = [e.step for e in accumulator.Scalars("train_loss")]
    assert steps == sorted(set(steps)) and {50, 55, 100} <= set(steps)
