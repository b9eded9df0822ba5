"""Which models need training, and how they are packed into training jobs.

Training is the one stage whose jobs are not shaped like its outputs: many models (seeds, and variants
of the same shapes) train together in one *pack*, yet each model's ``model.pt`` is its own DAG node.
Snakemake cannot tell which of a pack's outputs are stale on its own terms without retraining the
whole pack whenever the packing changes, so the plan decides per model, at parse time:

- a model is **current** when its ``model.json`` sidecar records the model's *stamp* (a hash of its
  training parameters, its seed and the training code's fingerprint) and its ``model.pt`` still has
  the recorded size and SHA-256;
- every other model (missing, trained from other parameters or code, or corrupt) is **to train**.

Only models to train are packed: models of equal shapes (:func:`pack_key`), in config order, split into
``ceil(n / size)`` packs of near-equal size. ``size`` is ``models_per_job``, or fewer when the training
jobs have a ``runtime`` (``execution.train_resources``): then as many members as the cost model
(:mod:`vbpipe.costmodel`) expects to train within ``runtime_fill`` of it on the jobs' device, so that a
CPU cluster gets many right-sized jobs and a GPU cluster a few large ones. Each pack records its expected
seconds. So adding seeds or variants never retrains an existing model, changing one variant retrains only
its models, and changing ``models_per_job`` (or the runtime, or the cost table) retrains nothing. A pack's
parameters carry its members' on-disk state, so a pack whose outputs exist but are stale (say a deleted
sidecar) still runs. Packing never changes a model (the training engine keeps each member exact), only
how many run per job.

No torch here: the workflow's parse step imports this module.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from .config import TrainConfig
from .config.experiments import Variant, WorkflowConfig
from .costmodel import (
    CostTable,
    device_kind,
    members_that_fit,
    pack_seconds,
    runtime_minutes,
    table_for,
)
from .results import layout
from .sidecar import SIDECAR_FORMAT, file_sha256, read_sidecar


@dataclass(frozen=True)
class ModelRef:
    """One model of the workflow: an experiment, a variant and a seed."""

    experiment: str
    variant: Variant
    seed: int
    root: str = "results"

    def file(self, name: str) -> str:
        """One of the model's files (:data:`vbpipe.results.layout.MODEL_FILES`)."""
        return layout.model_file(self.experiment, self.variant.name, self.seed, name, self.root)

    @property
    def model_dir(self) -> str:
        return self.file("model_dir")

    @property
    def checkpoint(self) -> str:
        return self.file("checkpoint")

    @property
    def sidecar(self) -> str:
        return self.file("sidecar")

    @property
    def training_log(self) -> str:
        return self.file("training_log")


def model_stamp(config: TrainConfig, seed: int, code: str) -> str:
    """What a trained model depends on: its parameters, its seed and the training code."""
    text = json.dumps({"config": config.to_dict(), "seed": int(seed), "code": code}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


#: The module whose code (with everything it imports) every model's stamp includes.
TRAINING_MODULE = "vbpipe.jobs.train"
#: Modules training imports that cannot change a trained model: file names only. Left out of the
#: stamp, so that naming a new output (of any stage) in the layout retrains nothing.
STAMP_EXCLUDES = ("vbpipe.results.layout",)


def training_code() -> str:
    """The training code's fingerprint, as the workflow and ``vbpipe train`` both stamp models."""
    from .fingerprint import code_fingerprint

    return code_fingerprint(module=TRAINING_MODULE, exclude=STAMP_EXCLUDES)


def disk_state(checkpoint: str | Path, stamp: str) -> str:
    """``current``, or why the model must be trained (``missing``, ``stale``, ``corrupt``, ...)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        return "missing"
    sidecar = read_sidecar(checkpoint)
    if sidecar is None:
        return "no-sidecar"
    if sidecar.get("stamp") != stamp:
        return f"stale:{sidecar.get('stamp')}"
    if checkpoint.stat().st_size != sidecar.get("size") or file_sha256(checkpoint) != sidecar.get(
        "sha256"
    ):
        return f"corrupt:{checkpoint.stat().st_mtime_ns}"
    return "current"


@dataclass(frozen=True)
class Pack:
    """Models trained together in one job."""

    name: str
    members: tuple[ModelRef, ...]
    stamps: tuple[str, ...]
    states: tuple[str, ...]
    #: what the cost model expects the pack to take on its device (seconds), and the job's runtime
    expected_seconds: float | None = None
    runtime_seconds: float | None = None
    device: str | None = None

    def expectation(self) -> str:
        """One line for the job's message: how long it should take, of how long it may run."""
        if self.expected_seconds is None:
            return f"{len(self.members)} models"
        text = f"{len(self.members)} models, expected {_duration(self.expected_seconds)} on {self.device}"
        if self.runtime_seconds is not None:
            text += f" of a {_duration(self.runtime_seconds)} runtime"
        return text

    def spec(self) -> list[dict]:
        """The members as plain data for the job (what :func:`vbpipe.jobs.train.train_pack_job` takes)."""
        return [
            {
                "experiment": m.experiment,
                "variant": m.variant.name,
                "seed": m.seed,
                "config": m.variant.config.to_dict(),
                "model_dir": m.model_dir,
                "checkpoint": m.checkpoint,
                "stamp": stamp,
            }
            for m, stamp in zip(self.members, self.stamps, strict=True)
        ]


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _pack_name(key: tuple, members, stamps) -> str:
    d, length, eos, hidden, bias, batch, activation = key
    low_high = f"{length[0]}_{length[1]}" if isinstance(length, tuple) else f"{length}"
    shape = (
        f"d{d}_L{low_high}_h{hidden}_b{batch}" + ("_eos" if eos else "") + ("_bias" if bias else "")
    )
    shape += "" if activation == "tanh" else f"_{activation}"
    ident = hashlib.sha256(
        json.dumps([[m.model_dir, s] for m, s in zip(members, stamps, strict=True)]).encode()
    ).hexdigest()[:8]
    return f"{shape}_{ident}"


@dataclass(frozen=True)
class TrainingPlan:
    models: tuple[ModelRef, ...]
    packs: tuple[Pack, ...]
    n_current: int


def plan_training(
    config: WorkflowConfig,
    code: str | None = None,
    root: str = "results",
    table: CostTable | None = None,
) -> TrainingPlan:
    """Every model of the selected experiments that vbpipe trains (not the original runs of an
    ``original_runs:`` experiment), and the packs of those that need training.

    ``table``: the cost table to size packs by (default: ``execution.cost_table``, else the built-in
    table of the training jobs' device)."""
    code = code or training_code()
    execution = config.execution
    kind = device_kind(execution.accelerator, execution.train_resources)
    table = table or table_for(kind, execution.cost_table)
    minutes = runtime_minutes(execution.train_resources.get("runtime"))
    runtime = None if minutes is None else 60 * minutes
    models = tuple(
        ModelRef(experiment.name, variant, seed, root)
        for experiment in config.experiments.values()
        if experiment.original_runs is None  # trained elsewhere, by the original project
        for variant in experiment.variants
        for seed in variant.seeds
    )
    groups: dict[tuple, list[tuple[ModelRef, str, str]]] = {}
    current = 0
    for model in models:
        stamp = model_stamp(model.variant.config, model.seed, code)
        state = disk_state(model.checkpoint, stamp)
        if state == "current":
            current += 1
            continue
        groups.setdefault(model.variant.config.shapes, []).append((model, stamp, state))
    packs = []
    for key, entries in groups.items():
        configs = [m.variant.config for m, _, _ in entries]
        size = execution.models_per_job
        if runtime is not None:
            fit = members_that_fit(table, configs, execution.runtime_fill * runtime)
            size = min(size, fit)
        n_packs = math.ceil(len(entries) / size)
        per_pack = math.ceil(len(entries) / n_packs)
        for start in range(0, len(entries), per_pack):
            chunk = entries[start : start + per_pack]
            members = tuple(m for m, _, _ in chunk)
            stamps = tuple(s for _, s, _ in chunk)
            states = tuple(st for _, _, st in chunk)
            expected = pack_seconds(table, [m.variant.config for m in members])
            name = _pack_name(key, members, stamps)
            packs.append(Pack(name, members, stamps, states, expected, runtime, table.device))
    return TrainingPlan(models, tuple(packs), current)


__all__ = [
    "SIDECAR_FORMAT",
    "ModelRef",
    "Pack",
    "TrainingPlan",
    "disk_state",
    "model_stamp",
    "plan_training",
    "quarantine_unreadable",
    "training_code",
]


def _readable(path: Path) -> bool:
    """Whether a finished output can be read back: JSON parses (and a metrics record validates), an
    ``.npz``/``.pt`` archive opens, a CSV has a header. Cheap: no array data is read."""
    import zipfile

    from .results.errors import ResultsError
    from .results.records import read_metrics

    try:
        if path.name == "metrics.json":
            read_metrics(path)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".npz", ".pt"):
            with zipfile.ZipFile(path) as archive:
                archive.namelist()
        elif path.suffix == ".csv":
            return bool(path.read_text(encoding="utf-8").partition("\n")[0].strip())
    except (OSError, ValueError, ResultsError, zipfile.BadZipFile):
        return False
    return True


def quarantine_unreadable(paths, dry_run: bool) -> list[Path]:
    """Outputs that exist but cannot be read back (a disk error, a hand edit, a copy cut short).

    Snakemake would trust them (they exist and are newer than their inputs) and every later run
    would fail on them. Each is renamed ``<name>.corrupt`` (kept for inspection, never deleted), so
    that its job reruns; a dry run only reports them. Returns the files found.
    """
    found = [Path(p) for p in paths if Path(p).is_file() and not _readable(Path(p))]
    for path in found:
        if not dry_run:
            os.replace(path, path.with_name(path.name + ".corrupt"))
    return found
