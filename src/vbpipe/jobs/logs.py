"""Where a job's output goes: its Snakemake log file, including the error that stopped it.

A user error (:class:`vbpipe.errors.VbpipeError`: a full disk, a comparison that cannot be made, a
missing file) ends the job with one line, in its log and on the terminal, and exit status 1; any
other exception keeps its traceback, written to the log too (Snakemake shows the log of a failed
job), then raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path

from ..errors import VbpipeError


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
        except VbpipeError as error:
            line = f"vbpipe: error: {error}"
            print(line, file=handle)
            print(f"{line} (log: {path})", file=old_err)
            raise SystemExit(1) from None
        except Exception:
            traceback.print_exc(file=handle)
            raise
        finally:
            sys.stdout, sys.stderr = old_out, old_err
