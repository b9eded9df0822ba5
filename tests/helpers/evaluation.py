"""Builders for the evaluation tests: hand-made EMT circuits and checkpoints in the workflow layout.

A uniquely named module (not conftest.py) so that tests can import it without clashing with other
test directories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from vbpipe.checkpoint import save_model
from vbpipe.tasks import Task
from vbpipe.training.kernel import init_weights

OUTCOME = {
    "steps": 1000,
    "curriculum_level": 4,
    "horizon": 100,
    "train_accuracy": 1.0,
    "train_loss": 0.01,
    "converged": True,
    "diverged": False,
    "diverged_at_step": None,
    "early_stopped": False,
    "curriculum_history": [],
    "wall_seconds": 1.0,
}

#: Fast evaluation settings for tests (the defaults are 10 x 64 at horizon 200).
FAST = {"test_horizon": 60, "n_batches": 2, "batch_size": 16}


def exact_circuit(task_id, d: int, length: int, hidden: int, eps: float = 1e-3, seed: int = 0):
    """The EMT variable-binding circuit: ``W_hh = Ψ Φ Ψᵀ`` (orthonormal Ψ), ``W_ih`` writes ε·u into
    the newest slot, ``W_r`` reads the newest slot back with 1/ε. Returns (weights, Ψ, Φ)."""
    task = Task(task_id, d, length)
    phi = task.phi(length)
    rng = np.random.default_rng(seed)
    psi, _ = np.linalg.qr(rng.standard_normal((hidden, length * d)))
    newest = psi[:, (length - 1) * d :]
    weights = {
        "W_ih": torch.tensor(eps * newest),
        "W_hh": torch.tensor(psi @ phi @ psi.T),
        "W_r": torch.tensor(newest.T / eps),
    }
    return weights, psi, phi


def hparams(task_id, d, seq_length, hidden, seed, bias=False, **extra):
    ids = Task(task_id, d, seq_length if isinstance(seq_length, int) else tuple(seq_length)).task_id
    return {
        "task_id": [str(t) for t in ids],
        "input_dim": d,
        "seq_length": seq_length,
        "use_eos": False,
        "hidden_dim": hidden,
        "bias": bias,
        "seed": seed,
        "l2_penalty": 0.0,
        "curriculum_threshold": 0.96,
        **extra,
    }


def write_model(
    root: Path,
    weights,
    task_id,
    d,
    seq_length,
    seed,
    variant="var",
    outcome=None,
    config=True,
    **extra,
) -> Path:
    """Save ``root/variant/model-{seed}/checkpoint/model.pt`` (+ the variant's config.json)."""
    hidden = weights["W_hh"].shape[0]
    hp = hparams(task_id, d, seq_length, hidden, seed, bias="b_h" in weights, **extra)
    model_dir = root / variant / f"model-{seed}"
    save_model(model_dir / "checkpoint" / "model.pt", weights, hp, {**OUTCOME, **(outcome or {})})
    if config:
        cfg = {
            "metadata": {"experiment_name": root.name, "variant": variant},
            "task": {"task_id": hp["task_id"], "input_dim": d, "seq_length": seq_length},
            "model": {"type": "rnn", "hidden_dim": hidden, "bias": hp["bias"]},
            "training": {"l2_penalty": hp["l2_penalty"], "learning_rate": 0.001, "batch_size": 64},
        }
        (root / variant / "config.json").write_text(json.dumps(cfg))
    return model_dir


def random_model(root: Path, seed=3, hidden=64, d=8, length=8, task_id=(255, 0, 0), **kw) -> Path:
    weights = init_weights(seed, d, hidden, d)
    outcome = {"converged": False, "train_accuracy": 0.5, "curriculum_level": 0, "horizon": 10}
    return write_model(root, weights, task_id, d, length, seed, outcome=outcome, **kw)


def identity_of(model_dir: Path, experiment: str = "exp") -> dict:
    """The identity the layout gives ``root/variant/model-{seed}`` (tests know their layout)."""
    return {
        "experiment": experiment,
        "variant": model_dir.parent.name,
        "seed": int(model_dir.name.split("-")[1]),
    }


def job_of(model_dir: Path, experiment: str = "exp"):
    """``(checkpoint, results_dir, identity)`` of a model directory in the test layout."""
    return (
        model_dir / "checkpoint" / "model.pt",
        model_dir / "results",
        identity_of(model_dir, experiment),
    )


def evaluate(model_dir: Path, device: str = "cpu", **settings):
    """``(metrics, arrays)`` of one model (no files written)."""
    from vbpipe.evaluation.evaluate import evaluate_checkpoint
    from vbpipe.results.records import ModelIdentity

    identity = ModelIdentity.from_mapping(identity_of(model_dir))
    return evaluate_checkpoint(model_dir / "checkpoint" / "model.pt", identity, settings, device)


def length_entry(metrics: dict, seq_length: int) -> dict:
    """The ``lengths[]`` entry of one evaluated length."""
    return next(e for e in metrics["lengths"] if e["eval_length"] == seq_length)
