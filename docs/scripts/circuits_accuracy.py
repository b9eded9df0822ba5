"""Accuracy of the three circuits, T1-T4, frames (circuit seeds) 1-10, hidden 128, horizon 200.

vbpipe's evaluation (float32 forward pass, each frame on its own seeded test set of 10 x 64
sequences), and the same sequences in float64. Prints a markdown table (mean and Student-t 95 %
interval over the 10 frames; min-max in brackets) and writes argv[1] as JSON.

    python docs/scripts/circuits_accuracy.py docs/input_phase_circuits_accuracy.json   # ~3 min
"""

import json
import sys
from pathlib import Path

from vbpipe.analysis.leaky import simulated_accuracy
from vbpipe.circuits import build_circuit
from vbpipe.intervals import t_interval
from vbpipe.taskspec import PAPER_TASKS, Task

out = {}
print("| circuit | precision | T1 | T2 | T3 | T4 |")
print("|---|---|---|---|---|---|")
for kind in ("naive", "gated", "leaky"):
    for dtype in ("float32", "float64"):
        cells = []
        for name, tid in PAPER_TASKS.items():
            accs = [
                float(simulated_accuracy(Task(tid, 8, 8), build_circuit(kind, tid, 8, 8, 128, seed=f),
                                         f, 200, 10, 64, dtype).mean())
                for f in range(1, 11)
            ]  # fmt: skip
            mean, low, high = t_interval(accs)
            out[f"{kind} {dtype} {name}"] = {"per_frame": accs, "mean": mean, "t95": [low, high]}
            cells.append(f"{mean:.4f} [{low:.4f}, {high:.4f}] ({min(accs):.4f}-{max(accs):.4f})")
        print(f"| {kind} | {dtype} | " + " | ".join(cells) + " |", flush=True)
Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
