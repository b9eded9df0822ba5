"""Where a job's output goes: its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def log_to(path: str | os.PathLike | None):
    """Send this job's stdout, stderr and Python logging (INFO and up) to ``path``, appending."""
    if path is None:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", buffering=1) as handle:
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = handle
        logging.basicConfig(
            stream=handle,
            level=logging.INFO,
            format="%(asctime)s %(name)s: %(message)s",
            datefmt="%H:%M:%S",
            force=True,
        )
        try:
            yield
        finally:
            sys.stdout, sys.stderr = old_out, old_err
