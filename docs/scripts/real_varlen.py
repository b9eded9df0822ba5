"""varlen_3_7 at its configured size (d = 8, L 3..7): accuracy per L of the device runs, at the state
saved mid-training (partial.pt, about epoch 9.5 of 20) and, where finished, of model.pt (20 epochs).

Own evaluation (640 seeded sequences per L, horizon 200, numpy forward, targets by the recursion);
writes {condition: {L: [accuracy per seed]}} as JSON."""

import glob
import json
import os
import sys

import numpy as np
import torch

from vbpipe.analysis.input_phase import run_rnn
from vbpipe.analysis.linear_limits import target_coefficients
from vbpipe.checkpoint import load_model

ROOT = "/work/science-runs/gpu/science_runs"


def per_length(w, rng):
    d = w["W_r"].shape[0]
    eos = w["W_ih"].shape[1] == d + 1
    out = {}
    for length in range(3, 8):
        u = rng.choice((-1.0, 1.0), size=(length, 640, d))
        x = np.zeros((length + 200, 640, d + eos))
        x[:length, :, :d] = u
        if eos:
            x[length, :, d] = -1.0
        h, _, _ = run_rnn(w, x)
        y = np.einsum("kjsi,sbi->kbj", target_coefficients((255, 0, 0), d, length, 200), u)
        out[length] = float(np.mean(np.where(h[length:] @ w["W_r"].T >= 0, 1.0, -1.0) == y))
    return out


def main(out_path):
    rng = np.random.default_rng(7)
    table = {}
    dirs = glob.glob(f"{ROOT}/varlen37_*/model-*") + glob.glob(
        "/work/science-runs/varlen37_*/model-*"
    )
    for model_dir in sorted(dirs):
        name = os.path.basename(os.path.dirname(model_dir)).removeprefix("varlen37_")
        cond = name.rsplit("_s", 1)[0].replace("_", " ")
        states = []
        partial = f"{model_dir}/checkpoint/partial.pt"
        if os.path.exists(partial):
            st = torch.load(partial, weights_only=True)
            w = {k: v.double().numpy() for k, v in st["weights"].items()}
            states.append((f"{cond}, ~9.5 ep", w, st["step"]))
        final = f"{model_dir}/checkpoint/model.pt"
        if os.path.exists(final):
            m = load_model(final)
            states.append((f"{cond}, 20 ep", m.weights, m.outcome["steps"]))
        for label, w, steps in states:
            acc = per_length(w, rng)
            for length, a in acc.items():
                table.setdefault(label, {}).setdefault(length, []).append(a)
            print(
                label,
                os.path.basename(model_dir),
                steps,
                {k: round(v, 3) for k, v in acc.items()},
                "mean",
                round(float(np.mean(list(acc.values()))), 3),
                flush=True,
            )
    json.dump(table, open(out_path, "w"), indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
