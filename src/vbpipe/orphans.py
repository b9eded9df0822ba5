"""Result folders that no current variant produces: what a sweep edit leaves behind.

Removing a value from a sweep (or lowering a seed count) leaves the old variants' (or seeds')
folders under ``results/{experiment}/``; nothing reads them, and nothing says they are there. The
workflow names them in one line at start-up and ``vbpipe orphans`` lists them (``--remove`` deletes
them, when asked). Only the experiments the config selects are looked at: another config's
experiments are not orphans of this one.
"""

from __future__ import annotations

import os
from pathlib import Path

from .config.experiments import WorkflowConfig
from .results import layout


def _is_variant_dir(path: Path) -> bool:
    return (path / layout.VARIANT_CONFIG_NAME).is_file() or any(
        p.is_dir() for p in path.glob(f"{layout.MODEL_DIR_PREFIX}*")
    )


def find_orphans(
    config: WorkflowConfig, root: str | os.PathLike = layout.RESULTS_ROOT
) -> list[Path]:
    """Variant folders of the selected experiments that are not current variants, and model
    folders of current variants whose seed the config no longer lists, naturally sorted."""
    found: list[Path] = []
    for experiment in config.experiments.values():
        experiment_dir = Path(root) / experiment.name
        if not experiment_dir.is_dir():
            continue
        current = {v.name: v for v in experiment.variants}
        for child in sorted(experiment_dir.iterdir(), key=lambda p: layout.natural_key(p.name)):
            if not child.is_dir() or not _is_variant_dir(child):
                continue
            if child.name not in current:
                found.append(child)
                continue
            seeds = set(current[child.name].seeds)
            for model_dir in sorted(
                child.glob(f"{layout.MODEL_DIR_PREFIX}*"), key=lambda p: layout.natural_key(p.name)
            ):
                try:
                    seed = layout.seed_of_model_dir(model_dir)
                except ValueError:
                    continue
                if model_dir.is_dir() and seed not in seeds:
                    found.append(model_dir)
    return found


def orphans_line(orphans: list[Path], configfiles: list[str] | None = None) -> str | None:
    """The workflow's start-up line naming the orphans (None when there is none)."""
    if not orphans:
        return None
    shown = ", ".join(str(p) for p in orphans[:3])
    more = f" and {len(orphans) - 3} more" if len(orphans) > 3 else ""
    names = [os.path.relpath(os.path.abspath(f)) for f in configfiles or []]
    files = f" --configfile {' '.join(names)}" if names else ""
    return (
        f"vbpipe: {len(orphans)} result folder(s) belong to no current variant or seed: {shown}"
        f"{more}; kept (list them with `vbpipe orphans{files}`, delete them with "
        f"`vbpipe orphans{files} --remove`)"
    )


#: A pack record younger than this is kept even when the current plan does not name it: a Slurm job
#: of an earlier run, still queued, reads its record when it starts.
PACK_RECORD_GRACE_S = 24 * 3600


def remove_stale_packs(
    packs_dir: str | os.PathLike, current: set[str], grace_s: float = PACK_RECORD_GRACE_S
) -> list[Path]:
    """Delete the pack records (``{pack}.json``) that the current plan does not name and that are
    older than ``grace_s``; they accumulate otherwise (one per pack ever planned). The workflow
    calls this only when no other run holds the directory. Returns what was removed."""
    import time

    removed = []
    now = time.time()
    for path in sorted(Path(packs_dir).glob("*.json")):
        if path.stem in current:
            continue
        try:
            if now - path.stat().st_mtime < grace_s:
                continue
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed
