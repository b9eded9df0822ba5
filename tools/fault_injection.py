"""Fault injection: kill the workflow at random points, recover with the README's command, compare.

An uninterrupted run of the tiny workflow gives the reference. Then, in fresh copies of the project,
the workflow is started and killed while a chosen kind of job runs (training, evaluation, aggregation,
analysis), by one of:

- ``sigkill``: SIGKILL to Snakemake and all its jobs (a dead node, ``kill -9``, a closed laptop);
- ``sigterm``: SIGTERM to Snakemake and all its jobs (Ctrl-C, a scheduler's polite stop);
- ``job-kill``: SIGKILL to the job's own process only (the out-of-memory killer);

and recovered by the README's recovery command, a plain rerun of the same ``snakemake --profile
profiles/local`` command, with no other step. Several faults are chained in one copy (kill, rerun,
kill the rerun, ...) before the last rerun completes. The finished results must equal the
reference's: every model's weights, hyper-parameters and training outcome, every metrics.json, every
array, the tidy table, Table 1 and the analyses' JSON files, timings excepted.

On a live Slurm (``--slurm``), it cancels (``scancel``) or requeues (``scontrol requeue``) running
jobs of a ``snakemake --profile profiles/slurm`` run instead, which must then finish by itself
(the profile's retries) or after a plain rerun.

    python tools/fault_injection.py                 # 30 faults on the local profile (~10 min)
    python tools/fault_injection.py --faults 6      # a shorter round
    python tools/fault_injection.py --slurm --faults 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import projectcopy  # noqa: E402

STAGES = {
    "training": r"rule train_",
    "evaluation": r"rule evaluate_",
    "aggregation": r"rule aggregate",
    "analysis": r"rule (analyze_|compare)",
}
KINDS = ("sigkill", "sigterm", "job-kill")
#: After SIGTERM, Snakemake gets this long to exit before SIGKILL, as Slurm's default KillWait gives a
#: job. Snakemake 9.27's SIGTERM handler takes the scheduler's lock (``JobScheduler.exit_gracefully``);
#: when the signal lands while the main thread holds that lock (selecting jobs), it waits forever.
GRACE_SECONDS = 30
#: How many SIGTERMs needed the SIGKILL that follows the grace period (reported at the end).
HUNG_AFTER_SIGTERM: list[str] = []
#: Fields that record when or how long, not what was computed (a checkpoint's SHA-256 changes
#: with its creation time, which it records; its weights are compared instead).
TIMING = {
    "train_wall_seconds",
    "seconds",
    "wall_seconds",
    "created_at",
    "timestamp",
    "evaluated_at",
    "provenance",  # where and when a result was made (host, commit, Slurm job), not what
}


def copy_project(dest: Path, config: Path) -> Path:
    """The workflow copied into ``dest`` with ``config`` as ``config/faults.yaml``."""
    return projectcopy.copy_project(dest, {"faults.yaml": config})


def command(slurm_profile: str | None) -> list[str]:
    profile = slurm_profile or "profiles/local"
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--profile",
        profile,
        "--configfile",
        "config/faults.yaml",
    ]


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in TIMING and "sha256" not in k}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def digest(project: Path) -> dict:
    """What the results say, without timings: comparable across runs."""
    from vbpipe.checkpoint import load_model

    out = {}
    results = project / "results"
    for path in sorted(results.rglob("model.pt")):
        model = load_model(path)
        out[str(path.relative_to(results))] = {
            "weights": {k: v.tobytes().hex() for k, v in sorted(model.weights.items())},
            "hparams": model.hparams,
            "outcome": _strip(model.outcome),
        }
    for path in sorted(results.rglob("*.json")):
        if "logs" in path.parts or path.name in ("model.json", "evaluation_summary.json"):
            continue
        out[str(path.relative_to(results))] = _strip(json.loads(path.read_text()))
    for path in sorted(results.rglob("*.npz")):
        with np.load(path) as data:
            out[str(path.relative_to(results))] = {
                k: data[k].tobytes().hex() for k in sorted(data.files)
            }
    for path in sorted(results.rglob("*.csv")):
        if "logs" in path.parts:  # e.g. the Slurm efficiency report: a record of the run itself
            continue
        lines = path.read_text().splitlines()
        header = lines[0].split(",") if lines else []
        drop = {i for i, name in enumerate(header) if name in TIMING or "sha256" in name}
        rows = [",".join(c for i, c in enumerate(_split(line)) if i not in drop) for line in lines]
        out[str(path.relative_to(results))] = rows
    return out


def _split(line: str) -> list[str]:
    return re.findall(r'(?:^|,)("(?:[^"]|"")*"|[^,]*)', line)


def differences(a: dict, b: dict) -> list[str]:
    keys = sorted(set(a) | set(b))
    return [k for k in keys if a.get(k) != b.get(k)]


def _descendants(pid: int) -> list[int]:
    children = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            children.append(int(proc.name))
    return children + [d for c in children for d in _descendants(c)]


def run_with_fault(project: Path, cmd: list[str], stage: str, kind: str, rng) -> bool:
    """Start the workflow, kill it when a job of ``stage`` starts; True if a fault was injected."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(project / "faults.log", "a")
    proc = subprocess.Popen(
        cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    pattern = re.compile(STAGES[stage])
    injected = False
    for line in proc.stdout:
        log.write(line)
        if not injected and pattern.search(line):
            time.sleep(rng.uniform(0.2, 2.0))
            if proc.poll() is not None:
                break
            if kind == "job-kill":
                jobs = [p for p in _descendants(proc.pid) if _is_job(p)]
                if not jobs:
                    continue
                os.kill(rng.choice(jobs), signal.SIGKILL)
            else:
                sig = signal.SIGKILL if kind == "sigkill" else signal.SIGTERM
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                if kind == "sigterm":
                    timer = threading.Timer(GRACE_SECONDS, _kill_if_alive, (proc, project, log))
                    timer.daemon = True
                    timer.start()
            injected = True
            log.write(f"=== fault injected: {kind} during {stage}\n")
    proc.wait()
    log.close()
    return injected


def _kill_if_alive(proc: subprocess.Popen, project: Path, log) -> None:
    """The end of a polite stop: SIGKILL to a workflow still running after the grace period."""
    if proc.poll() is None:
        HUNG_AFTER_SIGTERM.append(project.name)
        log.write(f"=== still running {GRACE_SECONDS} s after SIGTERM: SIGKILL\n")
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _is_job(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return ".snakemake/scripts/" in cmdline


def recover(project: Path, cmd: list[str], attempts: int = 3) -> bool:
    """The README's recovery: the same command again, until it finishes (a killed rerun counts)."""
    for _ in range(attempts):
        result = subprocess.run(cmd, cwd=project, capture_output=True, text=True)
        with open(project / "faults.log", "a") as log:
            log.write(result.stdout + result.stderr)
        if result.returncode == 0:
            return True
    return False


def slurm_fault(
    project: Path, cmd: list[str], action: str, rng, patience: float | None = None
) -> bool:
    """Cancel or requeue a running job of a Slurm run. A requeued job runs again and the run
    finishes by itself. A cancelled one is failed and retried by the profile, except that
    snakemake-executor-plugin-slurm (2.8) reads sacct's ``CANCELLED by <uid>`` as still running:
    as the README says, the user then stops Snakemake (Ctrl-C, here SIGINT after ``patience``
    seconds) and reruns the same command. Slurm holds a requeued job back for a while before it runs
    again, and the plugin's polling backs off meanwhile: a requeue gets more patience."""
    patience = patience or (600 if action == "requeue" else 120)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(project / "faults.log", "a")
    proc = subprocess.Popen(cmd, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
    injected, injected_at = False, None
    deadline = time.time() + 900
    while proc.poll() is None and time.time() < deadline:
        if injected and time.time() - injected_at > patience:
            log.write("=== no progress since the fault: Ctrl-C (SIGINT) to Snakemake\n")
            log.flush()
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
            break
        if not injected:
            running = subprocess.run(
                ["squeue", "-h", "-t", "RUNNING", "-o", "%i"], capture_output=True, text=True
            ).stdout.split()
            if running:
                time.sleep(rng.uniform(0.5, 2.0))
                job = rng.choice(running)
                args = ["scancel", job] if action == "scancel" else ["scontrol", "requeue", job]
                subprocess.run(args, capture_output=True)
                log.write(f"=== fault injected: {' '.join(args)}\n")
                log.flush()
                injected, injected_at = True, time.time()
        time.sleep(0.5)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    log.close()
    return injected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=30, help="faults to inject in all")
    parser.add_argument("--chain", type=int, default=3, help="faults per copy before recovering")
    parser.add_argument("--config", type=Path, default=ROOT / "tests" / "data" / "faults.yaml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slurm", metavar="PROFILE", help="a Slurm profile: scancel/requeue jobs")
    parser.add_argument("--keep", action="store_true", help="keep the working copies")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="vbpipe-faults-"))
    cmd = command(args.slurm)

    reference_dir = copy_project(work / "reference", args.config)
    started = time.perf_counter()
    if not recover(reference_dir, command(None), attempts=1):
        print(f"the uninterrupted reference run failed; see {reference_dir}/faults.log")
        return 1
    reference = digest(reference_dir)
    print(f"reference run: {time.perf_counter() - started:.0f} s, {len(reference)} result files")

    combos = [(stage, kind) for stage in STAGES for kind in KINDS]
    rng.shuffle(combos)
    order = list(STAGES)
    survived = injected = copies = attempts = missed = 0
    while injected < args.faults:
        copies += 1
        project = copy_project(work / f"copy-{copies}", args.config)
        faults_here = []
        n = min(args.chain, args.faults - injected)
        # A copy's faults in pipeline order: a fault in a later stage finishes the earlier ones, so
        # an earlier stage's fault after it would find nothing left to interrupt.
        chain = sorted(
            (combos[(attempts + i) % len(combos)] for i in range(n)),
            key=lambda combo: order.index(combo[0]),
        )
        attempts += n
        for stage, kind in chain:
            if args.slurm:
                action = rng.choice(["scancel", "requeue"])
                if slurm_fault(project, cmd, action, rng):
                    faults_here.append(action)
                continue
            if run_with_fault(project, cmd, stage, kind, rng):
                faults_here.append(f"{kind} during {stage}")
            else:
                missed += 1
        injected += len(faults_here)
        finished = recover(project, cmd)
        same = finished and not differences(reference, digest(project))
        survived += len(faults_here) if same else 0
        verdict = "identical to the reference" if same else "DIFFERENT or unfinished"
        print(f"copy {copies}: {', '.join(faults_here) or 'no fault landed'} -> {verdict}")
        if not same:
            diff = differences(reference, digest(project)) if finished else ["(did not finish)"]
            print(f"  differs in: {diff[:6]} (log: {project}/faults.log)")
            args.keep = True
        elif not args.keep:
            shutil.rmtree(project, ignore_errors=True)
    print(
        f"faults survived: {survived} of {injected} injected ({copies} copies; "
        f"{missed} planned faults found their stage already done)"
    )
    if HUNG_AFTER_SIGTERM:
        print(
            f"Snakemake was still running {GRACE_SECONDS} s after SIGTERM (then SIGKILL) "
            f"{len(HUNG_AFTER_SIGTERM)} time(s): {', '.join(HUNG_AFTER_SIGTERM)}"
        )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if survived == injected else 1


if __name__ == "__main__":
    sys.exit(main())
