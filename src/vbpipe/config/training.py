"""What one model is trained from: :class:`TrainConfig`, every key with its default, bounds and meaning.

Bounds are chosen so that no value a valid config can hold overflows float32 in training: learning rate
<= 1, L2 penalty <= 1000, gradient clip <= 100 (anything that still overflows is caught as divergence).
Its own module, so that the training code's fingerprint (which every model's stamp includes) does not
change when another config section is edited. No torch here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator

from ..taskspec import Task, TaskIdError, parse_task_id, seq_length_bounds
from .base import ConfigError, _as_tuple, _Section

ORIGINAL_HORIZONS = (10, 20, 40, 60, 100)

#: The control keys (``activation``, ``init``, ``init_eps``, ``circuit_scale``) at their defaults.
#: :meth:`TrainConfig.to_dict` leaves a key out while it holds its default, so that every model
#: trained before the keys existed keeps its hyper-parameters, config.json and stamp
#: (:func:`vbpipe.plan.model_stamp`), and a checkpoint without them loads as the default.
DEFAULT_INIT_EPS = 1e-3  # vbpipe.circuits.DEFAULT_EPS (no numpy import here)
DEFAULT_CIRCUIT_SCALE = 0.45  # vbpipe.circuits.DEFAULT_SCALE
CONTROL_DEFAULTS = {
    "activation": "tanh",
    "init": "random",
    "init_eps": DEFAULT_INIT_EPS,
    "circuit_scale": DEFAULT_CIRCUIT_SCALE,
}
#: The hidden units each circuit (``model_type`` or ``init``) needs beyond ``L·d``, in units of ``d``.
_EXTRA_UNITS = {"circuit_naive": 0, "circuit_gated": 2, "circuit_leaky": 0}

Probability = Annotated[float, Field(gt=0.5, lt=1)]
# What a user may write (the validators below normalise it), for the generated JSON Schema.
_INT = {"type": "integer"}
TaskIdInput = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string"},
            {
                "type": "array",
                "items": {"type": ["integer", "string"]},
                "minItems": 3,
                "maxItems": 3,
            },
        ]
    }
)
SeqLengthInput = WithJsonSchema(
    {
        "anyOf": [
            {**_INT, "minimum": 1, "maximum": 64},
            {"type": "array", "items": {**_INT, "minimum": 1, "maximum": 64}, "minItems": 1,
             "maxItems": 2},
        ]
    }
)  # fmt: skip


def _list_of(items: dict, **extra) -> WithJsonSchema:
    return WithJsonSchema({"type": "array", "items": items, **extra})


class TrainConfig(_Section):
    """Everything that determines one trained model, apart from its seed (the original's defaults)."""

    input_dim: int = Field(8, ge=1, le=64, description="d: bits per vector")
    task_id: Annotated[tuple[int, int, int], TaskIdInput] = Field(
        "repeat_copy",
        validate_default=True,
        description="repeat_copy, T1..T4 (the paper's tasks), or three integers 't1,t2,t3' "
        "(t1 may exceed 64 bits: write it as a string or a YAML integer)",
    )
    seq_length: Annotated[int | tuple[int, int], SeqLengthInput] = Field(
        8, description="L, or [min, max] for a length drawn per batch (inclusive), 1..64"
    )
    use_eos: bool = Field(False, description="add an end-of-sequence input channel")
    hidden_dim: int = Field(128, ge=1, le=4096, description="N: hidden units of the tanh RNN")
    bias: bool = Field(False, description="biases in recurrence and readout (EMT assumes none)")
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Adam learning rate")
    batch_size: int = Field(64, ge=1, le=65536, description="sequences per training batch")
    gradient_clip: float = Field(1.0, gt=0, le=100, description="global-norm clipping, per model")
    l2_penalty: float = Field(0.0, ge=0, le=1000, description="Adam weight_decay (coupled L2)")
    epochs: int = Field(20, ge=1, le=1000, description="epochs of `steps_per_epoch` batches")
    steps_per_epoch: int = Field(2000, ge=1, le=100_000, description="batches per epoch")
    curriculum: bool = Field(True, description="curriculum learning on the output horizon")
    curriculum_threshold: Probability = Field(
        0.96, description="advance a level when the batch accuracy exceeds this (0.5 < t < 1)"
    )
    curriculum_horizons: Annotated[
        tuple[int, ...],
        _list_of({**_INT, "minimum": 1, "maximum": 10_000}, minItems=1, maxItems=32),
    ] = Field(ORIGINAL_HORIZONS, description="output horizon of each curriculum level, increasing")
    curriculum_window: int = Field(
        1, ge=1, le=10_000, description="batches averaged for the curriculum test (1 = original)"
    )
    fixed_horizon: int = Field(
        36, ge=1, le=10_000, description="training horizon when curriculum is false"
    )
    early_stop: bool = Field(False, description="stop a model that holds the last level")
    early_stop_accuracy: float = Field(
        1.0, gt=0, le=1, description="accuracy to hold at the last level for an early stop"
    )
    early_stop_patience: int = Field(
        500, ge=1, le=1_000_000, description="consecutive steps at that accuracy"
    )
    validation_batches: int = Field(
        4, ge=0, le=10_000, description="fixed validation batches per model, each epoch"
    )
    log_every: int = Field(50, ge=1, le=1_000_000, description="TensorBoard interval (steps)")
    model_type: Literal["rnn", "circuit_naive", "circuit_gated", "circuit_leaky"] = Field(
        "rnn",
        description="rnn: a trained bias-free tanh RNN; circuit_naive / circuit_gated / "
        "circuit_leaky: EMT's analytic circuit for the task (built, not trained: vbpipe.circuits; "
        "leaky: the naive circuit with Phi scaled by circuit_scale), evaluated and drawn like a "
        "trained model. A circuit needs a fixed seq_length and hidden_dim >= L*d (naive, leaky) or "
        "L*d + 2d (gated)",
    )

    activation: Literal["tanh", "linear"] = Field(
        "tanh",
        description="tanh: the paper's RNN; linear: the identity instead of tanh (a control: a "
        "linear RNN trained the same way). Models of different activations never share a pack",
    )
    init: Literal["random", "circuit_naive", "circuit_gated", "circuit_leaky"] = Field(
        "random",
        description="random: PyTorch's default initialisation; circuit_naive / circuit_gated / "
        "circuit_leaky: "
        "start training from EMT's analytic circuit for the task (vbpipe.circuits, the model's "
        "seed choosing its frame; a control: does gradient descent keep the circuit?). Needs "
        "model_type rnn, no bias, a fixed seq_length and the circuit's hidden size",
    )
    init_eps: float = Field(
        DEFAULT_INIT_EPS,
        gt=0,
        le=10,
        description="the circuit's input scale epsilon for init: circuit_* (W_ih = eps Psi_new, "
        "W_r = Psi_new^T / eps); ignored (and not recorded) with init random",
    )
    circuit_scale: float = Field(
        DEFAULT_CIRCUIT_SCALE,
        gt=0,
        le=1,
        description="the leaky circuit's scale s of Phi (W_hh = s Psi Phi Psi^T), in (0, 1], for "
        "model_type or init circuit_leaky (docs/input_phase.md); ignored (and not recorded) "
        "otherwise",
    )

    @field_validator("task_id", mode="before")
    @classmethod
    def _parse_task_id(cls, value, info):
        try:
            return parse_task_id(value, info.data.get("input_dim", 8))
        except TaskIdError as error:
            raise ValueError(str(error)) from None

    @field_validator("seq_length", mode="before")
    @classmethod
    def _parse_seq_length(cls, value):
        try:
            low, high = seq_length_bounds(value)
        except ValueError as error:
            raise ValueError(str(error)) from None
        if high > 64:
            raise ValueError(f"must be at most 64, got {value!r}")
        return low if low == high else (low, high)

    @field_validator("curriculum_horizons", mode="before")
    @classmethod
    def _horizons(cls, value):
        value = _as_tuple(value)
        ok = (
            isinstance(value, tuple)
            and 1 <= len(value) <= 32
            and all(isinstance(h, int) and not isinstance(h, bool) for h in value)
            and all(1 <= h <= 10_000 for h in value)
            and list(value) == sorted(set(value))
        )
        if not ok:
            raise ValueError(
                f"must be a strictly increasing list of 1 to 32 integers in 1..10000, got {value!r}"
            )
        return value

    def __init__(self, **values: Any):
        super().__init__(**values)  # input_dim is declared first: "repeat_copy" needs it
        try:
            Task(self.task_id, self.input_dim, self.seq_length, self.use_eos)
        except TaskIdError as error:
            raise ConfigError(f"task_id: {error}", "task_id") from None
        self._check_controls()
        if self.model_type != "rnn":
            if isinstance(self.seq_length, tuple):
                raise ConfigError(
                    f"seq_length: an analytic circuit ({self.model_type}) needs a fixed length, "
                    f"got {list(self.seq_length)}",
                    "seq_length",
                )
            need = (self.seq_length + _EXTRA_UNITS[self.model_type]) * self.input_dim
            if self.hidden_dim < need:
                raise ConfigError(
                    f"hidden_dim: {self.model_type} needs at least {need} hidden units for "
                    f"L = {self.seq_length}, d = {self.input_dim}, got {self.hidden_dim}",
                    "hidden_dim",
                )

    def _check_controls(self) -> None:
        """Refuse an ``activation`` / ``init`` that cannot be trained as asked (before any job runs)."""
        if self.model_type != "rnn":
            for key in ("activation", "init"):
                default = CONTROL_DEFAULTS[key]
                if getattr(self, key) != default:
                    raise ConfigError(
                        f"{key}: {self.model_type} is built, not trained; {key} must stay "
                        f"{default!r}, got {getattr(self, key)!r}",
                        key,
                    )
        if self.init == "random":
            return
        if self.bias:
            raise ConfigError(f"bias: init {self.init} builds a bias-free circuit", "bias")
        if isinstance(self.seq_length, tuple):
            raise ConfigError(
                f"seq_length: init {self.init} needs a fixed length, got {list(self.seq_length)}",
                "seq_length",
            )
        need = (self.seq_length + _EXTRA_UNITS[self.init]) * self.input_dim
        if self.hidden_dim < need:
            raise ConfigError(
                f"hidden_dim: init {self.init} needs at least {need} hidden units for "
                f"L = {self.seq_length}, d = {self.input_dim}, got {self.hidden_dim}",
                "hidden_dim",
            )

    # -- derived values ------------------------------------------------------------------------------------
    @property
    def task(self) -> Task:
        return Task(self.task_id, self.input_dim, self.seq_length, self.use_eos)

    @property
    def shapes(self) -> tuple:
        """What models trained together in one pack must share: the shapes of their tensors, and the
        activation (one recurrence kernel per pack)."""
        return (
            self.input_dim,
            self.seq_length,
            self.use_eos,
            self.hidden_dim,
            self.bias,
            self.batch_size,
            self.activation,
        )

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
        """JSON-ready hyper-parameters (task id as decimal strings, sequences as lists); the control
        keys only where they differ from :data:`CONTROL_DEFAULTS`."""
        out = self.model_dump()
        out["task_id"] = [str(t) for t in self.task_id]
        out["seq_length"] = (
            list(self.seq_length) if isinstance(self.seq_length, tuple) else self.seq_length
        )
        out["curriculum_horizons"] = list(self.curriculum_horizons)
        unused = {"init_eps": self.init == "random", "circuit_scale": not self.uses_leaky}
        for key, default in CONTROL_DEFAULTS.items():  # absent at their defaults: see the constant
            if out[key] == default or unused.get(key, False):
                del out[key]
        return out

    @property
    def uses_leaky(self) -> bool:
        """Whether ``circuit_scale`` matters: the model is, or starts from, the leaky circuit."""
        return "circuit_leaky" in (self.model_type, self.init)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a dict (e.g. ``to_dict()``'s output or a checkpoint's hparams)."""
        return cls(**values)

    def fingerprint(self, seed: int) -> str:
        """A short hash of (hyper-parameters, seed): a resume state is reused only when it matches."""
        text = json.dumps({"config": self.to_dict(), "seed": seed}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


TRAINING_KEYS = tuple(TrainConfig.model_fields)


def model_hparams(config: TrainConfig, seed: int) -> dict:
    """The ``hparams`` dict stored in a checkpoint: the config plus the seed."""
    return {**config.to_dict(), "seed": int(seed)}


def original_seeds(base_seed: int, num_models: int) -> list[int]:
    """The original ``train_multiple.py`` rule: model ``i`` (0-based) gets ``base_seed + 1000 * i``."""
    return [base_seed + 1000 * i for i in range(num_models)]
