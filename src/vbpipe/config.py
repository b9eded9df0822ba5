"""Resolved training hyper-parameters: defaults equal to the original project's, checked on construction.

:class:`TrainConfig` is what one model is trained with. It round-trips through JSON (``to_dict`` /
``from_dict``; task ids as decimal strings because ``t1`` exceeds 64 bits) and writes the original project's
``config.json`` schema (:func:`experiment_config_json`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime

from .errors import VbpipeError
from .taskspec import Task, TaskIdError, parse_task_id, seq_length_bounds

ORIGINAL_HORIZONS = (10, 20, 40, 60, 100)


class ConfigError(VbpipeError, ValueError):
    """A hyper-parameter out of range or of the wrong type; the message names the key."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines one trained model, apart from its seed."""

    task_id: tuple[int, int, int] = (255, 0, 0)
    input_dim: int = 8
    seq_length: int | tuple[int, int] = 8
    use_eos: bool = False
    hidden_dim: int = 128
    bias: bool = False
    learning_rate: float = 1e-3
    batch_size: int = 64
    gradient_clip: float = 1.0
    l2_penalty: float = 0.0
    epochs: int = 20
    steps_per_epoch: int = 2000
    curriculum: bool = True
    curriculum_threshold: float = 0.96
    curriculum_horizons: tuple[int, ...] = ORIGINAL_HORIZONS
    curriculum_window: int = 1
    fixed_horizon: int = 36
    early_stop: bool = False
    early_stop_accuracy: float = 1.0
    early_stop_patience: int = 500
    validation_batches: int = 4
    log_every: int = 50
    model_type: str = "rnn"
    extra: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self):
        try:
            object.__setattr__(self, "task_id", parse_task_id(self.task_id, self.input_dim))
        except TaskIdError as error:
            raise ConfigError(f"task_id: {error}") from error
        if isinstance(self.seq_length, (list, tuple)):
            object.__setattr__(self, "seq_length", tuple(self.seq_length))
        object.__setattr__(self, "curriculum_horizons", tuple(self.curriculum_horizons))
        self._check()

    def _check(self):
        def need(ok: bool, key: str, rule: str):
            if not ok:
                raise ConfigError(f"{key}: must be {rule}, got {getattr(self, key)!r}")

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        for key in (
            "input_dim",
            "hidden_dim",
            "batch_size",
            "epochs",
            "steps_per_epoch",
            "log_every",
        ):
            need(is_int(getattr(self, key)) and getattr(self, key) >= 1, key, "an integer >= 1")
        for key in ("use_eos", "bias", "curriculum", "early_stop"):
            need(isinstance(getattr(self, key), bool), key, "true or false")
        need(
            is_num(self.learning_rate) and 0 < self.learning_rate <= 10,
            "learning_rate",
            "in (0, 10]",
        )
        need(is_num(self.gradient_clip) and self.gradient_clip > 0, "gradient_clip", "> 0")
        need(is_num(self.l2_penalty) and self.l2_penalty >= 0, "l2_penalty", ">= 0")
        need(
            is_num(self.curriculum_threshold) and 0.5 < self.curriculum_threshold < 1,
            "curriculum_threshold",
            "in (0.5, 1) (accuracy must strictly exceed it)",
        )
        need(
            len(self.curriculum_horizons) >= 1
            and all(is_int(h) and h >= 1 for h in self.curriculum_horizons)
            and list(self.curriculum_horizons) == sorted(set(self.curriculum_horizons)),
            "curriculum_horizons",
            "a non-empty strictly increasing list of integers >= 1",
        )
        need(
            is_int(self.curriculum_window) and self.curriculum_window >= 1,
            "curriculum_window",
            ">= 1",
        )
        need(is_int(self.fixed_horizon) and self.fixed_horizon >= 1, "fixed_horizon", ">= 1")
        need(
            is_num(self.early_stop_accuracy) and 0 < self.early_stop_accuracy <= 1,
            "early_stop_accuracy",
            "in (0, 1]",
        )
        need(
            is_int(self.early_stop_patience) and self.early_stop_patience >= 1,
            "early_stop_patience",
            ">= 1",
        )
        need(
            is_int(self.validation_batches) and self.validation_batches >= 0,
            "validation_batches",
            ">= 0",
        )
        need(
            self.model_type == "rnn", "model_type", "'rnn' (the only model the EMT analysis covers)"
        )
        try:
            seq_length_bounds(self.seq_length)
        except ValueError as error:
            raise ConfigError(f"seq_length: {error}") from error
        try:
            Task(self.task_id, self.input_dim, self.seq_length, self.use_eos)
        except TaskIdError as error:
            raise ConfigError(f"task_id: {error}") from error

    @property
    def task(self) -> Task:
        return Task(self.task_id, self.input_dim, self.seq_length, self.use_eos)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def memory_dim(self) -> int:
        """``L_max * d``: the dimensions Φ needs; a hidden size below it cannot hold the task exactly."""
        return seq_length_bounds(self.seq_length)[1] * self.input_dim

    def horizons(self) -> tuple[int, ...]:
        """The horizon of each curriculum level (one level at ``fixed_horizon`` without curriculum)."""
        return self.curriculum_horizons if self.curriculum else (self.fixed_horizon,)

    def to_dict(self) -> dict:
        """JSON-ready hyper-parameters (task id as decimal strings, sequences as lists)."""
        out = asdict(self)
        out.pop("extra")
        out["task_id"] = [str(t) for t in self.task_id]
        out["seq_length"] = (
            list(self.seq_length) if isinstance(self.seq_length, tuple) else self.seq_length
        )
        out["curriculum_horizons"] = list(self.curriculum_horizons)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a dict, refusing unknown keys by name."""
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown training key(s) {unknown}; known keys: {sorted(known)}")
        return cls(**values)

    def fingerprint(self, seed: int) -> str:
        """A short hash of (hyper-parameters, seed): a resume state is reused only when it matches."""
        text = json.dumps({"config": self.to_dict(), "seed": seed}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def model_hparams(config: TrainConfig, seed: int) -> dict:
    """The ``hparams`` dict stored in a checkpoint: the config plus the seed."""
    return {**config.to_dict(), "seed": int(seed)}


def experiment_config_json(
    experiment_name: str,
    config: TrainConfig,
    seeds: list[int],
    accelerator: str,
    script: str = "vbpipe train",
    models_per_job: int = 1,
    variant: str | None = None,
) -> dict:
    """The original project's ``config.json`` (metadata, task, model, training, execution), plus the seeds."""
    hp = config.to_dict()
    return {
        "metadata": {
            "experiment_name": experiment_name,
            "variant": variant,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "script": script,
        },
        "task": {
            "task_id": hp["task_id"],
            "input_dim": hp["input_dim"],
            "seq_length": hp["seq_length"],
            "use_eos": hp["use_eos"],
            "infinite_horizon": False,
            "output_horizon": None,
            "total_length": None,
        },
        "model": {"type": hp["model_type"], "hidden_dim": hp["hidden_dim"], "bias": hp["bias"]},
        "training": {
            "seed": seeds[0] if seeds else None,
            "seeds": list(seeds),
            "learning_rate": hp["learning_rate"],
            "batch_size": hp["batch_size"],
            "gradient_clip": hp["gradient_clip"],
            "epochs": hp["epochs"],
            "steps_per_epoch": hp["steps_per_epoch"],
            "num_models": len(seeds),
            "curriculum": hp["curriculum"],
            "curriculum_threshold": hp["curriculum_threshold"],
            "curriculum_horizons": hp["curriculum_horizons"],
            "curriculum_window": hp["curriculum_window"],
            "fixed_horizon": hp["fixed_horizon"],
            "l2_penalty": hp["l2_penalty"],
            "early_stop": hp["early_stop"],
            "early_stop_accuracy": hp["early_stop_accuracy"],
            "early_stop_patience": hp["early_stop_patience"],
            "validation_batches": hp["validation_batches"],
        },
        "execution": {"accelerator": accelerator, "models_per_job": models_per_job},
    }


def original_seeds(base_seed: int, num_models: int) -> list[int]:
    """The original ``train_multiple.py`` rule: model ``i`` (0-based) gets ``base_seed + 1000 * i``."""
    return [base_seed + 1000 * i for i in range(num_models)]
