"""What the Snakemake workflow catalog reads: ``.snakemake-workflow-catalog.yml`` (its keys as the
catalog's generator reads them), ``config/README.md`` and the ``.test`` config, whose dry run from
the repository root (``snakemake --directory .test``) plans every stage."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vbpipe.config.experiments import load_workflow_config

ROOT = Path(__file__).resolve().parents[2]
TEST_CONFIG = ROOT / ".test" / "config" / "config.yaml"


def test_the_catalog_settings_have_the_keys_the_catalog_reads():
    settings = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())
    usage = settings["usage"]
    assert set(usage) <= {"mandatory-flags", "software-stack-deployment", "report"}
    assert isinstance(usage["mandatory-flags"]["desc"], str)
    assert isinstance(usage["mandatory-flags"]["flags"], str)
    assert usage["software-stack-deployment"] == {"conda": True}
    assert (ROOT / "envs" / "vbpipe.yaml").is_file()
    assert usage["report"] is True
    assert (ROOT / "workflow" / "Snakefile").is_file()  # where the catalog looks for it
    assert (ROOT / "config" / "README.md").read_text().strip()


def test_the_test_config_parses():
    config = load_workflow_config([TEST_CONFIG], {})
    assert list(config.experiments) == ["catalog_test"]


@pytest.mark.slow
def test_the_test_config_dry_run_plans_every_stage(tmp_path):
    for name in ("Snakefile", "workflow", "config", "profiles", "envs", ".test"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    shutil.rmtree(tmp_path / ".test" / "results", ignore_errors=True)
    command = [sys.executable, "-m", "snakemake", "--cores", "2", "--directory", ".test", "-n"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-3000:]
    for rule in ("train_", "evaluate_catalog_test_", "aggregate", "analyze_embedding"):
        assert f"\n{rule}" in text, rule
    assert "results/catalog_test/evaluation_summary.json" in text
