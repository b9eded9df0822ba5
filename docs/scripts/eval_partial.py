"""Accuracy per length of a resume/partial state (weights inside a train_block resume file)."""

import sys

import numpy as np
import torch

from vbpipe.analysis.input_phase import run_rnn
from vbpipe.analysis.linear_limits import target_coefficients

rng = np.random.default_rng(7)
for path in sys.argv[1:]:
    st = torch.load(path, weights_only=True)
    w = {k: v.double().numpy() for k, v in st["weights"].items()}
    d = w["W_r"].shape[0]
    eos = w["W_ih"].shape[1] == d + 1
    res = {}
    for L in range(3, 8):
        u = rng.choice((-1.0, 1.0), size=(L, 640, d))
        x = np.zeros((L + 200, 640, d + eos))
        x[:L, :, :d] = u
        if eos:
            x[L, :, d] = -1.0
        h, _, _ = run_rnn(w, x)
        y = np.einsum("kjsi,sbi->kbj", target_coefficients((255, 0, 0), d, L, 200), u)
        res[L] = round(float(np.mean(np.where(h[L:] @ w["W_r"].T >= 0, 1.0, -1.0) == y)), 3)
    print(
        path.split("science_runs/")[-1],
        "step",
        st["step"],
        "level",
        st["level"],
        res,
        "mean",
        round(np.mean(list(res.values())), 3),
        flush=True,
    )
