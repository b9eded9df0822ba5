"""Linear ceilings: the MSE-optimal LTI filter's bit accuracy, and the naive circuit's linearisation."""

import json
import sys

import numpy as np

from vbpipe.analysis.linear_limits import (
    expected_bit_accuracy,
    filter_coefficients,
    linear_model_coefficients,
    lti_witness,
    optimal_lti_filter,
    target_coefficients,
)
from vbpipe.circuits import naive_circuit
from vbpipe.taskspec import PAPER_TASKS

out = {"fixed": {}, "variable": {}}
for name, tid in PAPER_TASKS.items():
    T = target_coefficients(tid, 8, 8, 200)
    K = optimal_lti_filter(tid, 8, 8, 200)
    out["fixed"][name] = {
        "witness": lti_witness(tid, 8, 8, 200),
        "optimal_lti_h200": float(expected_bit_accuracy(filter_coefficients(K, 8, 200), T).mean()),
        "naive_linearised_h200": float(
            expected_bit_accuracy(
                linear_model_coefficients(naive_circuit(tid, 8, 8, 64), 8, 8, 200), T
            ).mean()
        ),
    }
    print(name, out["fixed"][name], flush=True)
for lengths in ((3, 4, 5), (3, 4, 5, 6, 7)):
    for horizon in (100, 200):
        K = optimal_lti_filter("repeat_copy", 1, lengths, horizon)
        per = {
            L: expected_bit_accuracy(
                filter_coefficients(K, L, horizon),
                target_coefficients("repeat_copy", 1, L, horizon),
            )[:, 0]
            for L in lengths
        }
        key = f"{lengths[0]}-{lengths[-1]}_h{horizon}"
        out["variable"][key] = {
            "per_length": {L: float(v.mean()) for L, v in per.items()},
            "mean": float(np.mean([v.mean() for v in per.values()])),
            "per_step": {L: v.tolist() for L, v in per.items()},
            "witness": lti_witness("repeat_copy", 1, lengths, horizon),
        }
        print(key, out["variable"][key]["per_length"], out["variable"][key]["mean"], flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
