"""A full disk named as such: the path, and the free space left where it was written.

A writer deep in a library turns ENOSPC into a chain of exceptions (PIL's PNG writer adds an
``AttributeError``; torch's zip writer a ``RuntimeError`` saying only "file write failed"). The job
front door (:mod:`vbpipe.jobs.joblog`) and the workflow's start-up ask here whether a failure was a
full disk, and say so in one line. Kept out of :mod:`vbpipe.fileio`, which training imports, so that
this message changes no model's training stamp.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from .errors import VbpipeError

#: Below this many free bytes a failed write is taken as a full disk even when the writer turned
#: the ENOSPC into another exception.
NEARLY_FULL_BYTES = 1 << 20
#: The workflow refuses to start with less than this free where results and Snakemake's records go.
MIN_FREE_TO_START = 64 << 20


class DiskFullError(VbpipeError, OSError):
    """A write failed, or would fail, because the file system is full. Atomic writes leave the old
    file or none, so the rerun after freeing space redoes exactly what is missing."""

    def __init__(self, message: str):
        super().__init__(message)
        self.errno = errno.ENOSPC


def human_bytes(n: float) -> str:
    """``512 B``, ``1.5 MiB``, ``78.2 GiB``."""
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def free_bytes(path: str | os.PathLike) -> int | None:
    """Free bytes on the file system of ``path`` (its nearest existing parent); None if unknown."""
    here = Path(path).absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    try:
        return shutil.disk_usage(here).free
    except OSError:
        return None


def is_disk_full(error: BaseException | None) -> bool:
    """ENOSPC or EDQUOT anywhere in the exception's chain (``__cause__`` / ``__context__``)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full_error(error: BaseException, where: str | os.PathLike) -> DiskFullError | None:
    """A :class:`DiskFullError` naming the file ``error`` failed on (else ``where``) and the free
    space there, when the failure was a full disk (ENOSPC in the chain, or a write error on a file
    system with almost nothing left); else None."""
    if isinstance(error, DiskFullError):
        return error
    path = _failed_path(error) or Path(where)
    free = free_bytes(path)
    nearly_full = free is not None and free < NEARLY_FULL_BYTES and isinstance(error, Exception)
    if not (is_disk_full(error) or nearly_full):
        return None
    left = "unknown" if free is None else human_bytes(free)
    return DiskFullError(
        f"no space left on device writing {path} ({left} free there); free some space and rerun "
        "the same command: no partial file was kept"
    )


def _failed_path(error: BaseException | None) -> Path | None:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.filename:
            return Path(os.fsdecode(error.filename))
        error = error.__cause__ or error.__context__
    return None


def check_free_space(paths, minimum: int = MIN_FREE_TO_START) -> None:
    """Refuse to start when a folder the run writes to has less than ``minimum`` bytes free."""
    for path in paths:
        free = free_bytes(path)
        if free is not None and free < minimum:
            raise DiskFullError(
                f"only {human_bytes(free)} free for {path} (the run needs at least "
                f"{human_bytes(minimum)}); free some space, or run from another folder"
            )
