"""A plain rerun after a killed Snakemake: release the working directory's lock when its owner is dead.

Snakemake locks ``.snakemake/locks/`` while it runs and unlocks on exit; a ``kill -9`` (or a closed
laptop lid, a lost login node session) leaves the lock behind, and the next run stops with a
LockException until someone runs ``snakemake --unlock``. Before Snakemake takes its lock, the
workflow records who takes it (host, pid, the process's start time) in
``.snakemake/vbpipe/owner.json``; a later run that finds locks whose owner was a process on *this*
host that no longer exists removes them, and says so. A lock held by a live process, or taken on
another host (a shared filesystem), is left alone: Snakemake then refuses to run, as it should.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

from .fileio import pid_alive

log = logging.getLogger("vbpipe.runlock")


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, started: str | None) -> bool:
    """Whether the process is still the one recorded (a reused pid has another start time)."""
    if not pid_alive(pid):
        return False
    now = _start_time(pid)
    return started is None or now is None or now == started


def release_stale_lock(dotdir: str | os.PathLike = ".snakemake") -> bool:
    """Remove ``dotdir/locks`` if its recorded owner is a dead process of this host; then record this
    process as the owner. Returns whether a stale lock was removed."""
    dotdir = Path(dotdir)
    locks = dotdir / "locks"
    owner_file = dotdir / "vbpipe" / "owner.json"
    removed = False
    if locks.is_dir() and any(locks.iterdir()):
        try:
            owner = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            owner = None
        if (
            isinstance(owner, dict)
            and owner.get("host") == socket.gethostname()
            and isinstance(owner.get("pid"), int)
            and owner["pid"] != os.getpid()
            and not _alive(owner["pid"], owner.get("started"))
        ):
            for path in locks.iterdir():
                path.unlink(missing_ok=True)
            removed = True
            log.warning(
                "removed the lock left in %s by a Snakemake run that was killed (pid %s on this "
                "host, no longer running); continuing where it stopped",
                locks,
                owner["pid"],
            )
    if not (locks.is_dir() and any(locks.iterdir())):
        owner_file.parent.mkdir(parents=True, exist_ok=True)
        owner = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": _start_time(os.getpid()),
        }
        owner_file.write_text(json.dumps(owner))
    return removed
