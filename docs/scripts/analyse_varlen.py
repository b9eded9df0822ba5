"""Variable-length experiments: per-length accuracy (from the snapshot's metrics.json), per-step beat
periods, spectrum by root-of-unity order, perturbation growth and phase linearisation per length."""

import glob
import json
import os
import sys

import numpy as np

from vbpipe.analysis.input_phase import perturbation_growth, phase_linearisation_accuracy
from vbpipe.analysis.variable_length import dominant_period, root_of_unity_orders
from vbpipe.checkpoint import load_model
from vbpipe.evaluation.spectra import eigenvalues

RUNS = "/work/science-runs"


def analyse(model_dir, rng):
    m = load_model(f"{model_dir}/checkpoint/model.pt")
    hp, w = m.hparams, m.weights
    d, eos = hp["input_dim"], bool(hp.get("use_eos", False))
    sl = hp["seq_length"]
    lo, hi = (sl, sl) if isinstance(sl, int) else tuple(sl)
    metrics = json.load(open(f"{model_dir}/results/metrics.json"))
    eig = eigenvalues(w["W_hh"])
    row = {
        "experiment": model_dir.split("/")[-2],
        "model": os.path.basename(model_dir),
        "hidden": hp["hidden_dim"],
        "use_eos": eos,
        "lengths": [lo, hi],
        "epochs": hp["epochs"],
        "steps": m.outcome["steps"],
        "status": m.outcome.get("status", "finished"),
        "final_horizon": m.outcome.get("horizon"),
        "train_accuracy": m.outcome.get("train_accuracy"),
        "accuracy": metrics["accuracy"],
        "spectral_radius": float(np.abs(eig[0])),
        "orders": root_of_unity_orders(eig, max_order=max(8, hi)),
        "per_length": {},
    }
    for length in range(lo, hi + 1):
        per_step = np.array(metrics[f"accuracy_per_step_seq{length}"])
        u = rng.choice((-1.0, 1.0), size=(length, 256, d))
        growth = perturbation_growth(w, u[:, :8], start=40, steps=40, use_eos=eos)
        row["per_length"][length] = {
            "accuracy": metrics[f"accuracy_seq{length}"],
            "period": dominant_period(per_step)[0],
            "linearisation": phase_linearisation_accuracy(
                w, hp["task_id"], d, length, u, 200, use_eos=eos
            ),
            "n_neutral": int(np.sum(growth > 0.95)),
            "top_growth": float(growth[0]),
        }
    return row


def main(out, experiments):
    rng = np.random.default_rng(5)
    rows = []
    for exp in experiments:
        for model_dir in sorted(glob.glob(f"{RUNS}/{exp}/model-*")):
            if not os.path.exists(f"{model_dir}/results/metrics.json"):
                continue
            row = analyse(model_dir, rng)
            rows.append(row)
            per = {
                k: (round(v["accuracy"], 3), v["period"], v["n_neutral"])
                for k, v in row["per_length"].items()
            }
            print(exp, row["model"], "rho", round(row["spectral_radius"], 2), per, flush=True)
    json.dump(rows, open(out, "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
