"""Figures of docs/variable_length.md (small analogue d = 4, L 3..5; real size d = 8, L 3..7)."""

import json
import sys

import numpy as np

from vbpipe.analysis.variable_length import (
    conditions_figure,
    per_step_figure,
    roots_of_unity_figure,
)
from vbpipe.checkpoint import load_model
from vbpipe.evaluation.spectra import eigenvalues

docs, summary_path, ceilings_path, real_path = sys.argv[1:5]
rows = json.load(open(summary_path))
lti = json.load(open(ceilings_path))["variable"]
RUNS = "/work/science-runs"

LABELS = {
    "varlen_rep": "h48 (reported)",
    "vl_h48_eos_e8": "h48 + EOS",
    "vl_h128_noeos_e8": "h128",
    "vl_h128_eos_e8": "h128 + EOS",
    "vl_h48_noeos_e24": "h48, 24 epochs",
    "vl_h48_eos_e24": "h48 + EOS, 24 epochs",
    "vl_h48_noeos_w100_e8": "window 100",
    "vl_h48_noeos_w100_e32": "window 100, 32 epochs",
    "vl_h48_eos_w100_e32": "window 100 + EOS, 32 ep.",
    "vl_h48_noeos_w100_e29_s0": "window 100, 29 ep. (seed 0)",
    "vl_h48_noeos_w100_lr1e-3_e24": "window 100, lr 1e-3, 24 ep.",
}
acc = {}
for exp, label in LABELS.items():
    per = {}
    for r in rows:
        if r["experiment"] == exp:
            for length, v in r["per_length"].items():
                per.setdefault(int(length), []).append(v["accuracy"])
    if per:
        acc[label] = per
fixed = {}
for r in rows:
    if r["experiment"].startswith("vl_fixed"):
        for length, v in r["per_length"].items():
            fixed.setdefault(int(length), []).append(v["accuracy"])
acc["fixed L (one model per L)"] = fixed
ref = {int(k): v for k, v in lti["3-5_h200"]["per_length"].items()}
conditions_figure(
    acc,
    ref,
    "Repeat copy, d = 4, L drawn from 3..5 per batch (8 epochs unless noted): "
    "test accuracy per L; ticks: best linear filter",
).savefig(f"{docs}/varlen_conditions.png", dpi=110)

metrics = json.load(open(f"{RUNS}/varlen_rep/model-0/results/metrics.json"))
per_step = {L: np.array(metrics[f"accuracy_per_step_seq{L}"]) for L in (3, 4, 5)}
reference = {int(k): np.array(v) for k, v in lti["3-5_h200"]["per_step"].items()}
per_step_figure(
    per_step,
    reference,
    "The reported model (h48, seed 0): accuracy per output step at each L",
).savefig(f"{docs}/varlen_per_step.png", dpi=110)

spectra = {}
for exp, model, label in [
    ("varlen_rep", "model-0", "L 3..5, h48, seed 0"),
    ("vl_h128_eos_e8", "model-0", "L 3..5, h128 + EOS, seed 0"),
    ("vl_fixed4_h48_e8", "model-0", "fixed L = 4, h48"),
    ("vl_fixed3_h48_e8", "model-0", "fixed L = 3, h48"),
    ("vl_h48_noeos_w100_e29_s0", "model-0", "L 3..5, window 100, 29 ep."),
]:
    try:
        spectra[label] = eigenvalues(
            load_model(f"{RUNS}/{exp}/{model}/checkpoint/model.pt").weights["W_hh"]
        )
    except Exception as error:  # a run that has not finished yet
        print("skipped", exp, error)
roots_of_unity_figure(
    spectra, [3, 4, 5], "Eigenvalues of W_hh with the 3rd, 4th and 5th roots of unity"
).savefig(f"{docs}/varlen_spectra.png", dpi=110)

real_raw = json.load(open(real_path))
order = [
    "h96 noeos, ~9.5 ep",
    "h96 noeos, 20 ep",
    "h96 eos, ~9.5 ep",
    "h96 eos, 20 ep",
    "h192 eos, ~9.5 ep",
    "h96 eos lr5e-4, 20 ep",
    "h96 noeos w100, 20 ep",
]
real = {k: {int(length): v for length, v in real_raw[k].items()} for k in order if k in real_raw}
ref37 = {int(k): v for k, v in lti["3-7_h200"]["per_length"].items()}
conditions_figure(
    real,
    ref37,
    "varlen_3_7 at its configured size (d = 8, L drawn from 3..7, hidden 96): "
    "test accuracy per L; ticks: best linear filter",
).savefig(f"{docs}/varlen_3_7.png", dpi=110)
print("figures written")
