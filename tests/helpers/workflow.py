"""Running the workflow in a copy of the project: the copy, Snakemake with the tiny config, and what a
dry run would schedule."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
sys.path.insert(0, str(ROOT / "tools"))
import projectcopy  # noqa: E402


def copy_project(dest: Path, with_source: bool = False) -> Path:
    """The workflow copied into ``dest`` with the tests' tiny config as ``config/tiny.yaml``."""
    configs = {"tiny.yaml": ROOT / "tests" / "data" / "tiny.yaml"}
    return projectcopy.copy_project(dest, configs, with_source)


def snakemake(workdir: Path, *args: str, env=None, timeout=900) -> subprocess.CompletedProcess:
    command = [*SNAKEMAKE, "--cores", "2", "--configfile", "config/tiny.yaml", *args]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout
    )


def scheduled(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Jobs per kind of rule (train_*, evaluate_*, ... pooled) from a dry run's 'Job stats'."""
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-3000:]
    counts: dict[str, int] = {}
    if "Nothing to be done" in text:
        return counts
    block = text.split("Job stats:")[1].split("Reasons:")[0] if "Job stats:" in text else ""
    for line in block.splitlines():
        match = re.match(r"^(\w[\w.\-]*)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            rule = match.group(1)
            kind = next(
                (k for k in ("train", "evaluate", "figures", "analyze_embedding",
                             "analyze_eigenvalue", "analyze_persistence") if rule.startswith(k + "_")),
                rule,
            )  # fmt: skip
            counts[kind] = counts.get(kind, 0) + int(match.group(2))
    return counts


def trained_models(result: subprocess.CompletedProcess) -> set[str]:
    """The model.pt files a dry run would (re)train."""
    outputs = re.findall(r"rule train_\S+:\n\s+output: ([^\n]+)", result.stdout)
    return {p.strip() for line in outputs for p in line.split(",") if p.strip().endswith(".pt")}
