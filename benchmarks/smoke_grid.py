"""The paper grid's shape at a smoke budget, end to end on this machine, and the workflow's own costs.

What it runs, in a private copy of the project (so ``results/`` here is untouched):

1. ``snakemake --profile profiles/local`` on the paper grid's shape (T1-T4 x hidden 128/64/32 x four
   L2 x two thresholds x 20 seeds = 1,920 models) with ~20 training steps per model, the FULL
   evaluation protocol (10 x 64 test sequences at horizon 200, spectra, EMT basis), the aggregates,
   Table 1, the paper's figures and the analyses. Prints the wall time, the seconds per model, the
   number of jobs and of job processes started (jobs that run a script; ``run:`` jobs run inside
   Snakemake itself).
2. A dry run of ``config/config.yaml`` with the Slurm profile: how many jobs would be submitted to
   Slurm (local rules excluded), and how long planning took.
3. A no-op rerun of the smoke grid (everything up to date): how long "Nothing to be done" takes.

    python benchmarks/smoke_grid.py                 # ~10-15 min on 2 cores
    python benchmarks/smoke_grid.py --seeds 2       # a smaller grid (192 models), ~2 min

Goals (issue 9): the whole smoke grid in under 15 minutes on 2 cores; the dry run of
``config/config.yaml`` and the no-op rerun each under 20 s; at most ~250 Slurm submissions.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from projectcopy import copy_project  # noqa: E402

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def smoke_config(seeds: int, steps: int, accelerator: str, models_per_job: int) -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    paper = config["experiments"]["paper"]
    paper["training"].update({"epochs": 1, "steps_per_epoch": steps, "validation_batches": 1})
    paper["seeds"] = {"first": 1, "count": seeds}
    config["run"] = ["paper"]
    config["comparisons"] = {"paper_hidden": config["comparisons"]["paper_hidden"]}
    config["execution"] = {
        "accelerator": accelerator,
        "models_per_job": models_per_job,
        "threads": 1,
    }
    return config


def timed(command, cwd, env) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, result


def job_counts(text: str) -> dict[str, int]:
    """Jobs per rule from Snakemake's 'Job stats' table."""
    counts = {}
    block = text.split("Job stats:")[1] if "Job stats:" in text else ""
    for line in block.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        if match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=int, default=20, help="seeds per variant (20: 1,920 models)"
    )
    parser.add_argument("--steps", type=int, default=20, help="training steps per model")
    parser.add_argument("--accelerator", choices=("cpu", "gpu", "auto"), default="cpu")
    parser.add_argument(
        "--models-per-job", type=int, default=64, help="models per training job (pack size)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the project copy")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vbpipe-smoke-"))
    project = copy_project(work / "project")
    (project / "config" / "smoke.yaml").write_text(
        yaml.safe_dump(smoke_config(args.seeds, args.steps, args.accelerator, args.models_per_job))
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    n_models = 96 * args.seeds
    print(
        f"project copy: {project}; {n_models} models, {args.steps} steps each, cores: {os.cpu_count()}"
    )

    run = [*SNAKEMAKE, "--profile", "profiles/local", "--configfile", "config/smoke.yaml"]
    seconds, result = timed(run, project, env)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        print(log[-6000:])
        return 1
    counts = job_counts(log)
    local = counts.get("default", 0)  # the only local rule: it runs nothing
    processes = sum(counts.values()) - local
    print(
        f"smoke grid: {seconds:.0f} s wall ({seconds / 60:.1f} min), {seconds / n_models:.3f} s per "
        f"model; {sum(counts.values())} jobs, {processes} job processes started"
    )
    print("  jobs per kind:", _kinds(counts))

    noop, result = timed([*run, "--dry-run"], project, env)
    ok = "Nothing to be done" in result.stdout + result.stderr
    print(f"no-op rerun (dry run of the finished grid): {noop:.1f} s, nothing to do: {ok}")

    slurm = [
        *SNAKEMAKE,
        "--dry-run",
        "--profile",
        "profiles/slurm",
        "--configfile",
        "config/config.yaml",
    ]
    dry, result = timed(slurm, copy_project(work / "project-empty"), env)
    counts = job_counts(result.stdout + result.stderr)
    submitted = sum(v for k, v in counts.items() if k != "default")
    print(
        f"config/config.yaml with the Slurm profile: dry run {dry:.1f} s, {sum(counts.values())} "
        f"jobs, {submitted} Slurm submissions"
    )
    print("  jobs per kind:", _kinds(counts))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


KINDS = (
    "train",
    "evaluate",
    "figures",
    "analyze_eigenvalue",
    "analyze_embedding",
    "analyze_persistence",
    "analyze_distances",
    "analyze_diagnostics",
    "analyze_fixed_points",
)


def _kinds(counts: dict[str, int]) -> dict[str, int]:
    """Jobs per kind: rules named per pack, variant or experiment pooled by their prefix."""
    kinds: dict[str, int] = {}
    for rule, n in counts.items():
        kind = next((k for k in KINDS if rule.startswith(k + "_")), rule)
        kinds[kind] = kinds.get(kind, 0) + n
    return kinds


if __name__ == "__main__":
    sys.exit(main())
