"""The ``model.json`` sidecar beside each ``model.pt``: its stamp, outcome, size and SHA-256.

The workflow reads sidecars (never the checkpoints, which need torch) when it decides at parse time
which models are current (:mod:`vbpipe.plan`), and the aggregation checks that each evaluation record
belongs to the checkpoint it names. The sidecar is written after the checkpoint, so a sidecar always
describes a complete checkpoint.

No torch here.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

SIDECAR_FORMAT = "vbpipe-model-sidecar"


def sidecar_path(path: str | os.PathLike) -> Path:
    """``model.json`` beside ``model.pt`` (any ``X.pt`` has ``X.json``)."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_sidecar(path: str | os.PathLike, stamp: str | None, outcome: dict) -> Path:
    """Record the checkpoint's stamp, outcome, size and SHA-256 in its sidecar (atomically)."""
    from .fileio import write_json

    path = Path(path)
    return write_json(
        sidecar_path(path),
        {
            "format": SIDECAR_FORMAT,
            "stamp": stamp,
            "checkpoint": path.name,
            "size": path.stat().st_size,
            "sha256": file_sha256(path),
            "outcome": outcome,
        },
    )


def read_sidecar(path: str | os.PathLike) -> dict | None:
    """The sidecar of checkpoint ``path``, or None when it is missing or unreadable."""
    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == SIDECAR_FORMAT else None
