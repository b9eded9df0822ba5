"""Accuracy of the leaky circuit against its scale, T1-T4: exact arithmetic, float64, float32.

Writes docs/input_phase_leaky_scale.png and a JSON of every number (argv[1], default
analysis/leaky_scale.json). Circuits: d = L = 8, hidden 64 (L·d), eps = 1e-3, frames (circuit
seeds) 1-10, all of them; each frame is scored on its own seeded test set of 4 x 64 sequences
(vbpipe's evaluation test stream) at horizon 200. float32 is vbpipe's evaluation forward pass
(evaluate_accuracy), float64 the same computation in double precision.

    python docs/scripts/leaky_scale.py analysis/leaky_scale.json     # ~8 min on one shared core
    python docs/scripts/leaky_scale.py analysis/leaky_scale.json --draw   # redraw from the JSON
    python docs/scripts/leaky_scale.py analysis/leaky_curvature.json --curvature   # ~1 min
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from vbpipe.analysis.leaky import (
    exact_accuracy,
    predicted_loss_step,
    relative_margins,
    simulated_accuracy,
    window_limited,
)
from vbpipe.circuits import leaky_circuit
from vbpipe.intervals import t_interval
from vbpipe.taskspec import PAPER_TASKS, Task

D = L = 8
HIDDEN, EPS, HORIZON = 64, 1e-3, 200
FRAMES = range(1, 11)
SCALES = np.round(np.concatenate([np.arange(0.05, 1.0001, 0.05), [0.45, 0.525]]), 4)
SCALES = np.unique(SCALES)
FIG = Path(__file__).resolve().parents[1] / "input_phase_leaky_scale.png"


def largest_exact_scale(task_id, lo=0.05, hi=1.0, steps=40):
    """Bisection for the largest s with every worst-case margin positive at HORIZON."""
    if relative_margins(task_id, D, L, HORIZON, hi).min() > 0:
        return hi
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if relative_margins(task_id, D, L, HORIZON, mid).min() > 0 else (lo, mid)
    return lo


def main(out_json):
    start = time.time()
    result = {"scales": SCALES.tolist(), "tasks": {}}
    for name, tid in PAPER_TASKS.items():
        task = Task(tid, D, L)
        rows = []
        for s in SCALES:
            row = {"scale": float(s), "exact": float(exact_accuracy(tid, D, L, HORIZON, s).mean())}
            row["min_relative_margin"] = float(relative_margins(tid, D, L, HORIZON, s).min())
            for dtype in ("float32", "float64"):
                accs, first_bad = [], []
                for frame in FRAMES:
                    weights = leaky_circuit(tid, D, L, HIDDEN, scale=s, eps=EPS, seed=frame)
                    per_step = simulated_accuracy(task, weights, frame, HORIZON, 4, 64, dtype)
                    accs.append(float(per_step.mean()))
                    bad = np.flatnonzero(per_step < 1)
                    first_bad.append(int(bad[0]) if bad.size else None)
                mean, low, high = t_interval(accs)
                row[dtype] = {"per_frame": accs, "mean": mean, "t95": [low, high],
                              "first_wrong_step": first_bad}  # fmt: skip
            rows.append(row)
            print(name, s, row["exact"], row["float64"]["mean"], row["float32"]["mean"],
                  row["float32"]["first_wrong_step"][:3],
                  f"{time.time() - start:.0f}s", flush=True)  # fmt: skip
        result["tasks"][name] = {"rows": rows, "largest_exact_scale": largest_exact_scale(tid)}
    Path(out_json).parent.mkdir(parents=True, exist_ok=True)
    Path(out_json).write_text(json.dumps(result, indent=1))
    draw(result)


def draw(result):
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    for i, (name, block) in enumerate(result["tasks"].items()):
        rows = block["rows"]
        s = np.array([r["scale"] for r in rows])
        colour = f"C{i}"
        left.plot(s, [r["exact"] for r in rows], "-", color=colour, lw=2.2, alpha=0.35)
        for dtype, style in (("float64", "o--"), ("float32", "s:")):
            mean = np.array([r[dtype]["mean"] for r in rows])
            lo = np.array([r[dtype]["t95"][0] for r in rows])
            hi = np.array([r[dtype]["t95"][1] for r in rows])
            left.errorbar(s, mean, yerr=[mean - lo, hi - mean], fmt=style, color=colour, ms=3.5,
                          lw=1, capsize=2, label=f"{name} {dtype}")  # fmt: skip
        tid = PAPER_TASKS[name]
        bound = [predicted_loss_step(tid, D, L, HORIZON, v, EPS, HIDDEN) for v in s]
        block["float32_safe_until"] = dict(zip(s.tolist(), bound, strict=True))
        right.plot(s, [HORIZON if b is None else b for b in bound], "-", color=colour,
                   label=f"{name}: bound")  # fmt: skip
        first = [min([f for f in r["float32"]["first_wrong_step"] if f is not None],
                     default=HORIZON) for r in rows]  # fmt: skip
        right.plot(s, first, "x", color=colour, ms=7, label=f"{name}: measured (10 frames)")
        limited = [bool(window_limited(tid, D, L, HORIZON, v, HIDDEN)) for v in s]
        block["float32_window_limited"] = dict(zip(s.tolist(), limited, strict=True))
        marked = [v for v, w in zip(s, limited, strict=True) if w]
        right.plot(marked, [dict(zip(s, bound, strict=True))[v] for v in marked], "o",
                   mfc="none", color=colour, ms=9,
                   label="window-limited (bound heuristic)" if i == 0 else None)  # fmt: skip
        left.axvline(block["largest_exact_scale"], color=colour, lw=0.7, ls="-.")
    left.set_xlabel("scale s of Φ  (W_hh = s Ψ Φ Ψᵀ; s = 1: naive circuit)")
    left.set_ylabel("bit accuracy, horizon 200 (mean of 10 frames, t 95%)")
    left.set_title("accuracy against scale\nthick faint line: exact arithmetic; dash-dot: largest "
                   "s with every sign right", fontsize=10)  # fmt: skip
    left.set_ylim(0.45, 1.02)
    left.grid(alpha=0.3)
    left.legend(fontsize=7, ncol=2, loc="lower left")
    right.set_xlabel("scale s of Φ")
    right.set_ylabel("first output step with a wrong bit in float32")
    right.set_title("float32: where the sign is lost. line: bound (ε s^τ* ρ above the\n"
                    "subnormal rounding floor); x: first wrong step, 10 frames (200: none)",
                    fontsize=10)  # fmt: skip
    right.set_ylim(0, HORIZON + 5)
    right.grid(alpha=0.3)
    right.legend(fontsize=7, ncol=2, loc="lower right")
    fig.savefig(FIG, dpi=110)
    return result
    print("wrote", FIG)


def curvature(out_json):
    """float64 at small scales with eps = 1e-3 and 1e-5: is the loss tanh's curvature (~eps²)?"""
    out = {}
    for name, tid in PAPER_TASKS.items():
        for s in (0.05, 0.1):
            for eps in (1e-3, 1e-5):
                accs = [
                    float(simulated_accuracy(Task(tid, D, L),
                                             leaky_circuit(tid, D, L, HIDDEN, s, eps, frame),
                                             frame, HORIZON, 4, 64, "float64").mean())
                    for frame in FRAMES
                ]  # fmt: skip
                out[f"{name} s={s} eps={eps}"] = {"mean": float(np.mean(accs)), "min": min(accs)}
                print(name, s, eps, out[f"{name} s={s} eps={eps}"], flush=True)
    Path(out_json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "analysis/leaky_scale.json"
    if len(sys.argv) > 2 and sys.argv[2] == "--curvature":
        curvature(target)
    elif len(sys.argv) > 2 and sys.argv[2] == "--draw":
        redrawn = draw(json.loads(Path(target).read_text()))
        Path(target).write_text(json.dumps(redrawn, indent=1))
    else:
        main(target)
