"""Evaluate one trained model from its checkpoint: accuracy, spectra, EMT variable memories.

:func:`evaluate_model` returns ``(metrics, arrays)``: ``metrics`` is the JSON-ready content of
``metrics.json`` (every key of :func:`metric_keys` always present, ``None`` where not applicable)
and ``arrays`` the raw arrays for ``arrays.npz`` (figures are drawn from these two, in
:mod:`vbpipe.evaluation.figures`).

Meaning of the main keys (``{L}`` = each evaluated sequence length):

- ``accuracy``: bit accuracy over the seeded test set (mean over the evaluated lengths);
  ``accuracy_seq{L}`` and ``accuracy_per_step_seq{L}`` per length; ``accuracy_per_step`` (length
  ``test_horizon``) is the mean over lengths; ``accuracy_within_train_horizon`` /
  ``accuracy_beyond_train_horizon`` split it at the horizon the model was last trained at (``None``
  when unknown or not below ``test_horizon``).
- ``solved``: ``accuracy > 0.9``, the paper notebook's rule for running the EMT analysis (and Table
  1's validity rule). ``converged`` / ``diverged`` come from the training outcome stored in the
  checkpoint.
- ``eigenvalues_whh``: the full spectrum of ``W_hh`` ``[[re, im], ...]``; ``n_unit_circle_whh``
  counts ``|λ| > unit_threshold``.
- ``spectral_error_seq{L}`` (radians) / ``spectral_error_deg_seq{L}``: full ``W_hh`` vs ``Φ``,
  optimal angular matching of the unit-circle parts (:mod:`vbpipe.evaluation.spectra`); this is what
  the paper's Table 1 reports. Note: the original's ``spectral_error_deg_seq{L}`` compared ``W_sub``
  (below) with Φ; that value is now ``spectral_error_sub_deg_seq{L}``. ``n_unit_circle_rnn_seq{L}``
  is the full-``W_hh`` count used by that comparison (equal to ``n_unit_circle_whh``),
  ``n_unit_circle_theory_seq{L}`` Φ's, and ``unit_circle_count_mismatch_seq{L}`` their difference
  (RNN − theory).
- ``eigenvalues_rnn_seq{L}``: eigenvalues of ``W_sub = U_kᵀ W_hh U_k`` as the original stored them,
  with ``variance_ratio_seq{L}``, ``frob_error_seq{L}``, ``frob_relative_seq{L}``, the
  angle/magnitude histograms of those eigenvalues and ``histogram_bins``;
  ``hidden_too_small_seq{L}`` when ``N < L·d`` (then ``W_sub`` has only ``N`` eigenvalues and the
  Frobenius metrics are ``None``); ``hidden_too_small`` is true when any is.
- ``emt_phi_error_seq{L}``: ``‖Ψ*W_hhΨ − Φ‖_F`` on the kept memory dimensions
  (``emt_n_kept_seq{L}``), and its relative version; the basis is built from the readout
  (:mod:`vbpipe.evaluation.emt`).

A model whose weights are not finite (training diverged) is still reported: accuracy is computed
(non-finite outputs count as wrong), every key about the RNN's spectrum or EMT basis is ``None``
(the theory's eigenvalues and counts are still given), ``weights_finite`` is false.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import numpy as np
import torch

from ..checkpoint import LoadedModel
from ..tasks import Task, build_batch, parse_task_id, seq_length_bounds, task_label
from . import io
from .accuracy import evaluate_accuracy, run_model
from .emt import (
    FIGURE3_LENGTH,
    FIGURE3_STEPS,
    empirical_phi,
    figure3_inputs,
    kept_memory_indices,
    memory_snapshots,
    memory_trajectory,
    phi_error,
    variable_memory_basis,
)
from .spectra import (
    ANGLE_EDGES,
    DEFAULT_UNIT_THRESHOLD,
    MAGNITUDE_EDGES,
    angle_histogram,
    count_unit_circle,
    eigenvalues,
    eigenvalues_to_pairs,
    magnitude_histogram,
    pca_subspace_metrics,
    spectral_comparison,
)

METRICS_FORMAT = "vbpipe-metrics"
METRICS_VERSION = 1
#: The paper notebook ran the EMT analysis (so had a spectral error) only above this test accuracy.
VALID_ACCURACY = 0.9

#: Parameters copied to the top level of the metrics (from the checkpoint's hparams, else the
#: variant's config.json sections task/model/training).
PARAM_KEYS = (
    "task_id",
    "input_dim",
    "seq_length",
    "use_eos",
    "hidden_dim",
    "bias",
    "seed",
    "l2_penalty",
    "curriculum_threshold",
    "curriculum",
    "learning_rate",
    "batch_size",
    "epochs",
)

GLOBAL_KEYS = (
    "format",
    "format_version",
    "model_name",
    "experiment",
    "variant",
    "model_path",
    "output_dir",
    *PARAM_KEYS,
    "task_label",
    "seq_lengths",
    "variant_params",
    "hparams",
    "converged",
    "diverged",
    "diverged_at_step",
    "early_stopped",
    "train_steps",
    "train_horizon",
    "train_accuracy",
    "train_loss",
    "curriculum_level",
    "train_wall_seconds",
    "weights_finite",
    "test_horizon",
    "n_test_batches",
    "test_batch_size",
    "n_test_sequences",
    "unit_threshold",
    "magnitude_threshold",
    "device",
    "accuracy",
    "solved",
    "accuracy_per_step",
    "accuracy_within_train_horizon",
    "accuracy_beyond_train_horizon",
    "eigenvalues_whh",
    "n_unit_circle_whh",
    "spectral_radius_whh",
    "n_above_magnitude_threshold_whh",
    "angle_histogram_whh",
    "magnitude_histogram_whh",
    "histogram_bins",
    "hidden_too_small",
    "evaluation_seconds",
)

PER_LENGTH_KEYS = (
    "accuracy_seq{L}",
    "accuracy_per_step_seq{L}",
    "eigenvalues_rnn_seq{L}",
    "eigenvalues_theory_seq{L}",
    "spectral_error_seq{L}",
    "spectral_error_deg_seq{L}",
    "spectral_error_max_seq{L}",
    "n_unit_circle_rnn_seq{L}",
    "n_unit_circle_theory_seq{L}",
    "unit_circle_count_mismatch_seq{L}",
    "n_unit_circle_sub_seq{L}",
    "spectral_error_sub_seq{L}",
    "spectral_error_sub_deg_seq{L}",
    "variance_ratio_seq{L}",
    "frob_error_seq{L}",
    "frob_relative_seq{L}",
    "hidden_too_small_seq{L}",
    "angle_histogram_rnn_seq{L}",
    "magnitude_histogram_rnn_seq{L}",
    "emt_phi_error_seq{L}",
    "emt_phi_relative_error_seq{L}",
    "emt_n_kept_seq{L}",
    "emt_n_residual_seq{L}",
)

__all__ = [
    "GLOBAL_KEYS",
    "PER_LENGTH_KEYS",
    "VALID_ACCURACY",
    "evaluate_loaded",
    "evaluate_model",
    "evaluation_lengths",
    "metric_keys",
    "model_params",
    "resolve_device",
]


def metric_keys(seq_lengths) -> list[str]:
    """Every key of a metrics dict evaluated at ``seq_lengths`` (the order of ``metrics.json``)."""
    keys = list(GLOBAL_KEYS)
    for length in seq_lengths:
        keys += [k.format(L=length) for k in PER_LENGTH_KEYS]
    return keys


def resolve_device(accelerator: str = "cpu") -> str:
    """``auto`` → ``cuda`` when available else ``cpu``; ``gpu``/``cuda`` need CUDA; ``cpu`` is
    ``cpu``."""
    choice = str(accelerator).lower()
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice in ("gpu", "cuda") or choice.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise RuntimeError(f"accelerator {accelerator!r} requested but CUDA is not available")
        return "cuda" if choice == "gpu" else choice
    if choice == "cpu":
        return "cpu"
    raise ValueError(f"accelerator must be one of auto, cpu, gpu; got {accelerator!r}")


def evaluation_lengths(seq_length, override=None) -> list[int]:
    """Lengths to evaluate: ``override`` (a list of ints) or the trained length / inclusive
    range."""
    if override is not None:
        lengths = sorted({int(v) for v in override})
        if not lengths or lengths[0] < 1:
            raise ValueError(f"seq_lengths must be positive integers, got {override!r}")
        return lengths
    if isinstance(seq_length, list):
        seq_length = tuple(seq_length)
    low, high = seq_length_bounds(seq_length)
    return list(range(low, high + 1))


def model_params(hparams: dict, variant_config: dict | None) -> dict:
    """The parameters of :data:`PARAM_KEYS`: the checkpoint's hparams first, then the variant's
    config."""
    sections = []
    if isinstance(variant_config, dict):
        sections = [variant_config.get(s) for s in ("task", "model", "training")]
        sections = [s for s in sections if isinstance(s, dict)]
    params = {}
    for key in PARAM_KEYS:
        value = hparams.get(key)
        if value is None and key != "seed":
            value = next((s[key] for s in sections if s.get(key) is not None), None)
        params[key] = value
    params["task_id"] = [str(t) for t in parse_task_id(params["task_id"], int(params["input_dim"]))]
    return params


def _finite(weights: dict[str, np.ndarray]) -> bool:
    return all(np.all(np.isfinite(w)) for w in weights.values())


def _mean_or_none(values: np.ndarray):
    return float(np.mean(values)) if values.size else None


def _per_length(
    task_l: Task, w_hh, w_r, eig_whh, svd, weights_t, unit_threshold, device, dtype, out, arrays
):
    """Spectra, PCA-subspace metrics and the EMT basis at one length (weights known finite)."""
    length, d = task_l.lengths[0], task_l.input_dim
    operator = task_l.operator(length)
    phi = task_l.phi(length)
    eig_phi = eigenvalues(phi)
    full = spectral_comparison(eig_whh, eig_phi, unit_threshold)
    pca = pca_subspace_metrics(w_hh, phi, unit_threshold, svd=svd)
    eig_sub = pca["eigenvalues_sub"]
    sfx = f"_seq{length}"
    out.update(
        {
            "eigenvalues_rnn" + sfx: eigenvalues_to_pairs(eig_sub),
            "eigenvalues_theory" + sfx: eigenvalues_to_pairs(eig_phi),
            "spectral_error" + sfx: full.error_rad,
            "spectral_error_deg" + sfx: full.error_deg,
            "spectral_error_max" + sfx: full.max_error_rad,
            "n_unit_circle_rnn" + sfx: full.n_a,
            "n_unit_circle_theory" + sfx: full.n_b,
            "unit_circle_count_mismatch" + sfx: full.count_mismatch,
            "n_unit_circle_sub" + sfx: pca["spectral"].n_a,
            "spectral_error_sub" + sfx: pca["spectral"].error_rad,
            "spectral_error_sub_deg" + sfx: pca["spectral"].error_deg,
            "variance_ratio" + sfx: pca["variance_ratio"],
            "frob_error" + sfx: pca["frob_error"],
            "frob_relative" + sfx: pca["frob_relative"],
            "hidden_too_small" + sfx: pca["hidden_too_small"],
            "angle_histogram_rnn" + sfx: angle_histogram(eig_sub),
            "magnitude_histogram_rnn" + sfx: magnitude_histogram(eig_sub),
        }
    )

    # EMT: the basis from the readout, the residual PCA on the Figure-3 trajectory.
    bits = torch.as_tensor(figure3_inputs(d, length), dtype=dtype, device=device)[:, None, :]
    x, _, _ = build_batch(task_l, bits, max(1, FIGURE3_LENGTH - length))
    _, hidden = run_model(x, weights_t, return_hidden=True)
    hidden = hidden[:, 0].cpu().numpy().astype(np.float64)
    kept = kept_memory_indices(phi)
    basis = variable_memory_basis(w_hh, w_r, phi, length, hidden=hidden, kept=kept)
    phi_emp = empirical_phi(basis, w_hh)
    error, relative = phi_error(phi_emp, phi, kept)
    trajectory = memory_trajectory(basis, hidden)
    snapshots, steps = memory_snapshots(trajectory, d, length, FIGURE3_STEPS)
    out.update(
        {
            "emt_phi_error" + sfx: error,
            "emt_phi_relative_error" + sfx: relative,
            "emt_n_kept" + sfx: basis.n_kept,
            "emt_n_residual" + sfx: basis.n_residual,
        }
    )
    memory_dim = length * d
    arrays.update(
        {
            "operator" + sfx: operator,
            "phi_theory" + sfx: phi,
            "eigenvalues_theory" + sfx: eig_phi,
            "eigenvalues_sub" + sfx: eig_sub,
            "kept" + sfx: kept,
            "psi" + sfx: basis.psi,
            "psi_dual" + sfx: basis.psi_dual,
            "phi_empirical" + sfx: phi_emp,
            "eigenvalues_emt" + sfx: eigenvalues(
                phi_emp[:memory_dim, :memory_dim][np.ix_(kept, kept)]
            )
            if kept.size
            else np.zeros(0, dtype=np.complex128),
            "figure3_inputs" + sfx: bits[:, 0].cpu().numpy().astype(np.float64),
            "memory_trajectory" + sfx: trajectory,
            "memory_snapshots" + sfx: snapshots,
            "memory_snapshot_steps" + sfx: steps,
        }
    )


def _blas_threads(n: int | None):
    """Limit numpy's BLAS threads (``None``: leave as is). The matrices here are small (N ≲ 512):
    threading them gains nothing, and on a loaded machine spinning BLAS threads cost 10-50x
    (measured: SVD + eig of a 128² matrix 1.5 s with 2 threads vs 0.03 s with 1)."""
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def evaluate_loaded(
    model: LoadedModel,
    *,
    model_name: str | None = None,
    experiment: str | None = None,
    variant: str | None = None,
    variant_config: dict | None = None,
    seq_lengths=None,
    test_horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    unit_threshold: float = DEFAULT_UNIT_THRESHOLD,
    magnitude_threshold: float = 0.0,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
    blas_threads: int | None = 1,
) -> tuple[dict, dict]:
    """Evaluate a loaded checkpoint (no file I/O). Returns ``(metrics, arrays)``.

    ``blas_threads`` caps numpy's BLAS threads during the evaluation (default 1, see
    :func:`_blas_threads`); torch's threads are left to the caller (``torch.set_num_threads``).
    """
    with _blas_threads(blas_threads):
        return _evaluate_loaded(
            model,
            model_name=model_name,
            experiment=experiment,
            variant=variant,
            variant_config=variant_config,
            seq_lengths=seq_lengths,
            test_horizon=test_horizon,
            n_batches=n_batches,
            batch_size=batch_size,
            unit_threshold=unit_threshold,
            magnitude_threshold=magnitude_threshold,
            device=device,
            dtype=dtype,
        )


def _evaluate_loaded(
    model: LoadedModel,
    *,
    model_name,
    experiment,
    variant,
    variant_config,
    seq_lengths,
    test_horizon,
    n_batches,
    batch_size,
    unit_threshold,
    magnitude_threshold,
    device,
    dtype,
) -> tuple[dict, dict]:
    started = time.perf_counter()
    hp, outcome = model.hparams, model.outcome or {}
    params = model_params(hp, variant_config)
    d = int(params["input_dim"])
    seed = int(params["seed"])
    lengths = evaluation_lengths(params["seq_length"], seq_lengths)
    tasks = {}
    for length in lengths:
        try:
            tasks[length] = Task(params["task_id"], d, length, bool(params["use_eos"]))
        except ValueError as error:
            raise ValueError(f"cannot evaluate at seq_length {length}: {error}") from error

    metrics = dict.fromkeys(metric_keys(lengths))
    metrics.update(params)
    train_horizon = outcome.get("horizon")
    metrics.update(
        {
            "format": METRICS_FORMAT,
            "format_version": METRICS_VERSION,
            "model_name": model_name or f"model-{seed}",
            "experiment": experiment,
            "variant": variant,
            "model_path": str(model.path),
            "task_label": task_label(parse_task_id(params["task_id"], d), d),
            "seq_lengths": lengths,
            "variant_params": variant_config,
            "hparams": dict(hp),
            "converged": outcome.get("converged"),
            "diverged": outcome.get("diverged"),
            "diverged_at_step": outcome.get("diverged_at_step"),
            "early_stopped": outcome.get("early_stopped"),
            "train_steps": outcome.get("steps"),
            "train_horizon": train_horizon,
            "train_accuracy": outcome.get("train_accuracy"),
            "train_loss": outcome.get("train_loss"),
            "curriculum_level": outcome.get("curriculum_level"),
            "train_wall_seconds": outcome.get("wall_seconds"),
            "test_horizon": int(test_horizon),
            "n_test_batches": int(n_batches),
            "test_batch_size": int(batch_size),
            "unit_threshold": float(unit_threshold),
            "magnitude_threshold": float(magnitude_threshold),
            "device": str(device),
            "histogram_bins": {"angle": ANGLE_EDGES, "magnitude": MAGNITUDE_EDGES},
        }
    )
    arrays: dict[str, np.ndarray] = {"angle_edges": ANGLE_EDGES, "magnitude_edges": MAGNITUDE_EDGES}

    # Accuracy at every length (biases included when the model has them).
    weights_t = model.torch_weights(dtype)
    per_step_all = []
    for length in lengths:
        result = evaluate_accuracy(
            tasks[length],
            weights_t,
            seed,
            length,
            test_horizon,
            n_batches,
            batch_size,
            device,
            dtype,
        )
        per_step_all.append(result.per_step)
        metrics[f"accuracy_seq{length}"] = result.accuracy
        metrics[f"accuracy_per_step_seq{length}"] = result.per_step
        metrics["n_test_sequences"] = result.n_sequences
        arrays[f"accuracy_per_step_seq{length}"] = result.per_step
        arrays[f"sample_inputs_seq{length}"] = result.sample_inputs
        arrays[f"sample_target_seq{length}"] = result.sample_target
        arrays[f"sample_prediction_seq{length}"] = result.sample_prediction
    per_step = np.mean(per_step_all, axis=0)
    accuracy = float(per_step.mean())
    metrics["accuracy"] = accuracy
    metrics["solved"] = accuracy > VALID_ACCURACY
    metrics["accuracy_per_step"] = per_step
    arrays["accuracy_per_step"] = per_step
    if isinstance(train_horizon, int) and 0 < train_horizon < test_horizon:
        metrics["accuracy_within_train_horizon"] = _mean_or_none(per_step[:train_horizon])
        metrics["accuracy_beyond_train_horizon"] = _mean_or_none(per_step[train_horizon:])

    finite = _finite(model.weights)
    metrics["weights_finite"] = finite
    n_hidden = model.weights["W_hh"].shape[0]
    metrics["hidden_too_small"] = any(n_hidden < length * d for length in lengths)
    if finite:
        w_hh, w_r = model.weights["W_hh"], model.weights["W_r"]
        eig_whh = eigenvalues(w_hh)
        u, s, _ = np.linalg.svd(w_hh)
        metrics.update(
            {
                "eigenvalues_whh": eigenvalues_to_pairs(eig_whh),
                "n_unit_circle_whh": count_unit_circle(eig_whh, unit_threshold),
                "spectral_radius_whh": float(np.abs(eig_whh).max()) if eig_whh.size else None,
                "n_above_magnitude_threshold_whh": int(
                    np.sum(np.abs(eig_whh) >= magnitude_threshold)
                ),
                "angle_histogram_whh": angle_histogram(eig_whh),
                "magnitude_histogram_whh": magnitude_histogram(eig_whh),
            }
        )
        arrays["eigenvalues_whh"] = eig_whh
        arrays["singular_values_whh"] = s
        for length in lengths:
            _per_length(
                tasks[length],
                w_hh,
                w_r,
                eig_whh,
                (u, s),
                weights_t,
                unit_threshold,
                device,
                dtype,
                metrics,
                arrays,
            )
    else:  # the theory side does not depend on the weights: still reported
        for length in lengths:
            eig_phi = eigenvalues(tasks[length].phi(length))
            sfx = f"_seq{length}"
            metrics["hidden_too_small" + sfx] = n_hidden < length * d
            metrics["eigenvalues_theory" + sfx] = eigenvalues_to_pairs(eig_phi)
            metrics["n_unit_circle_theory" + sfx] = count_unit_circle(eig_phi, unit_threshold)
            arrays["eigenvalues_theory" + sfx] = eig_phi
            arrays["operator" + sfx] = tasks[length].operator(length)
    metrics["evaluation_seconds"] = time.perf_counter() - started
    return io.to_jsonable(metrics), arrays


def evaluate_model(
    model: str | os.PathLike,
    seq_lengths=None,
    test_horizon: int = 200,
    n_batches: int = 10,
    batch_size: int = 64,
    unit_threshold: float = DEFAULT_UNIT_THRESHOLD,
    magnitude_threshold: float = 0.0,
    device: str = "cpu",
    dtype: torch.dtype = torch.float64,
) -> tuple[dict, dict]:
    """Evaluate ``model`` (a ``model-{seed}`` directory or its ``model.pt``); returns ``(metrics,
    arrays)``.

    ``seq_lengths`` overrides the evaluated lengths (default: the trained length, or every length of
    a trained range). ``device`` accepts ``cpu``, ``cuda`` or an accelerator name (``auto``,
    ``gpu``). A missing or truncated checkpoint raises :class:`vbpipe.checkpoint.CheckpointError`.
    """
    checkpoint = io.resolve_checkpoint(model)
    loaded = io.load_checkpoint(checkpoint)
    model_dir = io.model_dir_of(checkpoint)
    config = io.read_variant_config(model_dir)
    meta = config.get("metadata", {}) if isinstance(config, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    name = model_dir.name if model_dir.name.startswith("model-") else None
    return evaluate_loaded(
        loaded,
        model_name=name,
        experiment=meta.get("experiment_name") or Path(model_dir).parent.parent.name or None,
        variant=meta.get("variant") or Path(model_dir).parent.name or None,
        variant_config=config,
        seq_lengths=seq_lengths,
        test_horizon=test_horizon,
        n_batches=n_batches,
        batch_size=batch_size,
        unit_threshold=unit_threshold,
        magnitude_threshold=magnitude_threshold,
        device=resolve_device(device),
        dtype=dtype,
    )
