"""Entry points of the evaluation stage that read and write files (used by the workflow scripts and
the CLI).

- :func:`run_evaluate_model`: one checkpoint → ``metrics.json`` + ``arrays.npz`` (+ figures on
  request).
- :func:`run_model_figures`: the per-model figures, drawn from a results directory alone.
- :func:`run_aggregate`: metrics files → ``evaluation_summary.json`` (validated),
  ``global_analysis/*.png``, optionally ``tables/table1.{csv,tex}``.
- :func:`run_global_figures`: the global figures alone, from a summary.
- :func:`run_table1`: Table 1 from summaries or metrics files.
- :func:`run_paper_figures`: the paper's Figures 3 and 4 for one chosen model per task.
- :func:`run_evaluate_directory`: what ``vbpipe evaluate`` does (find models, evaluate, aggregate).

``metrics.json`` is written last, so its presence means the model's results are complete.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from . import figures as fig
from . import io
from .evaluate import evaluate_model, resolve_device
from .spectra import DEFAULT_UNIT_THRESHOLD
from .summary import build_summary, validate_summary
from .table1 import ACCURACY_THRESHOLD, table1_csv, table1_latex, table1_rows

PathLike = str | os.PathLike

SUMMARY_NAME = "evaluation_summary.json"
EVAL_CONFIG_NAME = "eval_config.json"
GLOBAL_DIRNAME = "global_analysis"
GLOBAL_FIGURES = (
    "global_magnitude_distribution.png",
    "global_angle_distribution.png",
    "global_complex_plane.png",
    "global_statistics_summary.png",
)

__all__ = [
    "GLOBAL_FIGURES",
    "SUMMARY_NAME",
    "run_aggregate",
    "run_evaluate_directory",
    "run_evaluate_model",
    "run_global_figures",
    "run_model_figures",
    "run_paper_figures",
    "run_table1",
]


def run_evaluate_model(
    checkpoint_path: PathLike,
    out_dir: PathLike,
    *,
    figures: bool = False,
    seq_lengths: Sequence[int] | None = None,
    test_horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    unit_threshold: float = DEFAULT_UNIT_THRESHOLD,
    magnitude_threshold: float = 0.0,
    device: str = "cpu",
) -> list[Path]:
    """Evaluate one model and write ``out_dir/arrays.npz`` then ``out_dir/metrics.json``.

    ``checkpoint_path`` is a ``model.pt`` or a ``model-{seed}`` directory. With ``figures=True`` the
    per-model figures are drawn too (:func:`run_model_figures`). Returns the files written.
    """
    out_dir = Path(out_dir)
    metrics, arrays = evaluate_model(
        checkpoint_path,
        seq_lengths=seq_lengths,
        test_horizon=test_horizon,
        n_batches=n_batches,
        batch_size=batch_size,
        unit_threshold=unit_threshold,
        magnitude_threshold=magnitude_threshold,
        device=device,
    )
    metrics["output_dir"] = str(out_dir)
    files = [io.write_npz(out_dir / io.ARRAYS_NAME, arrays)]
    files.append(io.write_json(out_dir / io.METRICS_NAME, metrics))
    if figures:
        files += run_model_figures(out_dir)
    return files


def run_model_figures(results_dir: PathLike) -> list[Path]:
    """Draw the per-model figures from ``results_dir/metrics.json`` and ``arrays.npz``.

    Writes ``test_sample.png``, ``accuracy_per_step.png``, ``eigenspectrum_full.png`` and, per
    evaluated length ``L``, ``phi_empirical_seq{L}.png`` (Figure-4 style) and
    ``variable_memory_trajectory_seq{L}.png`` (Figure-3 style). For a model with non-finite weights
    only the first three are drawn (the spectrum shows Φ alone, titled as diverged).
    """
    results_dir = Path(results_dir)
    metrics = io.read_json(results_dir / io.METRICS_NAME)
    arrays = io.read_npz(results_dir / io.ARRAYS_NAME)
    name = f"{metrics.get('variant') or ''}/{metrics['model_name']}".lstrip("/")
    lengths = metrics["seq_lengths"]
    d = int(metrics["input_dim"])
    files = []
    first = lengths[0]
    files.append(
        io.save_figure(
            fig.test_sample_figure(
                arrays[f"sample_target_seq{first}"],
                arrays[f"sample_prediction_seq{first}"],
                title=f"{name}, L = {first}",
            ),
            results_dir / "test_sample.png",
        )
    )
    per_step = {L: arrays[f"accuracy_per_step_seq{L}"] for L in lengths}
    files.append(
        io.save_figure(
            fig.accuracy_per_step_figure(
                per_step,
                metrics.get("train_horizon"),
                title=f"{name}: accuracy per output step (mean {metrics['accuracy']:.4f})",
            ),
            results_dir / "accuracy_per_step.png",
        )
    )
    theory = {L: arrays[f"eigenvalues_theory_seq{L}"] for L in lengths}
    if "eigenvalues_whh" not in arrays:  # non-finite weights: the theory alone, and say so
        fig_ = fig.spectrum_figure(
            None, theory, metrics["unit_threshold"], title=f"{name}: W_hh is not finite (diverged)"
        )
        return files + [io.save_figure(fig_, results_dir / "eigenspectrum_full.png")]
    err = ", ".join(
        f"L={L}: {metrics[f'spectral_error_deg_seq{L}']:.3g}°"
        for L in lengths
        if metrics.get(f"spectral_error_deg_seq{L}") is not None
    )
    files.append(
        io.save_figure(
            fig.spectrum_figure(
                arrays["eigenvalues_whh"],
                theory,
                metrics["unit_threshold"],
                title=f"{name}: eigenvalues of W_hh vs Φ"
                + (f" (spectral error {err})" if err else ""),
            ),
            results_dir / "eigenspectrum_full.png",
        )
    )
    for L in lengths:
        phi_err = metrics.get(f"emt_phi_error_seq{L}")
        suffix = f", ‖Ψ*WΨ − Φ‖ = {phi_err:.3g}" if phi_err is not None else ""
        files.append(
            io.save_figure(
                fig.phi_figure(
                    arrays[f"phi_empirical_seq{L}"],
                    arrays[f"operator_seq{L}"],
                    d,
                    L,
                    title=f"{name}, L = {L}: variable-memory Φ vs task operator{suffix}",
                ),
                results_dir / f"phi_empirical_seq{L}.png",
            )
        )
        files.append(
            io.save_figure(
                fig.memory_trajectory_figure(
                    arrays[f"memory_snapshots_seq{L}"],
                    arrays[f"memory_snapshot_steps_seq{L}"],
                    L,
                    title=f"{name}, L = {L}: variable memories Ψ* h_t (paper input)",
                ),
                results_dir / f"variable_memory_trajectory_seq{L}.png",
            )
        )
    return files


def _records_from(sources: Iterable) -> list[tuple[dict, Path | None]]:
    """``(record, arrays.npz path or None)`` from metrics/summary files or dicts."""
    out = []
    for source in sources:
        if isinstance(source, Mapping):
            data, base = dict(source), None
        else:
            data, base = io.read_json(source), Path(source).parent
        if isinstance(data.get("metrics"), list):
            for record in data["metrics"]:
                out.append((record, _arrays_path(record, None)))
        else:
            out.append((data, _arrays_path(data, base)))
    return out


def _arrays_path(record: Mapping, base: Path | None) -> Path | None:
    candidates = []
    if base is not None:
        candidates.append(base / io.ARRAYS_NAME)
    if record.get("output_dir"):
        candidates.append(Path(record["output_dir"]) / io.ARRAYS_NAME)
    return next((c for c in candidates if c.is_file()), None)


def run_aggregate(
    metrics_paths: Iterable[PathLike],
    summary_path: PathLike,
    global_dir: PathLike | None = None,
    tables_dir: PathLike | None = None,
    evaluation_config: Mapping | None = None,
    magnitude_threshold: float | None = None,
    failures: Iterable[Mapping] | None = None,
) -> list[Path]:
    """Gather metrics files into ``summary_path`` (validated against the schema), draw the global
    figures into ``global_dir`` and Table 1 into ``tables_dir`` when given. Returns the files
    written."""
    records = [io.read_json(p) for p in metrics_paths]
    summary = build_summary(records, evaluation_config, failures)
    validate_summary(summary)
    files = [io.write_json(summary_path, summary)]
    if global_dir is not None:
        if magnitude_threshold is None:
            settings = (evaluation_config or {}).get("evaluation") or {}
            magnitude_threshold = float(settings.get("magnitude_threshold") or 0.0)
        files += _global_figures(records, Path(global_dir), magnitude_threshold)
    if tables_dir is not None:
        tables_dir = Path(tables_dir)
        files += run_table1(records, tables_dir / "table1.csv", tables_dir / "table1.tex")
    return files


def run_global_figures(
    sources: Iterable, global_dir: PathLike, magnitude_threshold: float = 0.0
) -> list[Path]:
    """The four ``global_analysis/`` figures (section 4.7) from summaries, metrics or dicts."""
    records = [record for record, _ in _records_from(sources)]
    return _global_figures(records, Path(global_dir), magnitude_threshold)


def _global_figures(records, global_dir: Path, magnitude_threshold: float) -> list[Path]:
    lengths = sorted({int(L) for r in records for L in r.get("seq_lengths") or []})
    makers = (
        fig.global_magnitude_figure(records, lengths),
        fig.global_angle_figure(records, lengths),
        fig.global_complex_plane_figure(records, lengths, magnitude_threshold),
        fig.global_statistics_figure(records, lengths),
    )
    return [
        io.save_figure(f, global_dir / name) for f, name in zip(makers, GLOBAL_FIGURES, strict=True)
    ]


def run_table1(
    sources: Iterable,
    out_csv: PathLike,
    out_tex: PathLike,
    seq_length: int | None = None,
    accuracy_threshold: float = ACCURACY_THRESHOLD,
    require_count_match: bool = False,
) -> list[Path]:
    """Table 1 from ``sources`` (paths of ``evaluation_summary.json`` or ``metrics.json`` files, or
    the parsed dicts) as CSV and LaTeX (see :mod:`vbpipe.evaluation.table1` for the rule)."""
    records = [record for record, _ in _records_from(sources)]
    rows = table1_rows(records, seq_length, accuracy_threshold, require_count_match)
    return [io.write_text(out_csv, table1_csv(rows)), io.write_text(out_tex, table1_latex(rows))]


def _selection_key(record: Mapping, seq_length: int):
    """Best first: a valid model (accuracy > 0.9 and a spectral error) with the smallest error, then
    the most accurate; ties broken by seed."""
    accuracy = record.get("accuracy") or 0.0
    error = record.get(f"spectral_error_seq{seq_length}")
    valid = accuracy > ACCURACY_THRESHOLD and error is not None
    return (0 if valid else 1, error if valid else 0.0, -accuracy, record.get("seed") or 0)


def run_paper_figures(
    sources: Iterable,
    out_dir: PathLike,
    tasks: Sequence[str] | None = None,
    seq_length: int | None = None,
) -> list[Path]:
    """The paper's Figures 3 and 4 for one model per task: ``figure3_{task}.png``,
    ``figure4_{task}.png`` and ``paper_figures_{task}.json`` (which model was chosen, of how many).

    ``sources``: summaries or metrics files (or dicts) whose ``arrays.npz`` can be found (beside a
    metrics file, or in the record's ``output_dir``). Per task label (``tasks`` restricts them) the
    chosen model is the valid one (accuracy > 0.9 with a spectral error) with the smallest spectral
    error, else the most accurate; ties go to the lower seed. ``seq_length`` defaults to each
    record's first evaluated length. A requested task without any usable model (none evaluated, or
    all diverged) gets placeholder figures that say so, so a workflow's declared outputs exist.
    """
    out_dir = Path(out_dir)
    candidates: dict[str, list] = {label: [] for label in tasks or ()}
    for record, arrays_path in _records_from(sources):
        if arrays_path is None or not record.get("weights_finite", True):
            continue
        label = record.get("task_label") or "task"
        if tasks is not None and label not in tasks:
            continue
        length = seq_length if seq_length is not None else record["seq_lengths"][0]
        if length not in record["seq_lengths"]:
            continue
        candidates.setdefault(label, []).append((record, arrays_path, length))
    files = []
    for label, entries in sorted(candidates.items()):
        fig3, fig4 = out_dir / f"figure3_{label}.png", out_dir / f"figure4_{label}.png"
        if not entries:
            text = f"{label}: no evaluated model with finite weights"
            files += [io.save_figure(fig.message_figure(f"Figure {n}, {text}"), path)
                      for n, path in ((3, fig3), (4, fig4))]  # fmt: skip
            files.append(io.write_json(out_dir / f"paper_figures_{label}.json", {"chosen": None}))
            continue
        record, arrays_path, L = min(entries, key=lambda e: _selection_key(e[0], e[2]))
        arrays = io.read_npz(arrays_path)
        name = f"{record.get('variant') or ''}/{record['model_name']}".lstrip("/")
        error = record.get(f"spectral_error_seq{L}")
        err_text = f", spectral error {error:.4f} rad" if error is not None else ""
        files.append(
            io.save_figure(
                fig.memory_trajectory_figure(
                    arrays[f"memory_snapshots_seq{L}"],
                    arrays[f"memory_snapshot_steps_seq{L}"],
                    L,
                    title=f"Figure 3, {label} ({name}): variable memories over time",
                ),
                fig3,
            )
        )
        files.append(
            io.save_figure(
                fig.phi_figure(
                    arrays[f"phi_empirical_seq{L}"],
                    arrays[f"operator_seq{L}"],
                    int(record["input_dim"]),
                    L,
                    title=f"Figure 4, {label} ({name}, accuracy "
                    f"{record['accuracy']:.4f}{err_text})",
                ),
                fig4,
            )
        )
        chosen = {
            "model_name": record["model_name"],
            "variant": record.get("variant"),
            "arrays": str(arrays_path),
            "seq_length": L,
            "accuracy": record.get("accuracy"),
            "spectral_error": error,
            "candidates": len(entries),
        }
        files.append(io.write_json(out_dir / f"paper_figures_{label}.json", {"chosen": chosen}))
    return files


def run_evaluate_directory(
    models_dir: PathLike,
    *,
    model_pattern: str = "model-*",
    seq_lengths: Sequence[int] | None = None,
    test_horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    accelerator: str = "auto",
    unit_threshold: float = DEFAULT_UNIT_THRESHOLD,
    magnitude_threshold: float = 0.0,
    figures: bool = True,
    output_root: PathLike | None = None,
    log=None,
) -> dict:
    """``vbpipe evaluate``: evaluate every model under ``models_dir`` (naturally sorted), writing
    ``model-*/results/``, then ``eval_config.json``, ``evaluation_summary.json`` and
    ``global_analysis/`` in ``output_root`` (default: ``models_dir``). A model that fails is
    reported (stderr and the summary's ``failed_models``), never silently dropped. Returns
    ``{"summary", "n_models", "failures"}``."""
    log = log or (lambda text: print(text, file=sys.stderr))
    models_dir = Path(models_dir)
    output_root = Path(output_root) if output_root is not None else models_dir
    device = resolve_device(accelerator)
    model_dirs = io.find_model_dirs(models_dir, model_pattern)
    if not model_dirs:
        raise FileNotFoundError(f"{models_dir}: no model directory matching {model_pattern!r}")
    one_variant = len({m.parent for m in model_dirs}) == 1
    training_config = io.read_variant_config(model_dirs[0]) if one_variant else None
    evaluation_config = {
        "metadata": {
            "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "script": "vbpipe evaluate",
            "models_dir": str(models_dir),
        },
        "evaluation": {
            "seq_lengths": list(seq_lengths) if seq_lengths else None,
            "test_horizon": test_horizon,
            "n_batches": n_batches,
            "batch_size": batch_size,
            "accelerator": accelerator,
            "device": device,
            "model_pattern": model_pattern,
            "unit_threshold": unit_threshold,
            "magnitude_threshold": magnitude_threshold,
            "figures": figures,
        },
        "training_config": training_config,
    }
    io.write_json(output_root / EVAL_CONFIG_NAME, evaluation_config)
    metrics_paths, failures = [], []
    for i, model_dir in enumerate(model_dirs, 1):
        out = model_dir / io.RESULTS_DIRNAME
        try:
            run_evaluate_model(
                model_dir,
                out,
                figures=figures,
                seq_lengths=seq_lengths,
                test_horizon=test_horizon,
                n_batches=n_batches,
                batch_size=batch_size,
                unit_threshold=unit_threshold,
                magnitude_threshold=magnitude_threshold,
                device=device,
            )
        except Exception as error:  # reported, counted, and kept in the summary's failed_models
            failures.append({"model": str(model_dir), "error": f"{type(error).__name__}: {error}"})
            log(f"[{i}/{len(model_dirs)}] {model_dir}: FAILED: {error}")
            continue
        metrics_paths.append(out / io.METRICS_NAME)
        log(f"[{i}/{len(model_dirs)}] {model_dir}: evaluated")
    summary_path = output_root / SUMMARY_NAME
    global_dir = output_root / GLOBAL_DIRNAME if figures and metrics_paths else None
    run_aggregate(
        metrics_paths,
        summary_path,
        global_dir,
        None,
        evaluation_config,
        magnitude_threshold,
        failures,
    )
    if metrics_paths:
        acc = [io.read_json(p)["accuracy"] for p in metrics_paths]
        mean = sum(acc) / len(acc)
        std = (sum((a - mean) ** 2 for a in acc) / len(acc)) ** 0.5
        log(
            f"accuracy over {len(acc)} models: mean {mean:.4f}, std {std:.4f}, "
            f"min {min(acc):.4f}, max {max(acc):.4f}"
        )
    return {"summary": summary_path, "n_models": len(metrics_paths), "failures": failures}
