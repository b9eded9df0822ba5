"""Independent re-evaluation of variable-length models: own inputs, own recursion, numpy forward."""

import json
import sys

import numpy as np

from vbpipe.analysis.input_phase import run_rnn
from vbpipe.analysis.linear_limits import target_coefficients
from vbpipe.analysis.variable_length import dominant_period
from vbpipe.checkpoint import load_model

rng = np.random.default_rng(2024)
out = {}
for path in sys.argv[1:]:
    m = load_model(path + "/checkpoint/model.pt")
    hp = m.hparams
    d, eos = hp["input_dim"], bool(hp.get("use_eos", False))
    lo, hi = (
        (hp["seq_length"], hp["seq_length"])
        if isinstance(hp["seq_length"], int)
        else hp["seq_length"]
    )
    tid = tuple(int(t) for t in hp["task_id"])
    metrics = json.load(open(path + "/results/metrics.json"))
    res = {}
    for L in range(lo, hi + 1):
        u = rng.choice((-1.0, 1.0), size=(L, 2000, d))
        x = np.zeros((L + 200, 2000, d + eos))
        x[:L, :, :d] = u
        if eos:
            x[L, :, d] = -1.0
        h, _, _ = run_rnn(m.weights, x)
        y_hat = h[L:] @ m.weights["W_r"].T
        y = np.einsum("kjsi,sbi->kbj", target_coefficients(tid, d, L, 200), u)
        per_step = np.mean(np.where(y_hat >= 0, 1.0, -1.0) == y, axis=(1, 2))
        res[L] = {
            "mine": round(float(per_step.mean()), 4),
            "vbpipe": round(metrics[f"accuracy_seq{L}"], 4),
            "period": dominant_period(per_step)[0],
            "vbpipe_period": dominant_period(np.array(metrics[f"accuracy_per_step_seq{L}"]))[0],
        }
    out[path] = res
    print(path, res, flush=True)
