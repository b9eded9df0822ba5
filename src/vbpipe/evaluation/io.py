"""All file input/output of the evaluation stage (the other evaluation modules never touch files).

- JSON: :func:`write_json` writes atomically with NaN/inf turned into ``null`` (and
  ``allow_nan=False``, so a non-finite number can never reach the file); :func:`read_json` reads.
- Arrays: :func:`write_npz` / :func:`read_npz` (compressed ``.npz``).
- Figures and text: :func:`save_figure`, :func:`write_text`.
- Models: :func:`resolve_checkpoint` (a model directory or a ``model.pt``), :func:`load_checkpoint`,
  :func:`read_variant_config` (the variant's ``config.json``), :func:`find_model_dirs` (natural
  sort).
- The packaged JSON Schema of ``evaluation_summary.json``: :func:`load_summary_schema`.

"Atomic" means: write a temporary file in the destination directory, flush and fsync it, then
``os.replace`` it onto the final name. A killed job leaves the old file or the new one, never a
half-written one.

Layout assumed (DESIGN.md): ``results/{experiment}/{variant}/model-{seed}/checkpoint/model.pt``, the
variant's ``config.json`` in ``{variant}/``, evaluation outputs in ``model-{seed}/results/``.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

from ..checkpoint import CheckpointError, LoadedModel, load_model
from ..fileio import (  # noqa: F401  (re-exported: the evaluation modules' single I/O entry point)
    read_json,
    read_npz,
    save_figure,
    to_jsonable,
    write_json,
    write_npz,
    write_text,
)

CHECKPOINT_RELPATH = Path("checkpoint") / "model.pt"
METRICS_NAME = "metrics.json"
ARRAYS_NAME = "arrays.npz"
RESULTS_DIRNAME = "results"
VARIANT_CONFIG_NAME = "config.json"
SUMMARY_SCHEMA_NAME = "evaluation_summary.schema.json"

__all__ = [
    "ARRAYS_NAME",
    "CHECKPOINT_RELPATH",
    "METRICS_NAME",
    "RESULTS_DIRNAME",
    "find_metrics_files",
    "find_model_dirs",
    "load_checkpoint",
    "load_summary_schema",
    "model_dir_of",
    "natural_key",
    "read_json",
    "read_npz",
    "read_variant_config",
    "resolve_checkpoint",
    "save_figure",
    "to_jsonable",
    "write_json",
    "write_npz",
    "write_text",
]


# ----------------------------------------------------------------------------------------- models


def natural_key(text: str) -> list:
    """Sort key that orders ``model-2`` before ``model-10`` (digit runs compared as integers)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(text))]


def resolve_checkpoint(model: str | os.PathLike) -> Path:
    """The ``model.pt`` of a model: ``model`` is the file itself or a ``model-{seed}`` directory."""
    path = Path(model)
    if path.is_file():
        return path
    for candidate in (path / CHECKPOINT_RELPATH, path / "model.pt"):
        if candidate.is_file():
            return candidate
    raise CheckpointError(
        f"{path}: no checkpoint found (expected {path / CHECKPOINT_RELPATH} or a model.pt file)"
    )


def model_dir_of(checkpoint: str | os.PathLike) -> Path:
    """``model-{seed}/`` for ``model-{seed}/checkpoint/model.pt`` (else the checkpoint's
    directory)."""
    checkpoint = Path(checkpoint)
    parent = checkpoint.parent
    return parent.parent if parent.name == "checkpoint" else parent


def load_checkpoint(model: str | os.PathLike) -> LoadedModel:
    """Load and validate a model (raises :class:`vbpipe.checkpoint.CheckpointError` on a bad
    file)."""
    return load_model(resolve_checkpoint(model))


def read_variant_config(model_dir: str | os.PathLike) -> dict | None:
    """The variant's ``config.json`` (``model_dir/../config.json``), or None when there is none."""
    path = Path(model_dir).parent / VARIANT_CONFIG_NAME
    if not path.is_file():
        return None
    data = read_json(path)
    return data if isinstance(data, dict) else None


def _is_model_dir(path: Path) -> bool:
    return (path / CHECKPOINT_RELPATH).is_file() or (path / "model.pt").is_file()


def find_model_dirs(root: str | os.PathLike, pattern: str = "model-*") -> list[Path]:
    """Model directories under ``root`` (an experiment, a variant or one model), naturally sorted.

    A directory counts when its name matches ``pattern`` and it holds ``checkpoint/model.pt``.
    ``root`` itself is returned alone when it is a model directory. The search is recursive; the
    sort key is the path relative to ``root`` compared part by part with :func:`natural_key`
    (``model-2`` before ``model-10``).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: models directory does not exist")
    if _is_model_dir(root):
        return [root]
    found = [p for p in root.rglob(pattern) if p.is_dir() and _is_model_dir(p)]
    return sorted(found, key=lambda p: [natural_key(part) for part in p.relative_to(root).parts])


def find_metrics_files(root: str | os.PathLike, pattern: str = "model-*") -> list[Path]:
    """``model-*/results/metrics.json`` under ``root`` for every model directory (naturally
    sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: directory does not exist")
    dirs = [root] if root.match(pattern) else []
    dirs += [p for p in root.rglob(pattern) if p.is_dir()]
    found = [d / RESULTS_DIRNAME / METRICS_NAME for d in dirs]
    found = [f for f in found if f.is_file()]
    return sorted(
        set(found), key=lambda p: [natural_key(part) for part in p.relative_to(root).parts]
    )


def load_summary_schema() -> dict:
    """The packaged JSON Schema of ``evaluation_summary.json``."""
    text = resources.files("vbpipe").joinpath("schemas", SUMMARY_SCHEMA_NAME).read_text("utf-8")
    return json.loads(text)
