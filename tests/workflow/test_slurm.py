"""The Slurm profile for real: the tiny workflow through sbatch on a live single-node cluster.

Needs a running Slurm (``bash tools/slurm_ci.sh install && bash tools/slurm_ci.sh start``, as .ci/run
does). Without one the test is skipped with the reason; it never passes silently.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.workflow import copy_project, scheduled

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.slurm]


def slurm_is_up() -> str | None:
    """None when a controller answers, else why not."""
    if shutil.which("sinfo") is None or shutil.which("sacct") is None:
        return "Slurm client not installed (run: bash tools/slurm_ci.sh install && bash tools/slurm_ci.sh start)"
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    if "UP" not in ping.stdout:
        return f"no Slurm controller answers (scontrol ping: {ping.stdout.strip() or ping.stderr.strip()})"
    return None


def test_tiny_workflow_runs_through_slurm_and_reruns_nothing(tmp_path):
    reason = slurm_is_up()
    if reason:
        pytest.skip(reason)
    project = copy_project(tmp_path / "project", with_source=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(project / "src")}
    profile = subprocess.run(
        [
            "bash",
            str(ROOT / "tools" / "slurm_site_override.sh"),
            "debug",
            "vbpipe",
            str(ROOT / "profiles" / "slurm"),
            str(tmp_path / "profile"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Only tiny_b (CPU rules and one training pack with the GPU request the config gives), to keep
    # the Slurm round trips few.
    (project / "config" / "slurm.yaml").write_text(
        "run: [tiny_b]\ncomparisons: {}\nexecution: {train_resources: {gpu: 1}}\n"
    )
    command = [
        "timeout",
        "-k",
        "10",
        "900",
        sys.executable,
        "-m",
        "snakemake",
        "--profile",
        profile,
        "--configfile",
        "config/tiny.yaml",
        "config/slurm.yaml",
        "--jobs",
        "8",
        # the profile keeps the plugin's production polling; this private cluster is polled fast
        "--seconds-between-status-checks",
        "2",
        "--slurm-init-seconds-before-status-checks",
        "2",
    ]
    started = time.time()
    run = subprocess.run(
        command,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=960,
        env=env,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-6000:]
    log = run.stdout + run.stderr
    assert "sbatch" in log or "SLURM" in log.upper()
    assert (project / "results" / "tiny_b" / "evaluation_summary.json").exists()

    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started - 5))
    accounting = subprocess.run(
        [
            "sacct",
            "-X",
            "--parsable2",
            "--noheader",
            "--starttime",
            since,
            "--format=JobID,JobName,State,AllocTRES,Submit",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    submitted_since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started))
    rows = [line.split("|") for line in accounting.splitlines() if line]
    rows = [r for r in rows if r[4] >= submitted_since]  # this run's jobs, not a previous test's
    jobs = [r for r in rows if not r[0].endswith((".batch", ".extern")) and "." not in r[0]]
    gpu_jobs = [r for r in jobs if "gres/gpu=1" in r[3]]
    assert len(gpu_jobs) == 1, accounting  # the training pack (both seeds) got the GPU request
    assert len(jobs) >= 6, (
        accounting
    )  # ... and the evaluations, aggregate, figures, analyses ran as jobs
    assert all(r[2] == "COMPLETED" for r in jobs), accounting
    assert len({r[1] for r in jobs}) == 1, accounting  # all submitted by this one Snakemake run

    # the profile's efficiency report and the kept logs of successful jobs (issue 16)
    assert list((project / "results" / "logs" / "slurm").glob("efficiency_report_*.csv"))
    kept = [p for p in (project / ".snakemake" / "slurm_logs").rglob("*") if p.is_file()]
    assert len(kept) >= len(jobs), kept

    again = subprocess.run(
        [*command, "-n"], cwd=project, capture_output=True, text=True, timeout=300, env=env
    )
    assert again.returncode == 0
    assert scheduled(again) == {}, again.stdout[-2000:]
