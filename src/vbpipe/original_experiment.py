"""A whole experiment of the original project (``emt_variable_binding``'s ``train.py`` /
``train_multiple.py``), as the workflow reads it for ``experiments.NAME.original_runs``.

:func:`discover_experiment` reads the directory's ``config.json``, its ``model-<i>`` directories and
each one's latest checkpoint (through :mod:`vbpipe.original_runs`, the safe reader), and refuses at
parse time, in one line, what the evaluation would fail on later. It only reads: nothing is ever
written inside an original experiment. A module of its own, so that the code fingerprint of the
checkpoint reader, which the evaluation of such models carries, does not cover the discovery.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .config.original import TRAINING_SECTION
from .errors import VbpipeError
from .original_runs import (
    INFINITE_HORIZON_KEYS,
    LIGHTNING_GLOB,
    lightning_checkpoint_in,
    load_lightning_checkpoint,
)
from .results.layout import MODEL_DIR_PREFIX, model_dirname, natural_key

PathLike = str | os.PathLike

_MODEL_NUMBER = re.compile(re.escape(MODEL_DIR_PREFIX) + r"(\d+)")
#: The experiment root's record of how its models were trained (``original-behaviour.md`` 7.1).
CONFIG_NAME = "config.json"


class OriginalRunsError(VbpipeError, ValueError):
    """An original experiment directory that vbpipe cannot evaluate (the message names the file)."""


@dataclass(frozen=True)
class OriginalModel:
    """One model of an original experiment: ``model-<number>``, the checkpoint it is evaluated
    from (its latest) and the seed it was trained with (from that checkpoint)."""

    number: int
    checkpoint: str
    seed: int

    @property
    def name(self) -> str:
        return model_dirname(self.number)


@dataclass(frozen=True)
class OriginalExperiment:
    """What :func:`discover_experiment` found: the directory, the training keys its
    ``config.json`` gives (vbpipe's names, for a :class:`~vbpipe.config.TrainConfig`) and its
    models in the order of their numbers."""

    root: str
    training: dict
    models: tuple[OriginalModel, ...]


def _section(config: dict, name: str, where: str) -> dict:
    section = config.get(name) or {}
    if not isinstance(section, dict):
        raise OriginalRunsError(f"{where}: {name} must be a mapping, got {section!r}")
    return section


def training_values(config: dict, where: str) -> dict:
    """The :class:`~vbpipe.config.TrainConfig` keys of an original ``config.json`` (``task``,
    ``model``, ``training``); an infinite-horizon run or a ``model.type`` other than ``rnn`` is
    refused, as :func:`load_lightning_checkpoint` refuses their checkpoints."""
    if not isinstance(config, dict):
        raise OriginalRunsError(f"{where}: must hold a mapping, got {type(config).__name__}")
    task, model = _section(config, "task", where), _section(config, "model", where)
    training = _section(config, "training", where)
    if task.get("infinite_horizon") or any(task.get(k) is not None for k in INFINITE_HORIZON_KEYS):
        raise OriginalRunsError(
            f"{where}: an infinite-horizon run (task.infinite_horizon, output_horizon, "
            "total_length): vbpipe evaluates the fixed- and variable-length linearVB tasks only"
        )
    model_type = model.get("type", "rnn")
    if model_type != "rnn":
        raise OriginalRunsError(
            f"{where}: model.type {model_type!r}; only the original's rnn is supported"
        )
    missing = [f"task.{k}" for k in ("task_id", "input_dim", "seq_length") if k not in task]
    missing += [] if "hidden_dim" in model else ["model.hidden_dim"]
    if missing:
        raise OriginalRunsError(f"{where}: lacks {', '.join(missing)}")
    values = {key: task[key] for key in ("task_id", "input_dim", "seq_length", "use_eos")
              if task.get(key) is not None}  # fmt: skip
    values |= {key: model[key] for key in ("hidden_dim", "bias") if model.get(key) is not None}
    # config.json's training keys that are vbpipe's too (the rest, such as seed and num_models,
    # describe the run, not a model)
    values |= {key: training[key] for key in TRAINING_SECTION if training.get(key) is not None}
    return values


def _number(model_dir: Path) -> int:
    match = _MODEL_NUMBER.fullmatch(model_dir.name)
    if match is None:
        raise OriginalRunsError(
            f"{model_dir}: not an original model directory (named {model_dirname('<i>')}, i a "
            "number)"
        )
    return int(match.group(1))


def _shape(training: dict, config_file: Path) -> dict:
    """What every checkpoint of the run must agree with: ``config.json``'s task, shape and length
    (the evaluation reads the checkpoint; the workflow plans from ``config.json``)."""
    from .taskspec import parse_task_id, seq_length_bounds

    try:
        d = int(training["input_dim"])
        return {
            "task_id": [str(t) for t in parse_task_id(training["task_id"], d)],
            "input_dim": d,
            "seq_length": seq_length_bounds(training["seq_length"]),
            "hidden_dim": training["hidden_dim"],
            "bias": bool(training.get("bias", False)),
            "use_eos": bool(training.get("use_eos", False)),
        }
    except (TypeError, ValueError) as error:
        raise OriginalRunsError(f"{config_file}: {error}") from None


def _agrees(hparams: dict, shape: dict, path: Path, config_file: Path) -> None:
    theirs = {**hparams, "seq_length": _bounds(hparams["seq_length"], path)}
    for key, value in shape.items():
        if theirs.get(key) != value:
            raise OriginalRunsError(
                f"{path}: hyper_parameters say {key} {theirs.get(key)!r}, {config_file} says "
                f"{value!r}: not a model of that run"
            )


def _bounds(seq_length, path: Path) -> tuple[int, int]:
    """A checkpoint's ``(min, max)`` sequence length."""
    from .taskspec import seq_length_bounds

    try:
        return seq_length_bounds(seq_length)
    except ValueError as error:
        raise OriginalRunsError(f"{path}: hyper_parameters: {error}") from None


def discover_experiment(root: PathLike) -> OriginalExperiment:
    """An original experiment directory, read and checked whole: ``config.json``, every
    ``model-<i>`` directory and the latest checkpoint of each (read safely, refused as
    :func:`load_lightning_checkpoint` refuses, and checked against ``config.json``).
    :class:`OriginalRunsError` names the first problem; nothing is written."""
    from .checkpoint import CheckpointError

    root = Path(root).expanduser()
    if not root.exists():
        raise OriginalRunsError(f"{root}: no such directory")
    if not root.is_dir():
        raise OriginalRunsError(f"{root}: not a directory")
    config_file = root / CONFIG_NAME
    if not config_file.is_file():
        raise OriginalRunsError(
            f"{root}: no {CONFIG_NAME} (the original project's train.py / train_multiple.py "
            "writes one at the experiment root)"
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise OriginalRunsError(f"{config_file}: not valid JSON ({error})") from None
    training = training_values(config, str(config_file))
    shape = _shape(training, config_file)
    model_dirs = sorted(
        (p for p in root.glob(f"{MODEL_DIR_PREFIX}*") if p.is_dir()),
        key=lambda p: natural_key(p.name),
    )
    if not model_dirs:
        raise OriginalRunsError(
            f"{root}: no {model_dirname('<i>')} directories (the original layout: "
            f"{model_dirname('<i>')}/{LIGHTNING_GLOB})"
        )
    models, seeds, numbers = [], {}, {}
    for model_dir in model_dirs:
        number = _number(model_dir)
        if number in numbers:
            raise OriginalRunsError(
                f"{root}: {numbers[number]} and {model_dir.name} are both model {number}"
            )
        numbers[number] = model_dir.name
        checkpoint = lightning_checkpoint_in(model_dir)
        if checkpoint is None:
            raise OriginalRunsError(f"{model_dir}: no checkpoint ({LIGHTNING_GLOB})")
        try:
            hparams = load_lightning_checkpoint(checkpoint).hparams
        except CheckpointError as error:
            raise OriginalRunsError(str(error).splitlines()[0]) from None
        _agrees(hparams, shape, checkpoint, config_file)
        seed = hparams["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise OriginalRunsError(
                f"{checkpoint}: hyper_parameters seed {seed!r} is not an integer"
            )
        if seed in seeds:
            raise OriginalRunsError(
                f"{root}: {seeds[seed]} and {model_dir.name} were both trained with seed {seed}; "
                "vbpipe tells the models of a run apart by their seeds"
            )
        seeds[seed] = model_dir.name
        models.append(OriginalModel(number, str(checkpoint), seed))
    return OriginalExperiment(str(root), training, tuple(models))
