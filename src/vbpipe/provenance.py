"""Where and from what a result was made: git commit and dirty flag, host, device, Slurm job id and
library versions, as MLflow records them per run.

Provenance is a record *beside* a result, never an input of one: it enters no training stamp
(:func:`vbpipe.plan.model_stamp`) and no evaluation parameter, so a new commit, another host or
another Slurm job retrains and re-evaluates nothing. Training's stamp follows ``vbpipe.jobs.train``
and its imports, which do not include this module (``tests/workflow/test_provenance.py`` checks it).

No torch import here: versions come from the installed distributions' metadata, and a GPU's name is
asked of torch only when torch is already loaded (a training job), so that a CPU evaluation stays
torch-free.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path

from . import __version__

#: Distributions whose versions a record lists (absent ones as None).
LIBRARIES = ("torch", "numpy", "scipy", "pandas", "pytorch-lightning", "snakemake")
#: Keys of a provenance record, in display order.
FIELDS = (
    "git_commit",
    "git_dirty",
    "host",
    "device",
    "device_name",
    "slurm_job_id",
    "versions",
    "recorded_at",
)
GIT_TIMEOUT_SECONDS = 10


def _git(args: list[str], cwd: Path) -> str | None:
    """Output of a read-only git command, or None when git or the checkout is absent."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")  # never take the index lock of a busy checkout
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(where: str | os.PathLike) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding ``where``; ``(None, None)`` outside one.
    Dirty means a tracked file differs from the commit (untracked files do not count)."""
    where = Path(where)
    commit = _git(["rev-parse", "HEAD"], where)
    if commit is None:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return commit.strip(), (None if status is None else bool(status.strip()))


@cache
def code_checkout_state() -> tuple[str | None, bool | None]:
    """Git state of the code that runs: the checkout holding the vbpipe package (an editable
    install), else the working directory (the workflow's checkout, with vbpipe installed)."""
    commit, dirty = git_state(Path(__file__).resolve().parent)
    if commit is None:
        commit, dirty = git_state(Path.cwd())
    return commit, dirty


@cache
def _versions() -> tuple:
    return tuple(library_versions_uncached().items())


def library_versions() -> dict[str, str | None]:
    """vbpipe, Python and :data:`LIBRARIES` versions (read once per process)."""
    return dict(_versions())


def library_versions_uncached() -> dict[str, str | None]:
    """vbpipe, Python and :data:`LIBRARIES` versions, from package metadata (nothing imported)."""
    versions: dict[str, str | None] = {"vbpipe": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


@cache
def device_name(device: str | None) -> str | None:
    """A readable name of ``device`` (``cpu``, ``cuda``, ``cuda:1``): the CPU model, or the GPU's
    name when torch is already loaded; None when unknown."""
    if device is None:
        return None
    device = str(device)
    if device == "cpu":
        return _cpu_name()
    torch = sys.modules.get("torch")
    if device.startswith("cuda") and torch is not None:
        try:
            index = int(device.partition(":")[2] or 0)
            return str(torch.cuda.get_device_name(index))
        except Exception:  # noqa: BLE001 - a name is a nicety, never a failure
            return None
    return None


def collect(device: str | None = None) -> dict:
    """This process's provenance record (:data:`FIELDS`), for a job that ran on ``device``."""
    commit, dirty = code_checkout_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "host": socket.gethostname(),
        "device": None if device is None else str(device),
        "device_name": device_name(device),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID") or None,
        "versions": library_versions(),
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def check_record(record, where: str) -> str | None:
    """Why ``record`` is not a provenance record (None when it is one, or is absent)."""
    if record is None:
        return None
    if not isinstance(record, dict):
        return f"{where} is not an object"
    missing = [key for key in FIELDS if key not in record]
    return f"{where} lacks {missing}" if missing else None
