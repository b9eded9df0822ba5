"""The single-model figures of docs/input_phase.md section 4 (the Jacobian paths of Φ and the routing
at the end of the input phase) for trained T2 models of the 10-seed run, beside the naive and gated
circuits. Which model: the lowest seed that solves T2 (test accuracy > 0.9 in the evaluation table),
a rule applied mechanically (seed 1 collapsed late in training, so the rule gives seed 2). The figures of all 10 models per task are the workflow's own
(``results/<experiment>/analysis/input_phase/``).

    python docs/scripts/figures_input_phase_trained.py docs results/input_phase_trained
"""

import sys
from pathlib import Path

import pandas as pd

import vbpipe
from vbpipe.analysis.input_phase import analyse_input_phase, entry_gating_figure, routing_figure
from vbpipe.circuits import gated_circuit, naive_circuit
from vbpipe.taskspec import PAPER_TASKS


docs, experiment = Path(sys.argv[1]), Path(sys.argv[2])
tid = PAPER_TASKS["T2"]
(variant,) = sorted(experiment.glob("T2-*"))
table = pd.read_csv(experiment / "evaluation_table.csv")
solved = table[(table["variant"] == variant.name) & (table["accuracy"] > 0.9)]
seed = int(solved["seed"].min())
model = vbpipe.load_model(variant / f"model-{seed}")
analyses = {f"trained T2, seed {seed}": analyse_input_phase(model.weights, tid, 8, 8, 16)}
analyses["naive circuit"] = analyse_input_phase(naive_circuit(tid, 8, 8, 128, seed=1), tid, 8, 8, 16)
analyses["gated circuit"] = analyse_input_phase(gated_circuit(tid, 8, 8, 128, seed=1), tid, 8, 8, 16)
pick = analyses
entry_gating_figure(
    pick,
    "T2: each path of Φ in the step Jacobian Ψ*diag(1-h²)W_hhΨ, relative to the same path in Ψ*W_hhΨ",
).savefig(docs / "input_phase_entries_T2.png", dpi=110)
routing_figure(
    pick,
    title="T2: where the inputs are at the end of the input phase (t = 7), in the "
    "kept memory coordinates",
).savefig(docs / "input_phase_routing_T2.png", dpi=110)
print("figures written")
