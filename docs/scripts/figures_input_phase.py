"""Figures of docs/input_phase.md from the trained paper-size models and the circuits."""

import json
import os
import sys

from vbpipe.analysis.input_phase import (
    analyse_input_phase,
    entry_gating_figure,
    growth_figure,
    input_phase_figure,
    linearisation_figure,
    routing_figure,
)
from vbpipe.circuits import gated_circuit, naive_circuit
from vbpipe.taskspec import PAPER_TASKS

sys.path.insert(0, os.path.dirname(__file__))
from analyse_paper import ROOT, weights_of  # noqa: E402

docs, summary = sys.argv[1], json.load(open(sys.argv[2]))
seeds = sys.argv[3].split(",") if len(sys.argv) > 3 else ["2", "3"]
tid = PAPER_TASKS["T2"]
analyses = {}
for s in seeds:
    w, steps, _ = weights_of(f"{ROOT}/paper_T2/model-{s}")
    analyses[f"trained T2, seed {s}"] = analyse_input_phase(w, tid, 8, 8, output_steps=16)
analyses["naive circuit"] = analyse_input_phase(
    naive_circuit(tid, 8, 8, 128, seed=1), tid, 8, 8, 16
)
analyses["gated circuit"] = analyse_input_phase(
    gated_circuit(tid, 8, 8, 128, seed=1), tid, 8, 8, 16
)
styles = {"naive circuit": {"color": "k", "ls": "--"}, "gated circuit": {"color": "C3", "ls": ":"}}
input_phase_figure(
    analyses,
    "T2 (d = L = 8, hidden 128): memories and effective operator over "
    "the input phase (shaded) and the first 16 output steps",
    styles,
).savefig(f"{docs}/input_phase_T2.png", dpi=110)
first = list(analyses)[0]
pick = {k: analyses[k] for k in (first, "naive circuit", "gated circuit")}
entry_gating_figure(
    pick,
    "T2: each path of Φ in the step Jacobian Ψ*diag(1-h²)W_hhΨ, relative to the same path in Ψ*W_hhΨ",
).savefig(f"{docs}/input_phase_entries_T2.png", dpi=110)
routing_figure(
    pick,
    title="T2: where the inputs are at the end of the input phase (t = 7), in the "
    "kept memory coordinates",
).savefig(f"{docs}/input_phase_routing_T2.png", dpi=110)
groups = {}
for name in PAPER_TASKS:
    rows = [r for r in summary if r["task"] == name]
    groups[name] = {
        kind: [r["linearisation"] for r in rows if r["kind"] == kind]
        for kind in ("trained", "naive", "gated")
    }
linearisation_figure(
    groups,
    "Accuracy when tanh is replaced by the identity in one phase "
    "(trained: 6 seeds each; circuits: one each)",
).savefig(f"{docs}/input_phase_linearisation.png", dpi=110)
curves = {}
for name in PAPER_TASKS:
    row = next(r for r in summary if r["task"] == name and r["kind"] == "trained")
    curves[f"trained {name} ({row['model']})"] = row["growth"]
for kind in ("naive", "gated"):
    row = next(r for r in summary if r["task"] == "T2" and r["kind"] == kind)
    curves[f"{kind} circuit T2"] = row["growth"]
growth_figure(
    curves,
    "Output phase: growth of perturbations per step (40 steps from output step 40; 16 sequences)",
    steps=40,
).savefig(f"{docs}/input_phase_growth.png", dpi=110)
print("figures written")
