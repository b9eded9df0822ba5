"""Atomic file writing and JSON conversion shared by every stage.

"Atomic" means: write a temporary file in the destination directory, flush and fsync it, then
``os.replace`` it onto the final name. A killed job leaves the old file or the new one, never a
half-written one that a later stage (or Snakemake) could mistake for a finished output.

The final file gets the mode the user's umask gives a new file (``0644`` under ``022``), or keeps
the mode of the file it replaces: colleagues on a shared project folder can read results. A
temporary file left by a killed writer (``.{name}.{pid}.{random}.tmp``) is removed by the next
write of the same file once its process is gone.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import VbpipeError


class MissingFileError(VbpipeError, FileNotFoundError):
    """A file a stage reads does not exist (the message names it)."""


class CorruptFileError(VbpipeError, ValueError):
    """A file a stage reads cannot be parsed (the message names it)."""


def _new_file_mode(path: Path) -> int:
    """The mode ``path`` keeps (when it exists) or a new file gets under the current umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this host)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Remove temporary files of earlier writes of ``path`` whose writer process is gone."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        parts = leftover.name[len(path.name) + 2 :].split(".")
        if parts and parts[0].isdigit() and not pid_alive(int(parts[0])):
            leftover.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[Any]:
    """A handle on a temporary file that replaces ``path`` only when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), _new_file_mode(path))
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types: numpy scalars/arrays to Python, NaN/inf to ``None``, complex to ``[re, im]``."""
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


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON atomically; NaN/inf become ``null`` (``allow_nan=False`` guards it).

    An object that is plain JSON already (dicts with string keys, lists, finite floats, ...) is
    dumped as it is; anything else goes through :func:`to_jsonable` first (a large document of
    plain values then costs one pass, not two).
    """
    try:
        text = json.dumps(obj, indent=indent, allow_nan=False)
    except (TypeError, ValueError):
        text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)
    with atomic_open(path, "w") as handle:
        handle.write(text + "\n")
    return Path(path)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; :class:`MissingFileError` / :class:`CorruptFileError` name the file.

    ``NaN`` and ``Infinity`` (which Python's ``json`` accepts) count as corrupt: vbpipe never writes
    them.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: file does not exist")
    with path.open(encoding="utf-8") as handle:
        try:
            return json.load(handle, parse_constant=_reject_constant)
        except ValueError as error:
            raise CorruptFileError(f"{path}: not valid JSON: {error}") from error


def write_csv(path: str | os.PathLike, frame) -> Path:
    """Write a pandas DataFrame as CSV (no index), atomically."""
    with atomic_open(path, "w") as handle:
        frame.to_csv(handle, index=False)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_npz(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], compresslevel: int = 1
) -> Path:
    """Save arrays in one deflate-compressed ``.npz`` (what :func:`numpy.load` reads), atomically.

    ``compresslevel`` 1 (default) compresses these float arrays about as well as numpy's
    ``savez_compressed`` (level 6) in a fraction of the time; 0 stores them uncompressed.
    """
    import zipfile

    method = zipfile.ZIP_DEFLATED if compresslevel > 0 else zipfile.ZIP_STORED
    with atomic_open(path, "wb") as handle:
        with zipfile.ZipFile(
            handle, "w", compression=method, compresslevel=compresslevel or None
        ) as archive:
            for key, value in arrays.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
    return Path(path)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: file does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as error:
        raise CorruptFileError(f"{path}: not a readable .npz file: {error}") from error


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Save one array in ``.npy`` format, atomically."""
    with atomic_open(path, "wb") as handle:
        np.save(handle, np.asarray(array), allow_pickle=False)
    return Path(path)


def save_figure(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Save a matplotlib figure atomically (format from the suffix); a pyplot figure is closed after.

    The package's figures use constrained layout, so no ``bbox_inches="tight"`` (a second full draw).
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    try:
        with atomic_open(path, "wb") as handle:
            fig.savefig(handle, format=fmt, dpi=dpi)
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and getattr(fig, "canvas", None) is not None:
            pyplot.close(fig)
    return path
