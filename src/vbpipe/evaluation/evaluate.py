"""Evaluate one trained model: accuracy, spectra, EMT variable memories. No file I/O here.

:func:`evaluate_loaded` returns ``(metrics, arrays)``: ``metrics`` is the content of
``metrics.json`` in the form :mod:`vbpipe.results` defines (sections ``identity``, ``checkpoint``,
``params``, ``training``, ``evaluation``, ``model`` and one ``lengths`` entry per evaluated length;
every field present, ``None`` where not applicable) and ``arrays`` the content of ``arrays.npz``
(:data:`vbpipe.results.records.MODEL_ARRAYS`, and :data:`vbpipe.results.records.LENGTH_ARRAYS` as ``{name}_seq{L}``).

What is computed (``L`` = each evaluated length, ``d`` = input width, ``N`` = hidden size):

- accuracy over the seeded test set, per length and per output step (:mod:`.accuracy`); the model
  accuracy is the mean over lengths, ``solved`` is ``accuracy > SOLVED_ACCURACY`` (0.9);
  ``accuracy_within/beyond_train_horizon`` split the mean per-step curve at the horizon the model
  was last trained at (``None`` when unknown or not below the test horizon);
- the spectrum of ``W_hh`` (once per model), its unit-circle count, and per length the spectral
  error of the full ``W_hh`` against ``Φ`` (radians, optimal matching, :mod:`.spectra`) with both
  unit-circle counts; the original's PCA-subspace comparison (``W_sub``); ``hidden_too_small`` when
  ``N < L·d`` (then the Frobenius metrics are ``None``, everything else is computed);
- the EMT basis from the readout and the empirical ``Φ = Ψ* W_hh Ψ``, its error on the kept memory
  dimensions, and the Figure-3 trajectory (:mod:`.emt`).

The task's side (``Φ``, its eigenvalues, the kept indices) depends on ``(task, d, L)`` only and is
computed once per process (:func:`theory`). A model whose weights are not finite (training
diverged) is still reported: its accuracy is computed (non-finite outputs count as wrong), every
field about its spectrum or EMT basis is ``None``, ``weights_finite`` is false; the theory's counts
are still given.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import __version__
from ..checkpoint import LoadedModel, load_model
from ..constants import SOLVED_ACCURACY
from ..devices import resolve_device
from ..results.errors import ResultsError
from ..results.records import (
    OUTCOME_KEYS,
    EvaluationSettings,
    ModelIdentity,
    array_key,
    checkpoint_fingerprint,
    empty_metrics,
)
from ..taskspec import Task, parse_task_id, seq_length_bounds, task_label
from .accuracy import evaluate_accuracy, hidden_trajectory
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
from .spectra import count_unit_circle, eigenvalues, pca_subspace_metrics, spectral_comparison

#: Precision of the accuracy forward pass (recorded in ``metrics.json``).
ACCURACY_DTYPE = "float32"

__all__ = [
    "Theory",
    "blas_threads_limited",
    "evaluate_checkpoint",
    "evaluate_loaded",
    "evaluation_lengths",
    "model_params",
    "resolve_device",
    "theory",
]


def evaluation_lengths(seq_length, override=None) -> list[int]:
    """Lengths to evaluate: ``override`` (ints) or the trained length / inclusive range."""
    if override is not None:
        lengths = sorted({int(v) for v in override})
        if not lengths or lengths[0] < 1:
            raise ResultsError(f"seq_lengths must be positive integers, got {override!r}")
        return lengths
    if isinstance(seq_length, list):
        seq_length = tuple(seq_length)
    low, high = seq_length_bounds(seq_length)
    return list(range(low, high + 1))


def model_params(hparams: dict) -> dict:
    """The checkpoint's hyper-parameters as JSON values (``task_id`` as three decimal strings,
    tuples as lists)."""
    params = {}
    for key, value in hparams.items():
        params[key] = list(value) if isinstance(value, tuple) else value
    d = int(hparams["input_dim"])
    params["task_id"] = [str(t) for t in parse_task_id(hparams["task_id"], d)]
    return params


@dataclass(frozen=True)
class Theory:
    """The task's side at one length: ``Task``, operator ``F`` (L·d × d), ``Φ``, its eigenvalues
    and the memory indices the EMT rank reduction keeps."""

    task: Task
    operator: np.ndarray
    phi: np.ndarray
    eig_phi: np.ndarray
    kept: np.ndarray


@lru_cache(maxsize=128)
def _theory(task_id: tuple[int, int, int], d: int, length: int, use_eos: bool) -> Theory:
    task = Task(task_id, d, length, use_eos)
    phi = task.phi(length)
    return Theory(task, task.operator(length), phi, eigenvalues(phi), kept_memory_indices(phi))


def theory(task_id, input_dim: int, seq_length: int, use_eos: bool = False) -> Theory:
    """The (cached) :class:`Theory` of a task at one length; :class:`ResultsError` when the task
    cannot be evaluated at that length."""
    ids = parse_task_id(task_id, int(input_dim))
    try:
        return _theory(ids, int(input_dim), int(seq_length), bool(use_eos))
    except ValueError as error:
        raise ResultsError(f"cannot evaluate at seq_length {seq_length}: {error}") from error


def _finite(weights: dict[str, np.ndarray]) -> bool:
    return all(np.all(np.isfinite(w)) for w in weights.values())


def blas_threads_limited(n: int | None):
    """A context that limits numpy's BLAS threads (``None``: leave as is). The matrices here are
    small (N ≲ 512): threading them gains nothing, and on a loaded machine spinning BLAS threads
    cost 10-50x."""
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def _figure3_sequence(task: Task, length: int) -> np.ndarray:
    """The Figure-3 input ``(T, D_in)``: the paper's bits, then zeros (EOS flag when used)."""
    d = task.input_dim
    total = length + max(1, FIGURE3_LENGTH - length)
    x = np.zeros((total, task.model_input_dim))
    x[:length, :d] = figure3_inputs(d, length)
    if task.use_eos:
        x[length, d] = -1.0
    return x


def _length_spectra(th: Theory, w_hh, eig_whh, svd, threshold, entry):
    full = spectral_comparison(eig_whh, th.eig_phi, threshold)
    pca = pca_subspace_metrics(w_hh, th.phi, threshold, svd=svd, eig_phi=th.eig_phi)
    entry.update(
        spectral_error=full.error_rad,
        spectral_error_max=full.max_error_rad,
        n_unit_circle_rnn=full.n_a,
        n_unit_circle_theory=full.n_b,
        unit_circle_count_mismatch=full.count_mismatch,
        n_unit_circle_sub=pca["spectral"].n_a,
        spectral_error_sub=pca["spectral"].error_rad,
        variance_ratio=pca["variance_ratio"],
        frob_error=pca["frob_error"],
        frob_relative=pca["frob_relative"],
    )
    return pca["eigenvalues_sub"]


def _length_emt(th: Theory, weights, length: int, entry: dict, arrays: dict, activation="tanh"):
    d = th.task.input_dim
    w_hh, w_r = weights["W_hh"], weights["W_r"]
    x = _figure3_sequence(th.task, length)
    hidden = hidden_trajectory(weights, x, activation)
    basis = variable_memory_basis(w_hh, w_r, th.phi, length, hidden=hidden, kept=th.kept)
    phi_emp = empirical_phi(basis, w_hh)
    error, relative = phi_error(phi_emp, th.phi, th.kept)
    trajectory = memory_trajectory(basis, hidden)
    snapshots, steps = memory_snapshots(trajectory, d, length, FIGURE3_STEPS)
    entry.update(
        emt_phi_error=error,
        emt_phi_relative_error=relative,
        emt_n_kept=basis.n_kept,
        emt_n_residual=basis.n_residual,
    )
    memory_dim = length * d
    kept = th.kept
    eig_emt = (
        eigenvalues(phi_emp[:memory_dim, :memory_dim][np.ix_(kept, kept)])
        if kept.size
        else np.zeros(0, dtype=np.complex128)
    )
    for name, value in (
        ("kept", kept),
        ("psi", basis.psi),
        ("psi_dual", basis.psi_dual),
        ("phi_empirical", phi_emp),
        ("eigenvalues_emt", eig_emt),
        ("figure3_inputs", x[:length, :d]),
        ("memory_trajectory", trajectory),
        ("memory_snapshots", snapshots),
        ("memory_snapshot_steps", steps),
    ):
        arrays[array_key(name, length)] = value


def evaluate_loaded(
    model: LoadedModel,
    identity: ModelIdentity | None = None,
    settings: EvaluationSettings | None = None,
    device: str = "cpu",
    fingerprint: dict | None = None,
    blas_threads: int | None = 1,
) -> tuple[dict, dict]:
    """Evaluate a loaded checkpoint. Returns ``(metrics, arrays)``.

    ``identity`` defaults to an unnamed model of the checkpoint's seed (experiment and variant
    ``None``); when given, its seed must be the checkpoint's. ``fingerprint`` is the checkpoint's
    :func:`vbpipe.results.records.checkpoint_fingerprint` (computed from ``model.path`` when omitted).
    ``blas_threads`` caps numpy's BLAS threads (default 1); torch's threads are the caller's.
    """
    settings = EvaluationSettings.from_mapping(settings)
    with blas_threads_limited(blas_threads):
        return _evaluate(model, identity, settings, device, fingerprint)


def _evaluate(model: LoadedModel, identity, settings: EvaluationSettings, device, fingerprint):
    started = time.perf_counter()
    hp, outcome = model.hparams, model.outcome or {}
    seed = int(hp["seed"])
    if identity is None:
        identity = ModelIdentity(None, None, seed)
    elif identity.seed != seed:
        raise ResultsError(
            f"{model.path}: the checkpoint is seed {seed}, but it is evaluated as {identity.label} "
            f"(seed {identity.seed})"
        )
    params = model_params(hp)
    d = int(hp["input_dim"])
    task_id = parse_task_id(hp["task_id"], d)
    use_eos = bool(hp.get("use_eos", False))
    lengths = evaluation_lengths(hp["seq_length"], settings.seq_lengths)
    theories = {L: theory(task_id, d, L, use_eos) for L in lengths}
    activation = hp.get("activation", "tanh")  # absent: a tanh RNN (or a circuit)

    metrics = empty_metrics(lengths)
    metrics["identity"] = identity.as_dict()
    metrics["checkpoint"] = fingerprint or checkpoint_fingerprint(model.path)
    metrics["params"] = params
    metrics["task_label"] = task_label(task_id, d)
    metrics["training"] = {key: outcome.get(src) for key, src in OUTCOME_KEYS.items()}
    metrics["evaluation"].update(
        test_horizon=settings.test_horizon,
        n_test_batches=settings.n_batches,
        test_batch_size=settings.batch_size,
        n_test_sequences=settings.n_batches * settings.batch_size,
        unit_threshold=settings.unit_threshold,
        seq_lengths=list(lengths),
        device=str(device),
        dtype=ACCURACY_DTYPE,
        vbpipe_version=__version__,
    )
    entries = {entry["eval_length"]: entry for entry in metrics["lengths"]}
    arrays: dict[str, np.ndarray] = {}

    weights = model.weights
    n_hidden = weights["W_hh"].shape[0]
    per_step_all = []
    for L in lengths:
        th = theories[L]
        result = evaluate_accuracy(
            th.task,
            weights,
            seed,
            L,
            settings.test_horizon,
            settings.n_batches,
            settings.batch_size,
            device,
            activation,
        )
        per_step_all.append(result.per_step)
        entry = entries[L]
        entry.update(
            memory_dim=L * d,
            accuracy=result.accuracy,
            hidden_too_small=n_hidden < L * d,
            n_unit_circle_theory=count_unit_circle(th.eig_phi, settings.unit_threshold),
        )
        for name, value in (
            ("accuracy_per_step", result.per_step),
            ("sample_inputs", result.sample_inputs),
            ("sample_target", result.sample_target),
            ("sample_prediction", result.sample_prediction),
            ("operator", th.operator),
            ("eigenvalues_theory", th.eig_phi),
        ):
            arrays[array_key(name, L)] = value
    per_step = np.mean(per_step_all, axis=0)
    accuracy = float(per_step.mean())
    model_part = metrics["model"]
    model_part.update(
        accuracy=accuracy,
        solved=accuracy > SOLVED_ACCURACY,
        hidden_too_small=any(n_hidden < L * d for L in lengths),
    )
    arrays["accuracy_per_step"] = per_step
    train_horizon = metrics["training"]["train_horizon"]
    if isinstance(train_horizon, int) and 0 < train_horizon < settings.test_horizon:
        model_part["accuracy_within_train_horizon"] = float(per_step[:train_horizon].mean())
        model_part["accuracy_beyond_train_horizon"] = float(per_step[train_horizon:].mean())

    finite = _finite(weights)
    model_part["weights_finite"] = finite
    if finite:
        w_hh = weights["W_hh"]
        eig_whh = eigenvalues(w_hh)
        u, s, _ = np.linalg.svd(w_hh)
        model_part["n_unit_circle_whh"] = count_unit_circle(eig_whh, settings.unit_threshold)
        model_part["spectral_radius_whh"] = float(np.abs(eig_whh).max()) if eig_whh.size else None
        arrays["eigenvalues_whh"] = eig_whh
        arrays["singular_values_whh"] = s
        for L in lengths:
            th = theories[L]
            eig_sub = _length_spectra(
                th, w_hh, eig_whh, (u, s), settings.unit_threshold, entries[L]
            )
            arrays[array_key("eigenvalues_sub", L)] = eig_sub
            _length_emt(th, weights, L, entries[L], arrays, activation)
    metrics["evaluation"]["seconds"] = time.perf_counter() - started
    return metrics, arrays


def evaluate_checkpoint(
    checkpoint: str | os.PathLike,
    identity: ModelIdentity | None = None,
    settings: EvaluationSettings | dict | None = None,
    device: str = "cpu",
) -> tuple[dict, dict]:
    """Load ``checkpoint`` (a ``model.pt``) and evaluate it (:func:`evaluate_loaded`); a missing
    or corrupt file raises :class:`vbpipe.checkpoint.CheckpointError`. ``device`` accepts ``cpu``,
    ``cuda`` or an accelerator name (``auto``, ``gpu``)."""
    path = Path(checkpoint)
    fingerprint = checkpoint_fingerprint(path) if path.is_file() else None
    loaded = load_model(path)
    return evaluate_loaded(
        loaded,
        identity,
        EvaluationSettings.from_mapping(settings),
        resolve_device(device),
        fingerprint,
    )
