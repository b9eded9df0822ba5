"""Runs made with the original project (``emt_variable_binding``'s ``train.py`` /
``train_multiple.py``): its layout and its Lightning checkpoints, read safely.

The original layout (``original-behaviour.md`` 3.4)::

    EXPERIMENT/config.json                       metadata.experiment_name, task, model, training
    EXPERIMENT/model-<i>/lightning_logs/version_<v>/checkpoints/epoch=<e>-step=<s>.ckpt

A ``.ckpt`` is a ``torch.save`` zip of Lightning's dict: ``state_dict`` with the original module's
parameter names (:data:`PARAMETER_NAMES`), ``hyper_parameters`` (``seed``, ``task_id`` as a tuple,
``input_dim``, ``seq_length``, ``hidden_dim``, ...), ``global_step`` and optimizer and loop state.
It is read by :func:`vbpipe.torchfile.load` with a few stand-ins (``lightning=True``): no module of
the checkpoint's is imported and nothing in it is called, so a hostile file cannot run code (a
global outside the allowlist is refused, naming it). It becomes the same
:class:`~vbpipe.checkpoint.LoadedModel` as vbpipe's own ``model.pt`` of those weights, so every
evaluation and analysis treats both alike.

Choices where the original was loose: the model directory's *latest* checkpoint is used (highest
``version_*``, then the highest step; the original took whichever the filesystem listed first),
and biases, when the model had them (``--bias``), are kept (``b_h = bias_ih + bias_hh``; the
original's evaluation silently dropped them, its bug 8.21).

A whole original experiment, as the workflow reads it, is :mod:`vbpipe.original_experiment`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .results.layout import MODEL_DIR_PREFIX, checkpoint_in, natural_key, seed_of_model_dir
from .results.records import ModelIdentity

PathLike = str | os.PathLike

LIGHTNING_SUFFIX = ".ckpt"
LIGHTNING_GLOB = "lightning_logs/version_*/checkpoints/*.ckpt"

#: The original ``RNNModel``'s parameter names (inside its Lightning module) -> vbpipe's.
PARAMETER_NAMES = {
    "model.rnn.weight_ih_l0": "W_ih",
    "model.rnn.weight_hh_l0": "W_hh",
    "model.readout.weight": "W_r",
}
BIAS_NAMES = ("model.rnn.bias_ih_l0", "model.rnn.bias_hh_l0", "model.readout.bias")
#: Hyper-parameters of an infinite-horizon model (another task family: not evaluated here).
INFINITE_HORIZON_KEYS = ("output_horizon", "total_length")
_VERSION = re.compile(r"version_(\d+)$")


def is_lightning_checkpoint(path: PathLike) -> bool:
    return Path(path).suffix == LIGHTNING_SUFFIX


def lightning_checkpoint_in(model_dir: PathLike) -> Path | None:
    """The latest ``lightning_logs/version_*/checkpoints/*.ckpt`` of an original model directory
    (highest version, then highest step), or ``None``."""
    found = [p for p in Path(model_dir).glob(LIGHTNING_GLOB) if p.is_file()]
    if not found:
        return None

    def order(path: Path):
        version = _VERSION.search(path.parent.parent.name)
        return (int(version.group(1)) if version else -1, natural_key(path.name))

    return max(found, key=order)


def model_checkpoint(model_dir: PathLike) -> Path | None:
    """The checkpoint of a model directory: vbpipe's ``checkpoint/model.pt``, else the original's
    Lightning checkpoint, else ``None``."""
    own = checkpoint_in(model_dir)
    return own if own.is_file() else lightning_checkpoint_in(model_dir)


def model_checkpoints(
    variant_dir: PathLike, pattern: str = f"{MODEL_DIR_PREFIX}*"
) -> list[tuple[Path, Path]]:
    """``(model_dir, checkpoint)`` for each directory of ``variant_dir`` matching ``pattern``
    that holds a checkpoint in either layout, naturally sorted."""
    pairs = []
    for model_dir in Path(variant_dir).glob(pattern):
        checkpoint = model_checkpoint(model_dir) if model_dir.is_dir() else None
        if checkpoint is not None:
            pairs.append((model_dir, checkpoint))
    return sorted(pairs, key=lambda pair: natural_key(pair[0].name))


def model_identity(experiment, variant, model_dir: PathLike, checkpoint: PathLike):
    """Who a model is. vbpipe's directories are named ``model-{seed}``; the original's are
    ``model-{i}`` with the seed in the checkpoint's hyper-parameters (``seed + 1000 (i-1)``),
    so an original model keeps its directory name and takes its seed from the checkpoint."""
    model_dir = Path(model_dir)
    if not is_lightning_checkpoint(checkpoint):
        return ModelIdentity(experiment, variant, seed_of_model_dir(model_dir))
    seed = int(load_lightning_checkpoint(checkpoint).hparams["seed"])
    return ModelIdentity(experiment, variant, seed, model_dir.name)


def _read(path: Path) -> dict:
    from . import torchfile
    from .checkpoint import CheckpointError

    try:
        payload = torchfile.load(path, lightning=True)
    except torchfile.UnsupportedFile as error:
        raise CheckpointError(
            f"{path}: cannot be read safely as a Lightning checkpoint ({error}); vbpipe does not "
            "unpickle arbitrary objects"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("state_dict"), dict):
        raise CheckpointError(f"{path}: not a Lightning checkpoint (no state_dict)")
    if not isinstance(payload.get("hyper_parameters"), dict):
        raise CheckpointError(f"{path}: Lightning checkpoint without hyper_parameters")
    return payload


def _weights(state: dict, path: Path) -> dict[str, np.ndarray]:
    from .checkpoint import CheckpointError

    missing = [name for name in PARAMETER_NAMES if name not in state]
    if missing:
        raise CheckpointError(
            f"{path}: state_dict lacks {missing}: not the original project's RNN (its keys: "
            f"{sorted(state)[:6]})"
        )
    weights = {ours: np.asarray(state[theirs]) for theirs, ours in PARAMETER_NAMES.items()}
    bias_ih, bias_hh, bias_r = (state.get(name) for name in BIAS_NAMES)
    if bias_ih is not None or bias_hh is not None:
        n = weights["W_hh"].shape[0]
        zeros = np.zeros(n, dtype=np.float32)
        b_ih = zeros if bias_ih is None else np.asarray(bias_ih)
        b_hh = zeros if bias_hh is None else np.asarray(bias_hh)
        weights["b_h"] = b_ih + b_hh
        d = weights["W_r"].shape[0]
        weights["b_r"] = np.zeros(d, np.float32) if bias_r is None else np.asarray(bias_r)
    return weights


def _hparams(hyper: dict, weights: dict, path: Path) -> dict:
    from .checkpoint import CheckpointError
    from .taskspec import parse_task_id

    hparams = dict(hyper)
    if all(hparams.get(key) is not None for key in INFINITE_HORIZON_KEYS):
        raise CheckpointError(
            f"{path}: an infinite-horizon model (output_horizon, total_length): vbpipe evaluates "
            "the fixed- and variable-length linearVB tasks only"
        )
    if hparams.get("model_type", "rnn") != "rnn":
        raise CheckpointError(
            f"{path}: model_type {hparams['model_type']!r}; only the original's rnn is supported"
        )
    missing = [key for key in ("task_id", "input_dim", "seq_length", "seed") if key not in hparams]
    if missing:
        raise CheckpointError(f"{path}: hyper_parameters lack {missing}")
    n = weights["W_hh"].shape[0]
    if hparams.get("hidden_dim", n) != n:
        raise CheckpointError(
            f"{path}: hyper_parameters say hidden_dim {hparams['hidden_dim']}, weight_hh_l0 is {n}"
        )
    hparams["hidden_dim"] = n
    hparams["bias"] = "b_h" in weights
    hparams.setdefault("use_eos", False)
    hparams["seq_length"] = (
        list(hparams["seq_length"])
        if isinstance(hparams["seq_length"], (list, tuple))
        else hparams["seq_length"]
    )
    try:
        task_id = parse_task_id(hparams["task_id"], int(hparams["input_dim"]))
    except ValueError as error:
        raise CheckpointError(f"{path}: task_id: {error}") from None
    hparams["task_id"] = [str(t) for t in task_id]
    for key, value in hparams.items():
        if isinstance(value, tuple):
            hparams[key] = list(value)
    return hparams


def load_lightning_checkpoint(path: PathLike):
    """An original project's ``.ckpt`` as a validated :class:`~vbpipe.checkpoint.LoadedModel`
    (float64 weights under vbpipe's names, hyper-parameters with ``bias`` added and ``task_id``
    as decimal strings, ``outcome`` with the steps trained). :class:`CheckpointError` names what
    is missing, foreign or unsafe."""
    from .checkpoint import FORMAT, FORMAT_VERSION, CheckpointError, LoadedModel, validate_payload

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    payload = _read(path)
    weights = _weights(payload["state_dict"], path)
    hparams = _hparams(payload["hyper_parameters"], weights, path)
    step = payload.get("global_step")
    outcome = {"steps": int(step) if isinstance(step, (int, np.integer)) else None}
    versions = {"pytorch_lightning": str(payload.get("pytorch-lightning_version"))}
    validate_payload(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "state_dict": weights,
            "hparams": hparams,
            "outcome": outcome,
            "versions": versions,
        },
        path,
    )
    weights = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    return LoadedModel(path, weights, hparams, outcome, versions)
