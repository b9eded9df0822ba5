"""Small configurations and helpers shared by the training tests (CPU, one thread, seconds per test)."""

from __future__ import annotations

from pathlib import Path

import torch

from vbpipe.config import TrainConfig
from vbpipe.training import MemberSpec, train_pack

SMALL = dict(
    task_id="repeat_copy",
    input_dim=3,
    seq_length=2,
    hidden_dim=16,
    learning_rate=1e-2,
    curriculum_horizons=(5, 10, 20),
    validation_batches=0,
    log_every=25,
)
OTHER_TASK = (7, 4, 5)  # a signed selection of the same shape as repeat copy at d = 3, L = 2


def small(**overrides) -> TrainConfig:
    return TrainConfig(**{**SMALL, "epochs": 1, "steps_per_epoch": 200, **overrides})


def member(folder: Path, name: str, config: TrainConfig, seed: int) -> MemberSpec:
    return MemberSpec(config, seed, Path(folder) / name)


def train(specs: list[MemberSpec], **options):
    """``train_pack`` on the CPU, quietly, unless the test asks otherwise."""
    defaults = dict(
        accelerator="cpu", tensorboard=False, log_interval_seconds=0, save_every_steps=0
    )
    return train_pack(specs, **{**defaults, **options})


def weights(path: Path) -> dict[str, torch.Tensor]:
    """The float32 weights exactly as stored in ``model.pt``."""
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def assert_same_model(path_a: Path, path_b: Path) -> None:
    """Bit-identical weights."""
    a, b = weights(path_a), weights(path_b)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} differs: {path_a} vs {path_b}"


def same_outcome(a: dict, b: dict) -> bool:
    """Outcomes equal apart from the wall time."""
    drop = ("wall_seconds",)
    return {k: v for k, v in a.items() if k not in drop} == {
        k: v for k, v in b.items() if k not in drop
    }


def alone(spec: MemberSpec, folder: Path, **options):
    """Train ``spec``'s configuration and seed alone in ``folder``; returns (checkpoint, outcome)."""
    solo = MemberSpec(spec.config, spec.seed, Path(folder) / spec.model_dir.name)
    result = train([solo], **options)
    return solo.checkpoint, result.outcomes[solo.checkpoint]
