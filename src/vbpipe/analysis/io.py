"""All file input/output of the analysis stages.

Everything that touches the file system lives here, so the science and figure modules stay pure:

- :func:`read_summary` reads an experiment's ``evaluation_summary.json``;
- :func:`write_json` writes JSON atomically, with NaN/inf converted to ``null`` and numpy types
  converted to plain Python;
- :func:`save_figure` saves a matplotlib figure atomically;
- :func:`save_npy` saves a numpy array atomically.

"Atomically" means: write to a temporary file in the destination directory, then ``os.replace`` it
onto the final name, so a reader (or Snakemake) never sees a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["read_summary", "to_jsonable", "write_json", "save_figure", "save_npy"]


def read_summary(path: str | os.PathLike) -> dict:
    """Read an ``evaluation_summary.json`` and check its top-level shape.

    Returns the parsed dictionary. Raises ``FileNotFoundError`` if the file does not exist and
    ``ValueError`` if it is not a JSON object with a ``"metrics"`` list.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"evaluation summary not found: {path}")
    with path.open("r", encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), list):
        raise ValueError(
            f"{path} is not an evaluation summary: expected an object with a 'metrics' list"
        )
    return data


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types: numpy scalars/arrays to Python, NaN/inf to ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, (complex, np.complexfloating)):
        return [to_jsonable(obj.real), to_jsonable(obj.imag)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if obj is None or isinstance(obj, str):
        return obj
    raise TypeError(f"cannot convert {type(obj).__name__} to JSON")


@contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (NaN/inf become ``null``). Returns the path."""
    path = Path(path)
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)
    with _atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 150) -> Path:
    """Save a matplotlib ``Figure`` to ``path`` atomically; the format follows the suffix."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    with _atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return path


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Save ``array`` in ``.npy`` format to ``path`` atomically. Returns the path."""
    path = Path(path)
    with _atomic_path(path) as tmp:
        with tmp.open("wb") as fh:
            np.save(fh, np.asarray(array), allow_pickle=False)
    return path
