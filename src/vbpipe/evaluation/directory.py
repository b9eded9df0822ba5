"""``vbpipe evaluate``: evaluate every model of a variant or experiment directory, draw their figures
and aggregate, as the original ``evaluate_multiple.py`` did.

The directory is documented, not guessed (:func:`vbpipe.results.layout.find_variant_dirs`): a variant
directory (``config.json`` and ``model-*/checkpoint/model.pt``) or an experiment directory whose
sub-directories are variant directories; identities come from each ``config.json``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from ..devices import resolve_device
from ..fileio import write_json
from ..jobs.evaluate import _stderr, evaluate_models
from ..original_runs import LIGHTNING_GLOB, model_checkpoints, model_identity
from ..results.errors import ResultsError
from ..results.layout import (
    EVAL_CONFIG_NAME,
    EXPERIMENT_ARRAYS_NAME,
    GLOBAL_DIRNAME,
    SUMMARY_NAME,
    TABLE1_CSV_NAME,
    TABLE1_TEX_NAME,
    TABLE_NAME,
    TABLES_DIRNAME,
    find_variant_dirs,
    results_in,
    variant_identity,
)
from ..results.records import EvaluationJob, EvaluationSettings

PathLike = str | os.PathLike


def directory_jobs(models_dir: PathLike, model_pattern: str = "model-*") -> list[EvaluationJob]:
    """The evaluation jobs of a variant directory or of an experiment directory of variants
    (:func:`vbpipe.results.layout.find_variant_dirs`); identity from each variant's ``config.json``
    metadata, seed from ``model-{seed}``; the original project's layout too
    (:mod:`vbpipe.original_runs`). :class:`ResultsError` when no model is found."""
    jobs = []
    for variant_dir in find_variant_dirs(models_dir):
        experiment, variant = variant_identity(variant_dir)
        for model_dir, checkpoint in model_checkpoints(variant_dir, model_pattern):
            identity = model_identity(experiment, variant, model_dir, checkpoint)
            jobs.append(EvaluationJob(checkpoint, results_in(model_dir), identity))
    if not jobs:
        raise ResultsError(
            f"{models_dir}: no model directory matching {model_pattern!r} with checkpoint/model.pt"
            f" (or the original project's {LIGHTNING_GLOB})"
        )
    return jobs


def evaluate_directory(
    models_dir: PathLike,
    *,
    model_pattern: str = "model-*",
    settings: EvaluationSettings | Mapping | None = None,
    accelerator: str = "auto",
    magnitude_threshold: float = 0.0,
    figures: bool = True,
    output_root: PathLike | None = None,
    log: Callable[[str], None] | None = _stderr,
) -> dict:
    """``vbpipe evaluate``: evaluate every model of ``models_dir`` (a variant directory, or an
    experiment directory of variant directories), draw the per-model figures, then write
    ``eval_config.json``, the summary, the tidy table, Table 1 and ``global_analysis/`` into
    ``output_root`` (default ``models_dir``). Models that fail are reported and listed in the
    summary's ``failed_models``; the others are still evaluated and aggregated. Returns
    ``{"summary", "n_models", "failures", "files"}``."""
    from ..jobs.aggregate import aggregate_experiment

    models_dir = Path(models_dir)
    output_root = Path(output_root) if output_root is not None else models_dir
    settings = EvaluationSettings.from_mapping(settings)
    device = resolve_device(accelerator)
    jobs = directory_jobs(models_dir, model_pattern)
    variant_dirs = {job.results_dir.parent.parent for job in jobs}
    training_config = None
    if len(variant_dirs) == 1:
        from ..fileio import read_json

        training_config = read_json(next(iter(variant_dirs)) / "config.json")
    evaluation_config = {
        "metadata": {
            "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "script": "vbpipe evaluate",
            "models_dir": str(models_dir),
        },
        "evaluation": {
            **settings.as_dict(),
            "accelerator": accelerator,
            "device": device,
            "model_pattern": model_pattern,
            "magnitude_threshold": magnitude_threshold,
            "figures": figures,
        },
        "training_config": training_config,
    }
    files = [write_json(output_root / EVAL_CONFIG_NAME, evaluation_config)]
    report = evaluate_models(jobs, settings, device, on_error="collect", log=log)
    if figures and report.evaluated:
        from ..jobs.model_figures import draw_model_figures

        files += draw_model_figures(report.results_dirs)
    tables = output_root / TABLES_DIRNAME
    files += aggregate_experiment(
        report.results_dirs,
        summary=output_root / SUMMARY_NAME,
        table=output_root / TABLE_NAME,
        arrays=output_root / EXPERIMENT_ARRAYS_NAME,
        table1_csv=tables / TABLE1_CSV_NAME,
        table1_tex=tables / TABLE1_TEX_NAME,
        evaluation_config=evaluation_config,
        failures=report.failures,
        checkpoints=[job.checkpoint for job in report.evaluated],
    )
    if figures and report.evaluated:
        from ..jobs.figures import draw_global_figures
        from ..results.experiment import load_experiment

        results = load_experiment(output_root / TABLE_NAME, output_root / EXPERIMENT_ARRAYS_NAME)
        files += draw_global_figures(results, output_root / GLOBAL_DIRNAME, magnitude_threshold)
    return {
        "summary": output_root / SUMMARY_NAME,
        "n_models": len(report.evaluated),
        "failures": report.failures,
        "files": files,
    }
