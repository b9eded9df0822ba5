"""The input-phase job: how a subset of an experiment's models handle the input phase, beside EMT's
naive, gated and leaky circuits for the same tasks (the science: :mod:`vbpipe.analysis.input_phase`; the
findings: ``docs/input_phase.md``).

Per model: the routing of inputs into the variable memories and its contamination, the effective
operator's composition and shift strengths over the input and output phases, the accuracy with tanh
replaced by the identity in one phase, and the per-step growth of perturbations in the output phase
(neutral linear memory ≈ 1; a contracting memory, linear or saturated, < 1). Per task, the same for the three circuits
(the leaky one at its default scale, :data:`vbpipe.circuits.DEFAULT_SCALE`), built with
the models' hidden size (or the smallest a circuit needs). Writes ``input_phase.json`` and the figures
named by :func:`vbpipe.results.layout.input_phase_outputs`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..analysis.input_phase import (
    analyse_input_phase,
    growth_by_task_figure,
    input_phase_figure,
    linearisation_figure,
    perturbation_growth,
    phase_linearisation_accuracy,
)
from ..checkpoint import load_model
from ..circuits import build_circuit, min_hidden_dim
from ..fileio import save_figure, write_json
from ..results.errors import ResultsError
from ..taskspec import task_label

CIRCUIT_STYLES = {
    "naive circuit": {"color": "k", "ls": "--"},
    "gated circuit": {"color": "C3", "ls": ":"},
    "leaky circuit": {"color": "C2", "ls": "-."},
}


def _describe(weights, task_id, d: int, length: int, use_eos: bool, inputs) -> dict:
    analysis = analyse_input_phase(weights, task_id, d, length, 2 * length, use_eos)
    growth = perturbation_growth(
        weights, inputs[:, :16], start=2 * length, steps=20, use_eos=use_eos
    )
    return {
        "analysis": analysis,
        "summary": analysis.summary(),
        "linearisation": phase_linearisation_accuracy(
            weights, task_id, d, length, inputs, 200, use_eos
        ),
        "growth": growth,
        "n_neutral": int(np.sum(growth > 0.95)),
    }


def analyze_input_phase(
    checkpoints: Sequence[str | os.PathLike],
    names: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    tasks: Sequence[str] | None = None,
    seed: int = 0,
) -> list[Path]:
    """Analyse ``checkpoints`` (models of fixed length) and, per task label in ``tasks`` (the order
    of the figures; default: the models' tasks in order of appearance), the naive, gated and
    leaky circuits. A model trained on a length range is refused before any analysis runs."""
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    models = [load_model(path) for path in checkpoints]
    for path, model in zip(checkpoints, models, strict=True):
        if model.hparams.get("activation", "tanh") != "tanh":
            raise ResultsError(
                f"{path}: a {model.hparams['activation']} RNN; the input-phase analysis runs tanh"
            )
        if not isinstance(model.hparams["seq_length"], int):
            raise ResultsError(
                f"{path}: trained on lengths {model.hparams['seq_length']}; the input-phase "
                "analysis needs a fixed sequence length"
            )
    if tasks is None:
        labels = (task_label(tuple(int(t) for t in m.hparams["task_id"]),
                             int(m.hparams["input_dim"])) for m in models)  # fmt: skip
        tasks = list(dict.fromkeys(labels))
    rows, per_task, linearisation, curves = [], {t: {} for t in tasks}, {}, {}
    circuits: dict[str, dict] = {}  # drawn after the models
    circuits_done = set()
    for model, name in zip(models, names, strict=True):
        hp = model.hparams
        d, length, use_eos = int(hp["input_dim"]), int(hp["seq_length"]), bool(hp["use_eos"])
        task_id = tuple(int(t) for t in hp["task_id"])
        label = task_label(task_id, d)
        inputs = rng.choice((-1.0, 1.0), size=(length, 256, d))
        found = _describe(model.weights, task_id, d, length, use_eos, inputs)
        per_task.setdefault(label, {})[f"{name}"] = found["analysis"]
        linearisation.setdefault(label, {}).setdefault("trained", []).append(found["linearisation"])
        curves.setdefault(label, {}).setdefault("trained", []).append(found["growth"])
        rows.append({"model": name, "task": label, "kind": "trained", **_json(found)})
        if label in circuits_done:
            continue
        circuits_done.add(label)
        for kind in ("naive", "gated", "leaky"):
            hidden = max(int(hp["hidden_dim"]), min_hidden_dim(kind, d, length))
            weights = build_circuit(kind, task_id, d, length, hidden, seed=1, use_eos=use_eos)
            found = _describe(weights, task_id, d, length, use_eos, inputs)
            circuits.setdefault(label, {})[f"{kind} circuit"] = found["analysis"]
            linearisation[label].setdefault(kind, []).append(found["linearisation"])
            curves[label][f"{kind} circuit"] = [found["growth"]]
            rows.append({"model": f"{kind} circuit", "task": label, "kind": kind, **_json(found)})
    written = [write_json(out / "input_phase.json", {"models": rows})]
    for label in tasks:
        analyses = {**(per_task.get(label) or {}), **circuits.get(label, {})}
        written.append(
            save_figure(
                input_phase_figure(
                    analyses,
                    f"{label}: memories and effective operator over the input phase (shaded)\n"
                    "and the first 2L output steps",
                    CIRCUIT_STYLES,
                ),
                out / f"input_phase_{label}.png",
            )
        )
    written.append(
        save_figure(
            linearisation_figure(
                {t: linearisation.get(t, {}) for t in tasks},
                "Accuracy with tanh replaced\nby the identity in one phase",
            ),
            out / "input_phase_linearisation.png",
        )
    )
    written.append(
        save_figure(
            growth_by_task_figure(
                {t: curves.get(t, {}) for t in tasks},
                CIRCUIT_STYLES,
                "Output phase: growth of perturbations per step (1 = neutral memory)",
                steps=20,
            ),
            out / "input_phase_growth.png",
        )
    )
    return written


def _json(found: dict) -> dict:
    return {
        **found["summary"],
        "linearisation": found["linearisation"],
        "n_neutral": found["n_neutral"],
        "top_growth": float(found["growth"][0]) if len(found["growth"]) else None,
    }
