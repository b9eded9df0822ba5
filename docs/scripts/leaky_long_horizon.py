"""float64 at long horizons: the leaky circuit (s = 0.45) on T2 and T3, bound vs first wrong step.

python docs/scripts/leaky_long_horizon.py      # ~1 min
"""

import numpy as np

from vbpipe.analysis.leaky import predicted_loss_step, simulated_accuracy
from vbpipe.circuits import leaky_circuit
from vbpipe.taskspec import PAPER_TASKS, Task

for name in ("T2", "T3"):
    tid = PAPER_TASKS[name]
    bound = predicted_loss_step(tid, 8, 8, 1200, 0.45, 1e-3, 64, "float64")
    firsts = []
    for frame in (1, 2, 3):
        ps = simulated_accuracy(
            Task(tid, 8, 8),
            leaky_circuit(tid, 8, 8, 64, 0.45, seed=frame),
            frame,
            1200,
            1,
            64,
            "float64",
        )
        bad = np.flatnonzero(ps < 1)
        firsts.append(int(bad[0]) if bad.size else None)
    print(name, "float64 bound", bound, "first wrong (frames 1-3, 64 seqs)", firsts)
