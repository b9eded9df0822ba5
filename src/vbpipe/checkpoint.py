"""The per-seed checkpoint file ``model.pt``: writing it atomically, reading and validating it.

A checkpoint is a plain dict, loadable with ``torch.load(..., weights_only=True)``::

    {"format": "vbpipe-model", "format_version": 1,
     "state_dict": {"W_ih": (N, D_in), "W_hh": (N, N), "W_r": (d, N) [, "b_h": (N,), "b_r": (d,)]},
     "hparams":  resolved hyper-parameters (JSON types; task_id as three decimal strings),
     "outcome":  {"steps", "curriculum_level", "horizon", "train_accuracy", "train_loss", "converged",
                  "diverged", "diverged_at_step", "early_stopped", "curriculum_history", "wall_seconds"},
     "versions": {"vbpipe", "torch", "numpy", "python", "pytorch_lightning"},
     "created_at": ISO-8601, "stamp": str or None}

Beside ``model.pt`` a small JSON *sidecar* (``model.json``) repeats the stamp, the outcome and the
checkpoint's size and SHA-256. The workflow reads sidecars (never the checkpoints) when it decides at
parse time which models are current; the stamp is an opaque hash of everything the model was trained
from (:func:`vbpipe.plan.model_stamp` computes it), so a sidecar whose stamp differs marks a stale model.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import __version__
from .errors import VbpipeError
from .fileio import atomic_open
from .sidecar import file_sha256, read_sidecar, sidecar_path, write_sidecar  # noqa: F401

if TYPE_CHECKING:  # pragma: no cover
    import torch

FORMAT = "vbpipe-model"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("format", "format_version", "state_dict", "hparams", "outcome", "versions")
REQUIRED_HPARAMS = ("task_id", "input_dim", "seq_length", "hidden_dim", "bias", "seed")


class CheckpointError(VbpipeError, ValueError):
    """A checkpoint that is missing, truncated, foreign or inconsistent."""


def library_versions() -> dict[str, str]:
    import torch

    try:
        import pytorch_lightning

        lightning = str(pytorch_lightning.__version__)
    except ImportError:  # pragma: no cover - lightning is a dependency
        lightning = "absent"
    return {
        "vbpipe": __version__,
        "torch": str(torch.__version__),
        "numpy": str(np.__version__),
        "python": platform.python_version(),
        "pytorch_lightning": lightning,
    }


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same directory, fsync, then rename over ``path``.

    A killed process leaves either the old file or the new one, never a truncated file under ``path``.
    """
    import torch

    with atomic_open(path, "wb") as handle:
        torch.save(obj, handle)


def save_model(
    path,
    state_dict: dict[str, torch.Tensor],
    hparams: dict,
    outcome: dict,
    stamp: str | None = None,
) -> None:
    """Write one model's ``model.pt`` atomically (weights copied to CPU float32), then its sidecar.

    The sidecar is written after the checkpoint: a sidecar always describes a complete checkpoint,
    and a checkpoint without a (matching) sidecar is treated as stale by the workflow.
    """
    import torch

    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state_dict": {
            k: v.detach().to("cpu", torch.float32).clone() for k, v in state_dict.items()
        },
        "hparams": dict(hparams),
        "outcome": dict(outcome),
        "versions": library_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "stamp": stamp,
    }
    validate_payload(payload, path)
    atomic_torch_save(payload, path)
    write_sidecar(path, stamp, outcome)


@dataclass(frozen=True)
class LoadedModel:
    """A validated checkpoint: weights as float64 numpy arrays plus the stored dicts."""

    path: Path
    weights: dict[str, np.ndarray]
    hparams: dict
    outcome: dict
    versions: dict

    @property
    def has_bias(self) -> bool:
        return "b_h" in self.weights

    def torch_weights(self, dtype=None) -> dict[str, torch.Tensor]:
        """The weights as torch tensors (float64 unless ``dtype``)."""
        import torch

        dtype = dtype or torch.float64
        return {k: torch.as_tensor(v, dtype=dtype) for k, v in self.weights.items()}


def validate_payload(payload, path) -> None:
    """Raise :class:`CheckpointError` unless ``payload`` is a consistent vbpipe checkpoint."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: not a vbpipe model checkpoint (no format={FORMAT!r} marker)"
        )
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {missing}")
    if payload["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format_version {payload['format_version']} is not {FORMAT_VERSION}"
        )
    hparams, weights = payload["hparams"], payload["state_dict"]
    missing = [k for k in REQUIRED_HPARAMS if k not in hparams]
    if missing:
        raise CheckpointError(f"{path}: hparams lack {missing}")
    for name in ("W_ih", "W_hh", "W_r"):
        if name not in weights or not hasattr(weights[name], "shape"):
            raise CheckpointError(f"{path}: state_dict lacks tensor {name}")
    n = hparams["hidden_dim"]
    d = hparams["input_dim"]
    d_in = d + int(bool(hparams.get("use_eos", False)))
    expected = {"W_ih": (n, d_in), "W_hh": (n, n), "W_r": (d, n)}
    if hparams["bias"]:
        expected.update({"b_h": (n,), "b_r": (d,)})
    for name, shape in expected.items():
        if name not in weights:
            raise CheckpointError(
                f"{path}: hparams say bias={hparams['bias']} but state_dict lacks {name}"
            )
        if tuple(weights[name].shape) != shape:
            raise CheckpointError(
                f"{path}: {name} has shape {tuple(weights[name].shape)}, expected {shape} from hparams"
            )


def _torch_load(path: Path) -> dict:
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign pickles
        first_line = (
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        )
        raise CheckpointError(
            f"{path}: cannot be read as a checkpoint (truncated or corrupt?): {first_line}"
        ) from error
    if isinstance(payload, dict) and isinstance(payload.get("state_dict"), dict):
        payload["state_dict"] = {
            k: v.detach().cpu().numpy() if hasattr(v, "detach") else v
            for k, v in payload["state_dict"].items()
        }
    return payload


def load_model(path) -> LoadedModel:
    """Read and validate ``model.pt``; a missing, truncated or foreign file raises :class:`CheckpointError`.

    The checkpoint is read without torch when it is one vbpipe wrote (:mod:`vbpipe.torchfile`), so
    that evaluation jobs need not import torch; anything else goes through ``torch.load``. A
    ``.ckpt`` file is the original project's Lightning checkpoint
    (:func:`vbpipe.original_runs.load_lightning_checkpoint`).
    """
    from . import torchfile

    path = Path(path)
    if path.suffix == ".ckpt":
        # By name, not an import statement, so that the code fingerprints (which follow import
        # statements) of training and of the workflow's evaluation, which read only vbpipe's own
        # model.pt, do not cover the original project's reader.
        import importlib

        return importlib.import_module("vbpipe.original_runs").load_lightning_checkpoint(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file does not exist")
    try:
        payload = torchfile.load(path)
    except torchfile.UnsupportedFile:
        payload = _torch_load(path)
    validate_payload(payload, path)
    weights = {k: np.asarray(v, dtype=np.float64) for k, v in payload["state_dict"].items()}
    return LoadedModel(path, weights, payload["hparams"], payload["outcome"], payload["versions"])
