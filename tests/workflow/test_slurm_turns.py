"""The Slurm tests take turns on the one cluster, also under the README's `-n 2`.

A CI run failed when the cancelled-job test and the profile test ran at once on two workers: the
profile test saw the other's jobs in sacct (two run ids). The lock in tests/conftest.py serialises them;
this runs two Slurm-marked stand-ins on two workers and checks that their runs do not overlap.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

STAND_IN = """
import os, time
import pytest

pytestmark = pytest.mark.slurm


def _hold(name):
    with open("spans.txt", "a") as spans:
        spans.write(f"{name} {os.environ.get('PYTEST_XDIST_WORKER')} {time.time()} start\\n")
    time.sleep(1.5)
    with open("spans.txt", "a") as spans:
        spans.write(f"{name} {os.environ.get('PYTEST_XDIST_WORKER')} {time.time()} end\\n")


def test_first():
    _hold("first")


def test_second():
    _hold("second")
"""


def test_two_slurm_tests_on_two_workers_never_overlap(tmp_path):
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_stand_in.py").write_text(STAND_IN)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slurm: stand-in\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "VBPIPE_SLURM_TEST_LOCK": str(tmp_path / "turns.lock"),
        },  # not the real one
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    spans = {}
    for line in (tmp_path / "spans.txt").read_text().splitlines():
        name, worker, at, edge = line.split()
        spans.setdefault(name, {})[edge] = float(at)
        spans[name]["worker"] = worker
    first, second = sorted(spans.values(), key=lambda span: span["start"])
    assert first["end"] <= second["start"], spans
