"""Input-phase analysis of the paper-size models (d = L = 8, hidden 128) and of the circuits.

Writes analysis/paper_summary.json: per model, the snapshot evaluation's metrics (when present),
the input-phase summary, the phase-linearisation accuracies, the spectral radius and Φ error."""

import glob
import json
import os
import sys

import numpy as np
import torch

from vbpipe.analysis.input_phase import (
    analyse_input_phase,
    perturbation_growth,
    phase_linearisation_accuracy,
)
from vbpipe.checkpoint import load_model
from vbpipe.circuits import gated_circuit, naive_circuit
from vbpipe.evaluation.emt import variable_memory_basis
from vbpipe.taskspec import PAPER_TASKS, Task

ROOT = "/work/science-runs/gpu/science_runs"
PARTIAL = "/work/science-runs/paper_partial"  # model.pt written from resume states (scripts/partial_models.py)


def resolve(model_dir):
    """The directory holding the model's checkpoint/model.pt and results/: finished, else partial."""
    if os.path.exists(f"{model_dir}/checkpoint/model.pt"):
        return model_dir
    partial = (
        f"{PARTIAL}/{os.path.basename(os.path.dirname(model_dir))}/{os.path.basename(model_dir)}"
    )
    return partial if os.path.exists(f"{partial}/checkpoint/model.pt") else model_dir


def weights_of(model_dir):
    model_dir = resolve(model_dir)
    pt = f"{model_dir}/checkpoint/model.pt"
    if os.path.exists(pt):
        m = load_model(pt)
        return m.weights, int(m.outcome["steps"]), m.outcome.get("status", "finished")
    st = torch.load(f"{model_dir}/checkpoint/resume.pt", weights_only=True)
    return {k: v.double().numpy() for k, v in st["weights"].items()}, int(st["step"]), "resume.pt"


def describe(w, tid, rng):
    phi = Task(tid, 8, 8).phi(8)
    basis = variable_memory_basis(w["W_hh"], w["W_r"], phi, 8)
    k = basis.kept
    emp = (basis.psi_dual @ w["W_hh"] @ basis.psi)[np.ix_(k, k)]
    a = analyse_input_phase(w, tid, 8, 8, output_steps=16)
    u = rng.choice((-1.0, 1.0), size=(8, 256, 8))
    lin = phase_linearisation_accuracy(w, tid, 8, 8, u, 200)
    growth = perturbation_growth(w, u[:, :16], start=40, steps=40, n_values=80)
    return {
        "growth": growth.tolist(),
        "n_neutral": int(np.sum(growth > 0.95)),
        "top_growth": float(growth[0]),
        "spectral_radius": float(np.max(np.abs(np.linalg.eigvals(w["W_hh"])))),
        "phi_rel_error": float(
            np.linalg.norm(emp - phi[np.ix_(k, k)]) / np.linalg.norm(phi[np.ix_(k, k)])
        ),
        "input_phase": a.summary(),
        "contamination_per_step": a.routing.contamination.tolist(),
        "composition_per_step": a.composition.tolist(),
        "linearisation": lin,
    }


def main(out):
    rng = np.random.default_rng(11)
    rows = []
    for name, tid in PAPER_TASKS.items():
        for model_dir in sorted(glob.glob(f"{ROOT}/paper_{name}/model-*")):
            w, steps, source = weights_of(model_dir)
            row = {
                "task": name,
                "model": os.path.basename(model_dir),
                "kind": "trained",
                "steps": steps,
                "source": source,
            }
            metrics = f"{resolve(model_dir)}/results/metrics.json"
            if os.path.exists(metrics):
                m = json.load(open(metrics))
                row.update(
                    {
                        k: m.get(k)
                        for k in (
                            "accuracy",
                            "n_unit_circle_whh",
                            "spectral_error_seq8",
                            "emt_phi_error_seq8",
                            "accuracy_beyond_train_horizon",
                        )
                    }
                )
            row.update(describe(w, tid, rng))
            rows.append(row)
            print(
                name,
                row["model"],
                steps,
                source,
                row.get("accuracy"),
                row["linearisation"],
                {k: round(v, 3) for k, v in row["input_phase"].items()},
                flush=True,
            )
        for kind, build in (("naive", naive_circuit), ("gated", gated_circuit)):
            row = {"task": name, "model": "circuit", "kind": kind}
            row.update(describe(build(tid, 8, 8, 128, seed=1), tid, rng))
            rows.append(row)
            print(
                name,
                kind,
                row["linearisation"],
                {k: round(v, 3) for k, v in row["input_phase"].items()},
                flush=True,
            )
    json.dump(rows, open(out, "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
