"""Synthetic experiment results for the analysis tests (no model is trained or evaluated)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.grids import paper_grid_models

from vbpipe.fileio import write_json
from vbpipe.results.experiment import ExperimentResults, experiment_from_metrics
from vbpipe.results.records import array_key, empty_metrics
from vbpipe.results.summary import build_summary


def synthetic_eigenvalues(rng: np.random.Generator, n_eig: int, spread: float = 1.0) -> np.ndarray:
    """Conjugate pairs with magnitudes around 0.9 and random angles (like a trained W_sub)."""
    half = n_eig // 2
    mag = np.clip(rng.normal(0.9, 0.08 * spread, half), 0.05, 1.3)
    ang = rng.uniform(0.05, np.pi - 0.05, half)
    z = mag * np.exp(1j * ang)
    eig = np.concatenate([z, z.conj()])
    if n_eig % 2:
        eig = np.append(eig, rng.uniform(-1, 1))
    return eig


def model_record(
    seed: int, eig: np.ndarray | None, rng: np.random.Generator, seq_length: int = 8, hidden=128
):
    """A metrics record and arrays of one synthetic model (``eig`` None: a diverged model)."""
    record = empty_metrics([seq_length])
    record["identity"] = {
        "experiment": "synthetic",
        "variant": f"T1-L8-h{hidden}",
        "seed": seed,
        "model_name": f"model-{seed}",
    }
    record["params"] = {
        "task_id": ["255", "0", "0"],
        "input_dim": 8,
        "seq_length": seq_length,
        "hidden_dim": hidden,
        "l2_penalty": 0.0,
        "seed": seed,
    }
    record["task_label"] = "T1"
    accuracy = float(rng.uniform(0.5, 1.0))
    record["model"].update(accuracy=accuracy, weights_finite=eig is not None)
    entry = record["lengths"][0]
    entry.update(
        accuracy=accuracy,
        spectral_error=None if rng.uniform() < 0.3 else float(rng.uniform(0, 0.1)),
        frob_relative=float(rng.uniform(0, 1)),
    )
    arrays = {array_key("accuracy_per_step", seq_length): np.full(20, accuracy)}
    if eig is not None:
        arrays["eigenvalues_whh"] = np.append(eig, [0.5, -0.5])
        arrays[array_key("eigenvalues_sub", seq_length)] = eig
    return record, arrays


def synthetic_experiment(
    n_models: int, n_eig: int = 16, seed: int = 0, spread: float = 1.0, n_diverged: int = 0
) -> ExperimentResults:
    rng = np.random.default_rng(seed)
    records, arrays = [], []
    for i in range(n_models + n_diverged):
        eig = synthetic_eigenvalues(rng, n_eig, spread) if i < n_models else None
        hidden = 128 if i % 2 == 0 else 64
        record, data = model_record(i + 1, eig, rng, hidden=hidden)
        records.append(record)
        arrays.append(data)
    return experiment_from_metrics(records, arrays, source="synthetic")


@pytest.fixture
def make_experiment():
    """Factory: an in-memory :class:`ExperimentResults` of ``n_models`` synthetic models."""
    return synthetic_experiment


@pytest.fixture
def make_summary(tmp_path):
    """Factory: write the ``evaluation_summary.json`` of ``n_models`` synthetic models."""

    def _make(n_models: int, directory: str = "experiment", **options):
        results = synthetic_experiment(n_models, **options)
        path = tmp_path / directory / "evaluation_summary.json"
        write_json(path, build_summary(results, {"evaluation": {}}), indent=None)
        return path

    return _make


@pytest.fixture
def make_table(tmp_path):
    """Factory: write ``evaluation_table.csv`` + ``evaluation_arrays.npz``; returns both paths."""

    def _make(n_models: int, directory: str = "experiment", **options):
        results = synthetic_experiment(n_models, **options)
        base = tmp_path / directory
        paths = (base / "evaluation_table.csv", base / "evaluation_arrays.npz")
        results.write(*paths)
        return paths

    return _make


def _reject_constant(name):
    raise AssertionError(f"JSON contains {name}")


def load_strict_json(path):
    """Parse JSON and fail on NaN/Infinity."""
    return json.loads(path.read_text(), parse_constant=_reject_constant)


@pytest.fixture
def strict_json():
    return load_strict_json


@pytest.fixture
def grid_models():
    """A synthetic paper-grid table (5 seeds per cell)."""
    return paper_grid_models()
