"""The Python API: open an experiment's results or one model in a notebook or script.

``vbpipe.load_experiment``, ``vbpipe.load_model`` and ``vbpipe.load_model_results`` are importable
from the package itself (lazily: ``import vbpipe`` stays cheap and imports no torch). They sit on
the results room's readers, so they read exactly what the workflow and the ``vbpipe`` command
write; ``docs/api.md`` shows them in use.
"""

from __future__ import annotations

import os
from pathlib import Path

from .results.errors import ResultsError
from .results.layout import (
    ARRAYS_NAME,
    EXPERIMENT_ARRAYS_NAME,
    METRICS_NAME,
    RESULTS_DIRNAME,
    TABLE_NAME,
)

PathLike = str | os.PathLike

__all__ = ["load_experiment", "load_model", "load_model_results", "torch_module"]


def load_experiment(path: PathLike):
    """An experiment's evaluation as :class:`vbpipe.results.experiment.ExperimentResults`: ``.table``, the tidy
    table (a pandas DataFrame, one row per model and evaluated length: identity, parameters,
    accuracy, spectral error, EMT metrics, ...) and ``.arrays``, the per-row arrays aligned with it
    (``eigenvalues_whh``, ``eigenvalues_theory``, ``eigenvalues_sub``, ``eigenvalues_emt``,
    ``accuracy_per_step``).

    ``path``: an experiment directory (``results/{experiment}``), or any directory ``vbpipe
    evaluate`` / ``vbpipe aggregate`` wrote into (it holds ``evaluation_table.csv`` and
    ``evaluation_arrays.npz``)."""
    from .results.experiment import load_experiment as read_experiment

    root = Path(path)
    table, arrays = root / TABLE_NAME, root / EXPERIMENT_ARRAYS_NAME
    if not root.is_dir():
        raise ResultsError(f"{root}: experiment directory does not exist")
    if not table.is_file() or not arrays.is_file():
        raise ResultsError(
            f"{root}: no {TABLE_NAME} and {EXPERIMENT_ARRAYS_NAME} here: not aggregated yet (run "
            "the workflow, or `vbpipe evaluate --models_dir` / `vbpipe aggregate`)"
        )
    return read_experiment(table, arrays)


def _checkpoint(path: PathLike) -> Path:
    from .original_runs import model_checkpoint

    path = Path(path)
    if path.is_dir():
        found = model_checkpoint(path)
        if found is None:
            raise ResultsError(
                f"{path}: a model directory without checkpoint/model.pt (or the original "
                "project's lightning_logs/version_*/checkpoints/*.ckpt)"
            )
        return found
    return path


def load_model(path: PathLike, as_torch: bool = False):
    """One trained model. ``path``: a ``model-*`` directory, its ``checkpoint/model.pt``, or an
    original project's Lightning ``.ckpt`` (or the model directory holding one).

    Returns a :class:`vbpipe.checkpoint.LoadedModel`: ``.weights`` (``W_ih``, ``W_hh``, ``W_r``
    [, ``b_h``, ``b_r``] as float64 numpy arrays), ``.hparams`` (what it was trained with),
    ``.outcome`` (steps, curriculum level, converged, ...) and ``.versions``. With
    ``as_torch=True``, a ``torch.nn.Module`` instead (:func:`torch_module`). Reading the
    checkpoint imports no torch unless ``as_torch``."""
    from .checkpoint import load_model as read_checkpoint

    loaded = read_checkpoint(_checkpoint(path))
    return torch_module(loaded) if as_torch else loaded


def load_model_results(path: PathLike) -> tuple[dict, dict]:
    """A model's evaluation: ``(metrics, arrays)``, the content of its ``results/metrics.json``
    (identity, params, training outcome, accuracy, one ``lengths`` entry per evaluated length) and
    ``results/arrays.npz`` (per-step accuracy, spectra, the EMT basis Ψ, the empirical Φ, ...; per
    length as ``{name}_seq{L}``). ``path``: the ``model-*`` directory or its ``results/``."""
    from .results.records import read_metrics, read_model_arrays

    results = Path(path)
    if not (results / METRICS_NAME).is_file() and (results / RESULTS_DIRNAME).is_dir():
        results = results / RESULTS_DIRNAME
    if not (results / METRICS_NAME).is_file():
        raise ResultsError(f"{path}: no {METRICS_NAME}: the model is not evaluated yet")
    return read_metrics(results / METRICS_NAME), read_model_arrays(results / ARRAYS_NAME)


def torch_module(model):
    """A :class:`~vbpipe.checkpoint.LoadedModel` as a float64 ``torch.nn.Module`` in the original
    project's shape: ``module.rnn`` (``torch.nn.RNN``, tanh) and ``module.readout``
    (``torch.nn.Linear``); ``module(x)`` maps ``x`` ``(T, B, D_in)`` to ``(y_hat, hidden)``,
    ``(T, B, d)`` and ``(T, B, N)``, from ``h = 0``, exactly the model the evaluation scores."""
    from .torch_module import RNNModule

    return RNNModule.from_weights(model.weights)
