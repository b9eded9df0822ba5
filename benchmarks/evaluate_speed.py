"""Benchmark: evaluation time per model, a block in one process vs the old one-by-one path.

Builds throw-away checkpoints (random weights of the right shapes: the cost does not depend on the
values) for each hidden size, L = d = 8, then times, per model, with the FULL protocol (10 x 64 test
sequences at horizon 200, spectra, PCA-subspace metrics, EMT basis, no figures):

- **block**: :func:`vbpipe.jobs.evaluate.evaluate_models` on all models of one hidden size in this
  process (files written: ``arrays.npz`` then ``metrics.json``), after one warm-up model;
- **old** (with ``--baseline REV``): the package as of git revision ``REV`` (exported with ``git
  archive`` into a temporary directory and run in a subprocess), its ``run_evaluate_model`` one
  model after another in one process; plus that package's import time, which the old workflow paid
  once per model (one job per model);
- **start-up**: the import time of the new evaluation job module, paid once per block;
- **aggregation** (with ``--aggregate N``): the evaluated models copied to ``N`` models (checkpoint,
  sidecar and results, each with its own identity), then
  :func:`vbpipe.jobs.aggregate.aggregate_experiment` (stale-record check, tidy table, arrays,
  summary + schema validation, Table 1) and the loaders of the table + arrays and of the summary.

On a shared machine wall times swing with the load: each figure is the best of ``--repeats``
rounds. One torch thread and one BLAS thread, as the evaluation jobs run.

    python benchmarks/evaluate_speed.py [--hidden 128 64 32] [--models 8] [--repeats 3]
        [--baseline ecb24f5] [--aggregate 1920]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import torch

from vbpipe.checkpoint import save_model
from vbpipe.jobs.evaluate import evaluate_models
from vbpipe.results.layout import checkpoint_in, results_in
from vbpipe.training.kernel import init_weights

ROOT = Path(__file__).resolve().parents[1]
OUTCOME = {
    "steps": 0,
    "curriculum_level": 0,
    "horizon": 10,
    "train_accuracy": 0.5,
    "train_loss": 1.0,
    "converged": False,
    "diverged": False,
    "diverged_at_step": None,
    "early_stopped": False,
    "curriculum_history": [],
    "wall_seconds": 0.0,
}

OLD_SCRIPT = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from vbpipe.jobs.evaluate import run_evaluate_model
dirs = json.loads(sys.argv[1])
run_evaluate_model(dirs[0], dirs[0] + "/old-results")  # warm-up
best = None
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    for d in dirs:
        run_evaluate_model(d, d + "/old-results")
    per_model = (time.perf_counter() - start) / len(dirs)
    best = per_model if best is None else min(best, per_model)
print(json.dumps({"per_model": best}))
"""


def make_models(root: Path, hidden: int, n: int, d: int = 8, length: int = 8) -> list[Path]:
    dirs = []
    for seed in range(1, n + 1):
        hparams = {
            "task_id": ["255", "0", "0"],
            "input_dim": d,
            "seq_length": length,
            "use_eos": False,
            "hidden_dim": hidden,
            "bias": False,
            "seed": seed,
        }
        model_dir = root / f"h{hidden}" / "variant" / f"model-{seed}"
        weights = init_weights(seed, d, hidden, d)
        save_model(checkpoint_in(model_dir), weights, hparams, OUTCOME)
        dirs.append(model_dir)
    return dirs


def time_block(dirs: list[Path], repeats: int) -> float:
    jobs = [
        (checkpoint_in(m), results_in(m), {"experiment": "bench", "variant": "v", "seed": s})
        for s, m in enumerate(dirs, 1)
    ]
    evaluate_models(jobs[:1], log=None)  # warm-up: lazy initialisation, caches of the theory
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        evaluate_models(jobs, log=None)
        best = min(best, (time.perf_counter() - start) / len(jobs))
    return best


def import_seconds(module: str, env: dict | None = None, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def export_revision(revision: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / "src.tar"
    with open(archive, "wb") as handle:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision, "src/vbpipe"], stdout=handle, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def time_old(src: Path, dirs: list[Path], repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    env["OPENBLAS_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", OLD_SCRIPT, json.dumps([str(d) for d in dirs]), str(repeats)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["import"] = import_seconds("vbpipe.jobs.evaluate", env)
    return result


def time_aggregation(model_dirs: list[Path], n: int, tmp: Path) -> dict:
    """Copy the evaluated models to ``n`` models and time the aggregation and the loaders."""
    import shutil

    from vbpipe.fileio import read_json, write_json
    from vbpipe.jobs.aggregate import aggregate_experiment
    from vbpipe.results.experiment import load_experiment
    from vbpipe.results.summary import experiment_from_summary

    results_dirs = []
    for i in range(n):
        source = model_dirs[i % len(model_dirs)]
        variant = f"v{i % 96}"
        target = tmp / "experiment" / variant / f"model-{i + 1}"
        shutil.copytree(source / "checkpoint", target / "checkpoint")
        shutil.copytree(source / "results", target / "results")
        metrics = read_json(target / "results" / "metrics.json")
        metrics["identity"] = {
            "experiment": "bench",
            "variant": variant,
            "seed": i + 1,
            "model_name": f"model-{i + 1}",
        }
        write_json(target / "results" / "metrics.json", metrics)
        results_dirs.append(target / "results")
    out = tmp / "experiment"
    files = {
        "summary": out / "evaluation_summary.json",
        "table": out / "evaluation_table.csv",
        "arrays": out / "evaluation_arrays.npz",
        "table1_csv": out / "tables" / "table1.csv",
        "table1_tex": out / "tables" / "table1.tex",
    }
    timing = {}
    start = time.perf_counter()
    aggregate_experiment(results_dirs, **files)
    timing["aggregate"] = time.perf_counter() - start
    start = time.perf_counter()
    load_experiment(files["table"], files["arrays"])
    timing["load table + arrays"] = time.perf_counter() - start
    start = time.perf_counter()
    experiment_from_summary(files["summary"])
    timing["load summary"] = time.perf_counter() - start
    timing["summary MB"] = files["summary"].stat().st_size / 1e6
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 64, 32])
    parser.add_argument("--models", type=int, default=8, help="models per hidden size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default=None, help="git revision of the old evaluation")
    parser.add_argument(
        "--aggregate", type=int, default=0, metavar="N", help="also time aggregating N models"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    startup = import_seconds("vbpipe.jobs.evaluate")
    rows, evaluated, aggregation = [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        old_src = export_revision(args.baseline, tmp / "old") if args.baseline else None
        for hidden in args.hidden:
            dirs = make_models(tmp / "models", hidden, args.models)
            row = {"hidden": hidden, "block": time_block(dirs, args.repeats)}
            evaluated += dirs
            if old_src is not None:
                row["old"] = time_old(old_src, dirs, args.repeats)
            rows.append(row)
            print(json.dumps(row), flush=True)
        if args.aggregate:
            aggregation = time_aggregation(evaluated, args.aggregate, tmp)
    print(
        f"\nper model, {args.models} models per hidden size, L = d = 8, 10 x 64 @ horizon 200, "
        f"1 torch thread; new job module import {startup:.2f} s (once per block)"
    )
    header = (
        "| hidden | block (new) | old, in one process | old import (per model job) | speed-up |"
    )
    print(header + "\n|---:|---:|---:|---:|---:|")
    for row in rows:
        old = row.get("old")
        if old:
            ratio = old["per_model"] / row["block"]
            print(
                f"| {row['hidden']} | {row['block']:.3f} s | {old['per_model']:.3f} s | "
                f"{old['import']:.2f} s | {ratio:.1f}x |"
            )
        else:
            print(f"| {row['hidden']} | {row['block']:.3f} s | - | - | - |")
    mean = sum(r["block"] for r in rows) / len(rows)
    print(f"\nmean over the hidden sizes, block: {mean:.3f} s per model")
    if all("old" in r for r in rows):
        old_mean = sum(r["old"]["per_model"] for r in rows) / len(rows)
        print(f"mean over the hidden sizes, old: {old_mean:.3f} s per model (+ import per job)")
    if aggregation:
        print(f"\naggregation of {args.aggregate} models (one length each):")
        for key, value in aggregation.items():
            print(f"  {key}: {value:.2f}" + ("" if key.endswith("MB") else " s"))


if __name__ == "__main__":
    main()
