"""Markdown tables for docs/input_phase.md from analysis/paper_summary.json (analyse_paper.py)."""

import json
import sys

rows = json.load(open(sys.argv[1]))
KINDS = ("trained", "trained:collapsed", "naive", "gated")
TASKS = ("T1", "T2", "T3", "T4")


def rng(values, fmt="{:.2f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    a, b = fmt.format(min(values)), fmt.format(max(values))
    return a if a == b else f"{a}-{b}"


def group(task, kind):
    base, _, flag = kind.partition(":")
    out = [r for r in rows if r["task"] == task and r["kind"] == base]
    if base == "trained":
        bad = [r for r in out if r.get("accuracy") is not None and r["accuracy"] < 0.99]
        out = bad if flag == "collapsed" else [r for r in out if r not in bad]
    return out


def table(header, cells_of):
    print("| " + " | ".join(["task", "model", *header]) + " |")
    print("|" + "---|" * (len(header) + 2))
    for task in TASKS:
        for kind in KINDS:
            g = group(task, kind)
            if g:
                label = {"trained:collapsed": "trained, collapsed"}.get(kind, kind)
                print("| " + " | ".join([task, label, *cells_of(g, kind)]) + " |")
    print()


def spectra(g, kind):
    acc = rng([r.get("accuracy") for r in g], "{:.4f}")
    if not kind.startswith("trained"):
        acc = rng([r["linearisation"]["none"] for r in g], "{:.3f}") + " (sim.)"
    return [
        str(len(g)),
        acc,
        rng([r.get("spectral_error_seq8") for r in g], "{:.4f}"),
        rng([r.get("n_unit_circle_whh") for r in g], "{:d}"),
        rng([r["spectral_radius"] for r in g]),
        rng([r["phi_rel_error"] for r in g]),
        rng([r["n_neutral"] for r in g], "{:d}"),
        rng([r["top_growth"] for r in g]),
    ]


def linearisation(g, kind):
    return [
        rng([r["linearisation"][k] for r in g])
        for k in ("none", "input_phase", "output_phase", "all")
    ]


def input_phase(g, kind):
    ip = [r["input_phase"] for r in g]

    def f(key):
        return rng([x[key] for x in ip])

    return [
        f("contamination_end_of_input"),
        f("contamination_output_phase"),
        f"{f('composition_input_phase')} / {f('composition_output_phase')}",
        f"{f('shift_input_phase')} / {f('shift_output_phase')}",
        f"{f('mean_gain_input_phase')} / {f('mean_gain_output_phase')}",
        f("input_outside_basis_share"),
    ]


table(
    ["n", "test acc.", "spectral err. (rad)", "#|λ|>0.9", "ρ(W_hh)", "‖Ψ*W_hhΨ−Φ‖/‖Φ‖",
     "neutral dirs", "top growth"],
    spectra,
)  # fmt: skip
table(["as is", "linear input phase", "linear output phase", "linear throughout"], linearisation)
table(
    ["contamination t=L−1", "contamination output", "composition passed in / out",
     "shift passed in / out", "mean gain in / out", "W_ih outside span(Ψ)"],
    input_phase,
)  # fmt: skip
