"""GPU checks (skipped without CUDA): training runs on the GPU, every tensor of a step lives there, the GPU
agrees with the CPU, a member alone agrees with it in a pack, and a resume on the GPU is exact."""

import os
import signal

import pytest
import pytorch_lightning as pl
import torch
from helpers.training import OTHER_TASK, assert_same_model, member, small, train, weights

from vbpipe.training import TrainingInterrupted, resolve_device

pytestmark = pytest.mark.gpu


class CheckDevices(pl.Callback):
    """Every tensor the step keeps is on the GPU; generator states stay on the CPU."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        tensors = [pl_module.flat, pl_module.lr, pl_module.l2, pl_module.clip, pl_module.active]
        tensors += list(pl_module.optimizer.state[pl_module.flat].values())
        tensors += [t for pair in pl_module._maps.values() for t in pair]
        tensors += list(pl_module._indices.values()) + list(batch.bits.values())
        tensors += [pl_module.last.losses, pl_module.last.accuracy]
        assert all(t.is_cuda for t in tensors)
        assert pl_module.flat.dtype == torch.float32
        assert not batch.train_states.is_cuda


def _specs(folder, steps=50):
    configs = [small(steps_per_epoch=steps), small(steps_per_epoch=steps, task_id=OTHER_TASK)]
    return [member(folder, f"m{i}", c, i) for i, c in enumerate(configs)]


def test_gpu_pack_trains_on_the_gpu_and_matches_the_cpu_closely(tmp_path):
    assert resolve_device("gpu") == "cuda"
    gpu = _specs(tmp_path / "gpu")
    train(gpu, accelerator="gpu", callbacks=[CheckDevices()])
    cpu = _specs(tmp_path / "cpu")
    train(cpu, accelerator="cpu")
    for a, b in zip(gpu, cpu, strict=True):
        for name, value in weights(a.checkpoint).items():
            assert torch.isfinite(value).all()
            torch.testing.assert_close(value, weights(b.checkpoint)[name], atol=5e-3, rtol=0)


def test_gpu_member_alone_agrees_with_it_in_a_pack(tmp_path):
    """Batched GPU kernels may pick other algorithms for other batch counts: close, not necessarily equal."""
    pack = _specs(tmp_path / "pack")
    train(pack, accelerator="gpu")
    solo = _specs(tmp_path / "alone")
    for spec in solo:
        train([spec], accelerator="gpu")
    for a, b in zip(pack, solo, strict=True):
        for name, value in weights(a.checkpoint).items():
            torch.testing.assert_close(value, weights(b.checkpoint)[name], atol=1e-4, rtol=0)


def test_gpu_resume_reproduces_the_uninterrupted_run(tmp_path):
    class SignalAt(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 20:
                os.kill(os.getpid(), signal.SIGUSR1)

    reference = _specs(tmp_path / "reference", steps=60)
    train(reference, accelerator="gpu")
    resumed = _specs(tmp_path / "resumed", steps=60)
    with pytest.raises(TrainingInterrupted):
        train(resumed, accelerator="gpu", callbacks=[SignalAt()])
    train(resumed, accelerator="gpu")
    for a, b in zip(reference, resumed, strict=True):
        assert_same_model(a.checkpoint, b.checkpoint)
