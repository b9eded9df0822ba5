"""What a results root holds: every experiment and variant, and for each model whether it is
trained, evaluated, or evaluated from a checkpoint that has changed since (stale).

``vbpipe runs`` reads the results through this module only (never the checkpoints: no torch). A
variant's planned seeds are those its ``config.json`` records (written by its evaluation job);
before that, the model directories found.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ResultsError
from .layout import (
    COMPARISON_DIRNAME,
    LOGS_DIRNAME,
    MODEL_DIR_PREFIX,
    RUNS_DIRNAME,
    VARIANT_CONFIG_NAME,
    checkpoint_in,
    natural_key,
    results_in,
    seed_of_model_dir,
)
from .records import checkpoint_fingerprint, read_metrics

PathLike = str | os.PathLike
#: Directories of a results root that are not experiments.
NOT_EXPERIMENTS = (COMPARISON_DIRNAME, LOGS_DIRNAME, RUNS_DIRNAME)


@dataclass(frozen=True)
class ModelState:
    """One model directory: its seed, whether ``model.pt`` exists, and its metrics record when it
    is readable (``stale``: computed from another checkpoint than the one on disk now)."""

    seed: int
    trained: bool
    record: dict | None
    stale: bool = False

    @property
    def evaluated(self) -> bool:
        return self.record is not None and not self.stale


@dataclass(frozen=True)
class VariantState:
    experiment: str
    variant: str
    planned: tuple[int, ...]
    models: tuple[ModelState, ...] = field(default=())

    @property
    def records(self) -> list[dict]:
        """The current metrics records (stale ones left out)."""
        return [m.record for m in self.models if m.evaluated]

    @property
    def n_trained(self) -> int:
        return sum(m.trained for m in self.models)

    @property
    def n_evaluated(self) -> int:
        return sum(m.evaluated for m in self.models)

    @property
    def n_stale(self) -> int:
        return sum(m.stale for m in self.models)

    @property
    def status(self) -> str:
        """``done`` (every planned seed evaluated), ``stale`` (a result of a changed checkpoint),
        ``partial`` (some evaluated), ``trained`` (trained, none evaluated) or ``pending``."""
        if self.n_stale:
            return "stale"
        if self.planned and self.n_evaluated >= len(self.planned):
            return "done"
        if self.n_evaluated:
            return "partial"
        return "trained" if self.n_trained else "pending"


def _planned_seeds(variant_dir: Path, found: list[int]) -> tuple[int, ...]:
    try:
        config = json.loads((variant_dir / VARIANT_CONFIG_NAME).read_text(encoding="utf-8"))
        seeds = config["training"]["seeds"]
        return tuple(sorted({int(s) for s in seeds} | set(found)))
    except (OSError, ValueError, KeyError, TypeError):
        return tuple(found)


def _model_state(model_dir: Path) -> ModelState:
    seed = seed_of_model_dir(model_dir)
    checkpoint = checkpoint_in(model_dir)
    trained = checkpoint.is_file()
    metrics = results_in(model_dir) / "metrics.json"
    try:
        record = read_metrics(metrics) if metrics.is_file() else None
    except ResultsError:
        record = None  # unreadable: as good as not evaluated
    stale = False
    if record is not None:
        recorded = record["checkpoint"]["sha256"]
        stale = not trained or checkpoint_fingerprint(checkpoint)["sha256"] != recorded
    return ModelState(seed, trained, record, stale)


def _is_model_dir(path: Path) -> bool:
    if not (path.is_dir() and path.name.startswith(MODEL_DIR_PREFIX)):
        return False
    try:
        seed_of_model_dir(path)
    except (ResultsError, ValueError):
        return False
    return True


def scan_variant(experiment: str, variant_dir: Path) -> VariantState | None:
    """A variant directory's state, or None when it holds no model directory and no config."""
    model_dirs = sorted(
        (p for p in variant_dir.iterdir() if _is_model_dir(p)), key=lambda p: natural_key(p.name)
    )
    if not model_dirs and not (variant_dir / VARIANT_CONFIG_NAME).is_file():
        return None
    models = tuple(_model_state(p) for p in model_dirs)
    planned = _planned_seeds(variant_dir, [m.seed for m in models])
    return VariantState(experiment, variant_dir.name, planned, models)


def scan_results(root: PathLike = "results") -> list[VariantState]:
    """Every variant of every experiment under ``root`` (naturally sorted);
    :class:`ResultsError` when ``root`` is not a directory."""
    root = Path(root)
    if not root.is_dir():
        raise ResultsError(f"{root}: results directory does not exist")
    found = []
    for experiment in sorted(root.iterdir(), key=lambda p: natural_key(p.name)):
        if not experiment.is_dir() or experiment.name in NOT_EXPERIMENTS:
            continue
        for variant in sorted(experiment.iterdir(), key=lambda p: natural_key(p.name)):
            if variant.is_dir():
                state = scan_variant(experiment.name, variant)
                if state is not None:
                    found.append(state)
    return found
