"""The front door of a workflow job: its output and the error that stops it go to its log file.

Around :func:`vbpipe.jobs.logs.log_to`: a user error (:class:`vbpipe.errors.VbpipeError`, a full
disk however the writer reported it) ends the job with one line, in the log and on the terminal,
and exit status 1; any other exception is a bug, and its traceback is written to the log too
(Snakemake shows a failed job's log) before it is raised. A separate module from ``logs`` (which
training imports), so that it changes no model's training stamp.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

from ..diskspace import disk_full_error
from ..errors import VbpipeError
from .logs import log_to


@contextlib.contextmanager
def job_log(path: str | os.PathLike | None, writes_to: str | os.PathLike = "."):
    """Run the block with its output in ``path``; ``writes_to`` is where the job writes (named
    when a full disk cannot say which file failed)."""
    terminal = sys.stderr
    try:
        with log_to(path), _errors_to_log(path, writes_to):
            yield
    except _Reported as reported:
        print(f"vbpipe: error: {reported} (log: {path})", file=terminal)
        raise SystemExit(1) from None


class _Reported(Exception):
    """A user error already written to the job's log."""


@contextlib.contextmanager
def _errors_to_log(path, writes_to):
    try:
        yield
    except Exception as error:
        full = disk_full_error(error, writes_to)
        if full is not None or isinstance(error, VbpipeError):
            message = str(full or error)
            print(f"vbpipe: error: {message}", file=sys.stderr)  # the log (inside log_to)
            raise _Reported(message) from None
        traceback.print_exc()
        raise
