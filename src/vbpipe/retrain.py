"""Forced retraining of chosen models: their checkpoints are set aside, so the next run trains them.

The planner (:mod:`vbpipe.plan`) retrains a model whose checkpoint is missing; packs have hashed
rule names, so Snakemake's ``--forcerun`` cannot name "train these models". ``vbpipe retrain``
chooses models by experiment, variant and seed and *moves* each one's ``checkpoint/`` folder
(``model.pt``, its sidecar, training log, TensorBoard events, a ``resume.pt``) to
``results/.retired/{time}/...``: the next ``snakemake`` trains them from scratch and redoes their
evaluation and everything downstream; the retired folder can be moved back, or deleted when no
longer wanted.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError
from .config.experiments import WorkflowConfig
from .results import layout

#: Under the results root: where retired checkpoints go (one folder per ``vbpipe retrain`` call).
RETIRED_DIRNAME = ".retired"


@dataclass(frozen=True)
class ChosenModel:
    experiment: str
    variant: str
    seed: int

    def checkpoint_dir(self, root: str | os.PathLike) -> Path:
        return Path(
            layout.model_file(self.experiment, self.variant, self.seed, "checkpoint", root)
        ).parent


def choose_models(
    config: WorkflowConfig,
    experiments: list[str] | None = None,
    variants: list[str] | None = None,
    seeds: list[int] | None = None,
) -> list[ChosenModel]:
    """The models of the config that match every filter given (a variant filter may be a shell
    pattern, ``copy-L3-h32-*``). A filter that matches nothing is an error naming what exists."""
    known = list(config.experiments)
    for name in experiments or []:
        if name not in config.experiments:
            raise ConfigError(
                f"--experiment {name}: not an experiment of the config; known: {known}"
            )
    for name in experiments or []:
        if config.experiments[name].original_runs is not None:
            raise ConfigError(
                f"--experiment {name}: its models are original runs, trained elsewhere (read from "
                f"{config.experiments[name].original_runs}); vbpipe does not retrain them"
            )
    chosen_experiments = [
        config.experiments[n]
        for n in (experiments or known)
        if config.experiments[n].original_runs is None
    ]
    pool = [v for e in chosen_experiments for v in e.variants]
    for pattern in variants or []:
        if not any(fnmatch.fnmatchcase(v.name, pattern) for v in pool):
            names = sorted({v.name for v in pool})
            raise ConfigError(
                f"--variant {pattern}: matches no variant of {[e.name for e in chosen_experiments]}; "
                f"variants: {names[:6]}{' ...' if len(names) > 6 else ''}"
            )
    picked = [
        v for v in pool if not variants or any(fnmatch.fnmatchcase(v.name, p) for p in variants)
    ]
    all_seeds = sorted({s for v in picked for s in v.seeds})
    for seed in seeds or []:
        if seed not in all_seeds:
            raise ConfigError(
                f"--seed {seed}: not a seed of the chosen variants; seeds: {all_seeds}"
            )
    return [
        ChosenModel(v.experiment, v.name, seed)
        for v in picked
        for seed in v.seeds
        if not seeds or seed in seeds
    ]


def retire_checkpoints(
    models: list[ChosenModel],
    root: str | os.PathLike = layout.RESULTS_ROOT,
    stamp: str | None = None,
) -> tuple[Path, list[Path]]:
    """Move each chosen model's checkpoint folder under ``root/.retired/{stamp}/`` (same relative
    path). Returns the retired folder and the checkpoint folders moved (models without one are
    skipped: the next run trains them anyway)."""
    stamp = stamp or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    retired = Path(root) / RETIRED_DIRNAME / stamp
    moved = []
    for model in models:
        source = model.checkpoint_dir(root)
        if not source.is_dir():
            continue
        target = retired / source.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target) if _same_device(source, target.parent) else shutil.move(
            source, target
        )
        moved.append(source)
    return retired, moved


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev
