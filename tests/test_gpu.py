"""GPU checks (skipped without CUDA): training runs on the GPU and agrees with the CPU ensemble."""

import numpy as np
import pytest

from vbpipe.checkpoint import load_model
from vbpipe.config import TrainConfig
from vbpipe.training import resolve_device, train_block

pytestmark = pytest.mark.gpu


def test_gpu_ensemble_trains_and_matches_the_cpu_closely(tmp_path):
    config = TrainConfig(
        task_id="repeat_copy",
        input_dim=3,
        seq_length=2,
        hidden_dim=16,
        learning_rate=1e-2,
        epochs=1,
        steps_per_epoch=50,
        curriculum_horizons=(5, 10),
        validation_batches=0,
    )
    assert resolve_device("gpu").type == "cuda"
    gpu = train_block(
        config, [1, 2, 3], output_dir=tmp_path / "gpu", accelerator="gpu", tensorboard=False
    )
    cpu = train_block(
        config, [1, 2, 3], output_dir=tmp_path / "cpu", accelerator="cpu", tensorboard=False
    )
    for seed in (1, 2, 3):
        a = load_model(gpu.checkpoints[seed]).weights["W_hh"]
        b = load_model(cpu.checkpoints[seed]).weights["W_hh"]
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, atol=5e-3)  # different kernels, same maths
