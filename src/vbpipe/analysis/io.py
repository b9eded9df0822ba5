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
import os
from pathlib import Path

from ..fileio import save_figure, save_npy, to_jsonable, write_json  # noqa: F401  (re-exported)

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
