"""The evaluation job: a block of models evaluated in one process, per-model files written.

:func:`evaluate_models` is what the workflow's evaluation script and ``vbpipe evaluate`` call. Each
model is given explicitly: its checkpoint, its results directory and its identity
(:class:`vbpipe.results.records.EvaluationJob`). Per model, in this order:

1. its old ``metrics.json`` then ``arrays.npz`` are removed, so a failure never leaves a result
   that a later stage could take for current;
2. the checkpoint is fingerprinted (SHA-256 and stamp, recorded in ``metrics.json``), loaded and
   evaluated (:func:`vbpipe.evaluation.evaluate.evaluate_loaded`);
3. ``arrays.npz`` is written (uncompressed: deflate saved ~20 % of its size at 4x its write
   time), then ``metrics.json`` (last, atomically): its presence means the model's results are
   complete and belong to that checkpoint.

``vbpipe evaluate`` (find the models of a directory, evaluate, draw, aggregate) is
:mod:`vbpipe.evaluation.directory`, so that this module, the workflow's evaluation job, imports
no figure or aggregation code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..checkpoint import load_model
from ..devices import resolve_device
from ..errors import VbpipeError
from ..evaluation.evaluate import blas_threads_limited, evaluate_loaded
from ..fileio import write_json, write_npz
from ..provenance import collect
from ..results.errors import ResultsError
from ..results.layout import ARRAYS_NAME, METRICS_NAME
from ..results.records import EvaluationJob, EvaluationSettings, checkpoint_fingerprint
from ..sidecar import read_sidecar

PathLike = str | os.PathLike

__all__ = [
    "EvaluationError",
    "EvaluationReport",
    "clear_results",
    "evaluate_models",
]


class EvaluationError(ResultsError):
    """Some models of an evaluation could not be evaluated (the message names them)."""


@dataclass
class EvaluationReport:
    """What :func:`evaluate_models` did: the models evaluated and those that failed
    (``{"model", "checkpoint", "error"}``)."""

    evaluated: list[EvaluationJob] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)

    @property
    def results_dirs(self) -> list[Path]:
        return [job.results_dir for job in self.evaluated]


def clear_results(results_dir: PathLike) -> None:
    """Remove a model's ``metrics.json`` (first) and ``arrays.npz``."""
    results_dir = Path(results_dir)
    for name in (METRICS_NAME, ARRAYS_NAME):
        (results_dir / name).unlink(missing_ok=True)


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def evaluate_models(
    jobs: Iterable[EvaluationJob | tuple | Mapping],
    settings: EvaluationSettings | Mapping | None = None,
    device: str = "cpu",
    *,
    on_error: str = "raise",
    log: Callable[[str], None] | None = _stderr,
    blas_threads: int | None = 1,
) -> EvaluationReport:
    """Evaluate a block of models in this process and write each one's ``arrays.npz`` and
    ``metrics.json`` into its results directory.

    ``jobs``: :class:`~vbpipe.results.records.EvaluationJob` items, ``(checkpoint, results_dir,
    identity)`` tuples or mappings with those keys (``identity``: ``{experiment, variant, seed[,
    model_name]}``). ``settings``: :class:`~vbpipe.results.records.EvaluationSettings` or a mapping of
    its fields (``test_horizon``, ``n_batches``, ``batch_size``, ``unit_threshold``,
    ``seq_lengths``); an unknown key is an error. ``device``: ``cpu``, ``cuda``, ``auto`` or
    ``gpu``. ``on_error``: ``"raise"`` stops at the first model that cannot be evaluated (a
    missing or corrupt checkpoint, a seed that is not the identity's, ...), ``"collect"`` records
    it in the report and goes on; either way that model is left without results. Other exceptions
    (bugs) always propagate.
    """
    if on_error not in ("raise", "collect"):
        raise ValueError(f"on_error must be 'raise' or 'collect', got {on_error!r}")
    settings = EvaluationSettings.from_mapping(settings)
    device = resolve_device(device)
    items = [EvaluationJob.coerce(job) for job in jobs]
    seen: dict[Path, EvaluationJob] = {}
    for job in items:
        other = seen.setdefault(Path(os.path.abspath(job.results_dir)), job)
        if other is not job:
            raise ResultsError(
                f"{job.results_dir}: results directory of both {other.identity.label} and "
                f"{job.identity.label}"
            )
    report = EvaluationReport()
    log = log or (lambda _text: None)
    with blas_threads_limited(blas_threads):  # once per block: the limit costs ~1 ms to set
        for i, job in enumerate(items, 1):
            position = f"[{i}/{len(items)}]"
            _evaluate_one(job, position, settings, device, on_error, report, log)
    return report


def evaluation_provenance(checkpoint: PathLike, device: str) -> dict:
    """``metrics.json``'s ``provenance``: this evaluation's (:func:`vbpipe.provenance.collect`)
    and the training's, copied from the checkpoint's ``model.json`` (None for a model trained
    before vbpipe recorded it). A record only: nothing reruns when it changes."""
    sidecar = read_sidecar(checkpoint) or {}
    return {"evaluation": collect(device), "training": sidecar.get("provenance")}


def _evaluate_one(job, position, settings, device, on_error, report, log) -> None:
    """Evaluate one model of a block and write its files (see :func:`evaluate_models`)."""
    clear_results(job.results_dir)
    started = time.perf_counter()
    try:
        fingerprint = checkpoint_fingerprint(job.checkpoint)
        loaded = load_model(job.checkpoint)
        metrics, arrays = evaluate_loaded(
            loaded, job.identity, settings, device, fingerprint, blas_threads=None
        )
    except VbpipeError as error:
        if on_error == "raise":
            raise
        message = (str(error).strip().splitlines() or [type(error).__name__])[0]
        report.failures.append(
            {"model": job.identity.label, "checkpoint": str(job.checkpoint), "error": message}
        )
        log(f"{position} {job.identity.label}: FAILED: {message}")
        return
    metrics["provenance"] = evaluation_provenance(job.checkpoint, device)
    write_npz(job.results_dir / ARRAYS_NAME, arrays, compresslevel=0)
    write_json(job.results_dir / METRICS_NAME, metrics)
    report.evaluated.append(job)
    seconds = time.perf_counter() - started
    log(
        f"{position} {job.identity.label}: accuracy {metrics['model']['accuracy']:.4f} ({seconds:.2f} s)"
    )
