"""Synthetic evaluation summaries for the analysis tests."""

from __future__ import annotations

import json

import numpy as np
import pytest


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


def model_entry(name: str, eig: np.ndarray, rng: np.random.Generator, seq_length: int = 8) -> dict:
    return {
        "model_name": name,
        "variant": "T1-L8-h128",
        "accuracy": float(rng.uniform(0.5, 1.0)),
        f"eigenvalues_rnn_seq{seq_length}": [[float(z.real), float(z.imag)] for z in eig],
        "eigenvalues_whh": [[float(z.real), float(z.imag)] for z in np.append(eig, [0.5, -0.5])],
        f"spectral_error_deg_seq{seq_length}": None
        if rng.uniform() < 0.3
        else float(rng.uniform(0, 5)),
        f"frob_relative_seq{seq_length}": float(rng.uniform(0, 1)),
    }


@pytest.fixture
def make_summary(tmp_path):
    """Factory: write an evaluation_summary.json with ``n_models`` synthetic models."""

    def _make(
        n_models: int,
        n_eig: int = 16,
        seed: int = 0,
        directory: str = "experiment",
        spread: float = 1.0,
        extra_entries: list[dict] | None = None,
    ):
        rng = np.random.default_rng(seed)
        metrics = [
            model_entry(f"model-{i + 1}", synthetic_eigenvalues(rng, n_eig, spread), rng)
            for i in range(n_models)
        ]
        metrics += extra_entries or []
        summary = {
            "timestamp": "2026-01-01T00:00:00",
            "n_models": len(metrics),
            "evaluation_config": {"seq_lengths": [8]},
            "metrics": metrics,
        }
        path = tmp_path / directory / "evaluation_summary.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary))
        return path

    return _make


def _reject_constant(name):
    raise AssertionError(f"JSON contains {name}")


def load_strict_json(path):
    """Parse JSON and fail on NaN/Infinity."""
    return json.loads(path.read_text(), parse_constant=_reject_constant)


@pytest.fixture
def strict_json():
    return load_strict_json
