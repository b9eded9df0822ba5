"""Markdown table of the controlled variable-length runs from analysis/varlen_summary.json."""

import json
import sys

rows = json.load(open(sys.argv[1]))
CONDITIONS = [
    ("varlen_rep", "reported: hidden 48, 8 epochs", ""),
    ("vl_h48_eos_e8", "+ EOS", "`--use_eos`"),
    ("vl_h128_noeos_e8", "hidden 128", "`--hidden_dim 128`"),
    ("vl_h128_eos_e8", "hidden 128 + EOS", "`--hidden_dim 128 --use_eos`"),
    ("vl_h48_noeos_e24", "24 epochs", "`--epochs 24`"),
    ("vl_h48_eos_e24", "24 epochs + EOS", "`--epochs 24 --use_eos`"),
    ("vl_h48_noeos_w100_e8", "curriculum window 100", "`--curriculum_window 100`"),
    ("vl_h48_eos_w100_e8", "curriculum window 100 + EOS", "`--curriculum_window 100 --use_eos`"),
    ("vl_h48_noeos_w100_e32", "window 100, 32 epochs", "`--curriculum_window 100 --epochs 32`"),
    (
        "vl_h48_eos_w100_e32",
        "window 100, 32 epochs + EOS",
        "`--curriculum_window 100 --epochs 32 --use_eos`",
    ),
    (
        "vl_h48_noeos_w100_e29_s0",
        "window 100, stopped at 29 epochs (seed 0 only)",
        "`--curriculum_window 100 --epochs 29 --seeds 0`",
    ),
    (
        "vl_h48_noeos_w100_lr1e-3_e24",
        "window 100, lr 0.001, 24 epochs",
        "`--curriculum_window 100 --learning_rate 0.001 --epochs 24`",
    ),
    ("vl_fixed3_h48_e8", "fixed L = 3", "`--seq_length 3`"),
    ("vl_fixed4_h48_e8", "fixed L = 4", "`--seq_length 4`"),
    ("vl_fixed5_h48_e8", "fixed L = 5", "`--seq_length 5`"),
]


def fmt(values):
    return " / ".join(f"{v:.3f}" for v in values)


HEADER = [
    "condition", "flags", "L = 3", "L = 4", "L = 5", "mean", "final train horizon, train acc.",
    "ρ(W_hh)", "neutral dirs per L",
]  # fmt: skip
print("| " + " | ".join(HEADER) + " |")
print("|---|---|---|---|---|---|---|---|---|")
for exp, label, flags in CONDITIONS:
    g = [r for r in rows if r["experiment"] == exp]
    if not g:
        continue
    cells = []
    for length in ("3", "4", "5"):
        vals = [r["per_length"][length]["accuracy"] for r in g if length in r["per_length"]]
        cells.append(fmt(vals) if vals else "")
    mean = fmt([r["accuracy"] for r in g])
    train = " / ".join(f"{r['final_horizon']}, {r['train_accuracy']:.2f}" for r in g)
    rho = " / ".join(f"{r['spectral_radius']:.2f}" for r in g)
    neutral = " / ".join(",".join(str(v["n_neutral"]) for v in r["per_length"].values()) for r in g)
    print(
        f"| {label} | {flags} | " + " | ".join(cells) + f" | {mean} | {train} | {rho} | {neutral} |"
    )
print()
print(
    "Each cell lists the seeds (0 / 1000). Test accuracy at horizon 200 (10 × 64 sequences per L)."
)
