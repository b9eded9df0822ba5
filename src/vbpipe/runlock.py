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


def lock_owner(dotdir: str | os.PathLike = ".snakemake") -> dict | None:
    """Who holds ``dotdir/locks``: ``{"host", "pid", "started", "alive", "here"}`` (``here``: this
    host; ``alive`` is None for another host's process), or None when there is no lock or its owner
    was not recorded."""
    dotdir = Path(dotdir)
    locks = dotdir / "locks"
    if not (locks.is_dir() and any(locks.iterdir())):
        return None
    try:
        owner = json.loads((dotdir / "vbpipe" / "owner.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return None
    here = owner.get("host") == socket.gethostname()
    alive = _alive(owner["pid"], owner.get("started")) if here else None
    if here and owner["pid"] == os.getpid():
        return None
    return {**owner, "alive": alive, "here": here}


def locked_paths(dotdir: str | os.PathLike = ".snakemake") -> set[str]:
    """The files Snakemake's file locks name (one path a line in ``locks/*.lock``)."""
    paths: set[str] = set()
    for lock in sorted((Path(dotdir) / "locks").glob("*.lock")):
        try:
            paths.update(line.strip() for line in lock.read_text().splitlines() if line.strip())
        except OSError:
            continue
    return paths


def live_lock_message(
    targets, dotdir: str | os.PathLike = ".snakemake", unlocking: bool = False
) -> str | None:
    """The one line to stop a run with when another, live run holds the lock on some of
    ``targets`` (or on anything, when ``unlocking``): it names the owner and says to wait, never to
    ``--unlock``. None when Snakemake may go on (no lock, a dead owner, no shared file)."""
    owner = lock_owner(dotdir)
    if owner is None:
        return None
    if owner["here"] and not owner["alive"]:
        return None  # release_stale_lock removes it
    if not unlocking:
        shared = locked_paths(dotdir) & {os.path.normpath(str(t)) for t in targets}
        if not shared:
            return None
    where = (
        f"pid {owner['pid']} on this host"
        if owner["here"]
        else (f"pid {owner['pid']} on host {owner.get('host')}")
    )
    if owner["here"]:
        state = "is still running"
        advice = (
            f"wait for it to finish, or stop it (kill {owner['pid']}) and rerun; do not use "
            "--unlock while it runs"
        )
    else:
        state = "may still be running (it cannot be checked from here)"
        advice = (
            f"if no Snakemake runs there any more, run `snakemake --unlock` (on {owner.get('host')} "
            "or here) and rerun"
        )
    action = "--unlock refused" if unlocking else "this run cannot start"
    return (
        f"{action}: another Snakemake run ({where}) holds the lock of this directory and {state}; "
        f"{advice}"
    )


def has_locks(dotdir: str | os.PathLike = ".snakemake") -> bool:
    """Whether any Snakemake lock file is present (whoever holds it)."""
    locks = Path(dotdir) / "locks"
    return locks.is_dir() and any(locks.iterdir())
