"""Fault injection (tools/fault_injection.py): the workflow killed while it trains, evaluates and
aggregates, then recovered by the README's command, ends with results identical to an uninterrupted
run's; on a live Slurm, a cancelled training job likewise."""

import importlib.util
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_slurm import slurm_is_up

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "data" / "faults.yaml"
pytestmark = pytest.mark.slow


def load_tool():
    spec = importlib.util.spec_from_file_location(
        "fault_injection", ROOT / "tools" / "fault_injection.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    return load_tool()


@pytest.fixture(scope="module")
def reference(tool, tmp_path_factory):
    project = tool.copy_project(tmp_path_factory.mktemp("reference") / "p", CONFIG)
    assert tool.recover(project, tool.command(None), attempts=1), (
        project / "faults.log"
    ).read_text()[-3000:]
    return tool.digest(project)


def test_killed_while_training_evaluating_and_aggregating_then_rerun(tool, reference, tmp_path):
    project = tool.copy_project(tmp_path / "p", CONFIG)
    cmd, rng = tool.command(None), random.Random(0)
    injected = [
        tool.run_with_fault(project, cmd, stage, kind, rng)
        for stage, kind in (("training", "sigkill"), ("evaluation", "sigterm"),
                            ("aggregation", "job-kill"))
    ]  # fmt: skip
    assert sum(injected) >= 2, (project / "faults.log").read_text()[-3000:]
    assert tool.recover(project, cmd), (project / "faults.log").read_text()[-3000:]
    assert tool.differences(reference, tool.digest(project)) == []
    assert not list((project / "results").rglob("resume.pt"))
    assert not list((project / "results").rglob(".*.tmp"))


@pytest.mark.slurm
def test_a_cancelled_slurm_job_then_rerun(tool, reference, tmp_path):
    reason = slurm_is_up()
    if reason:
        pytest.skip(reason)
    profile = subprocess.run(
        ["bash", str(ROOT / "tools" / "slurm_site_override.sh"), "debug", "vbpipe",
         str(ROOT / "profiles" / "slurm"), str(tmp_path / "profile")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    with open(Path(profile) / "config.v8+.yaml", "a") as handle:  # a private cluster: poll fast
        handle.write(
            "seconds-between-status-checks: 2\nslurm-init-seconds-before-status-checks: 2\n"
        )
    project = tool.copy_project(tmp_path / "p", CONFIG)
    cmd = tool.command(profile)
    assert tool.slurm_fault(project, cmd, "scancel", random.Random(0), patience=20)
    assert tool.recover(project, cmd), (project / "faults.log").read_text()[-3000:]
    assert tool.differences(reference, tool.digest(project)) == []
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def test_a_workflow_hung_after_sigterm_is_killed_after_the_grace_period(
    tool, tmp_path, monkeypatch
):
    """Snakemake 9.27 can deadlock in its SIGTERM handler; the tool then ends the polite stop with
    SIGKILL, as a scheduler would, instead of waiting forever. A stand-in that ignores SIGTERM."""
    monkeypatch.setattr(tool, "GRACE_SECONDS", 1)
    monkeypatch.setattr(tool, "HUNG_AFTER_SIGTERM", [])
    stubborn = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('rule train_x', flush=True); time.sleep(120)")  # fmt: skip
    cmd = [sys.executable, "-c", stubborn]
    assert tool.run_with_fault(tmp_path, cmd, "training", "sigterm", random.Random(0))
    assert tool.HUNG_AFTER_SIGTERM == [tmp_path.name]
    assert "SIGKILL" in (tmp_path / "faults.log").read_text()
