"""A copy of the project's workflow (Snakefile, rules, configs, profiles, envs) in another folder, where
a test, a benchmark or the fault injection can run Snakemake without touching this checkout's results.

Shared by ``tests/``, ``benchmarks/`` and ``tools/`` (each puts ``tools/`` on ``sys.path``)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_PARTS = ("Snakefile", "workflow", "config", "profiles", "envs")


def copy_project(
    dest: Path, configs: Mapping[str, Path] | None = None, with_source: bool = False
) -> Path:
    """Copy the workflow into ``dest``; ``configs`` adds files under ``dest/config/`` (name -> source),
    ``with_source`` the package source too (for jobs that must import this checkout's code)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        else:
            shutil.copy(source, dest / name)
    for name, source in (configs or {}).items():
        shutil.copy(source, dest / "config" / name)
    if with_source:
        shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return dest
