"""The input-phase measurements on the three circuits (naive, gated, leaky at s = 0.45), T1-T4.

Writes docs/input_phase_circuits_T2.png (the six-panel input-phase figure of the workflow's job,
for the three circuits of T2) and prints a markdown table of each circuit's summary numbers
(argv[1]: also a JSON of them). d = L = 8, hidden 128, circuit seed (frame) 1, as the workflow's
input-phase job builds them.

    python docs/scripts/circuits_input_phase.py analysis/circuits_input_phase.json   # ~1 min
"""

import json
import sys
from pathlib import Path

import numpy as np

from vbpipe.analysis.input_phase import analyse_input_phase, input_phase_figure, perturbation_growth
from vbpipe.circuits import build_circuit
from vbpipe.fileio import save_figure
from vbpipe.jobs.input_phase import CIRCUIT_STYLES
from vbpipe.taskspec import PAPER_TASKS

KEYS = (
    "contamination_at_first_input",
    "contamination_end_of_input",
    "contamination_written_end_of_input",
    "mixing_end_of_input",
    "contamination_output_phase",
    "mean_gain_output_phase",
    "saturated_fraction_input_phase",
    "saturated_fraction_output_phase",
    "phi_error",
    "phi_error_diagonal_fit",
)
out, analyses = {}, {}
rng = np.random.default_rng(0)
for name, tid in PAPER_TASKS.items():
    inputs = rng.choice((-1.0, 1.0), size=(8, 16, 8))
    for kind in ("naive", "gated", "leaky"):
        w = build_circuit(kind, tid, 8, 8, 128, seed=1)
        a = analyse_input_phase(w, tid, 8, 8)
        growth = perturbation_growth(w, inputs, start=16, steps=20)
        summary = a.summary()
        out[f"{name} {kind}"] = {k: summary[k] for k in KEYS} | {
            "top_growth": float(growth[0]),
            "n_neutral": int(np.sum(growth > 0.95)),
        }
        if name == "T2":
            analyses[f"{kind} circuit"] = a
print("| circuit | " + " | ".join(KEYS) + " | top growth | neutral |")
print("|---" * (len(KEYS) + 3) + "|")
for key, row in out.items():
    cells = [f"{row[k]:.3g}" for k in KEYS] + [f"{row['top_growth']:.3f}", str(row["n_neutral"])]
    print(f"| {key} | " + " | ".join(cells) + " |")
save_figure(
    input_phase_figure(
        analyses, "T2: the three circuits (d = L = 8, hidden 128, frame 1)", CIRCUIT_STYLES
    ),  # fmt: skip
    Path(__file__).resolve().parents[1] / "input_phase_circuits_T2.png",
)
if len(sys.argv) > 1:
    Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
