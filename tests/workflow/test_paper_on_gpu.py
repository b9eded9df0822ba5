"""The GPU machine's one command, rehearsed on the CPU (``benchmarks/paper_on_gpu.sh --device cpu --smoke``): the
deadline cuts training and leaves resume states, the resumed models are bit-identical to uninterrupted ones,
Table 1 is set beside the paper, and the output folder keeps the lent machine's limits."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers.training import assert_same_model, train

from vbpipe.config.experiments import load_workflow_config
from vbpipe.results import layout
from vbpipe.training import MemberSpec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from paper_on_gpu import LIMITS, check_limits  # noqa: E402


def test_the_limits_check_knows_the_lent_machines_limits(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "ok.txt").write_bytes(b"1")  # two folders down: comes back
    (tmp_path / "full.bin").write_bytes(b"0" * LIMITS["file_bytes"])  # exactly 16 MiB: fine
    assert check_limits(tmp_path) == []
    (tmp_path / "a" / "b" / "c").mkdir()
    (tmp_path / "a" / "b" / "c" / "deep.txt").write_bytes(b"1")
    (tmp_path / "odd name.txt").write_bytes(b"1")
    (tmp_path / "big.bin").write_bytes(b"0" * (LIMITS["file_bytes"] + 1))
    for k in range(5):
        (tmp_path / f"f{k}").write_bytes(b"0" * LIMITS["file_bytes"])
    problems = check_limits(tmp_path)
    assert any("folders down" in p and "deep.txt" in p for p in problems), problems
    assert any("odd characters" in p for p in problems)
    assert any(p.startswith("big.bin") for p in problems)
    assert any("files > 8" in p for p in problems) and any("in all > 64 MiB" in p for p in problems)


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    base = tmp_path_factory.mktemp("paper_on_gpu")
    out, work = base / "out", base / "work"
    result = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "paper_on_gpu.sh"), "--device", "cpu", "--smoke"]
        + ["--out", str(out), "--work", str(work)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out, work, result.stdout


@pytest.mark.slow
def test_the_output_folder_keeps_the_limits_and_holds_the_results(rehearsal):
    out, _, stdout = rehearsal
    names = sorted(p.name for p in out.iterdir())
    assert check_limits(out) == [] and len(names) <= LIMITS["files"], names
    for name in ("report.md", "table1_vs_paper.md", "table1_vs_paper.csv", "results.tar.gz"):
        assert name in names, names
    assert {"logs.tar.gz", "resume_states.tar", "states_h32.tar"} <= set(names)
    report = (out / "report.md").read_text()
    assert "within the limits: True" in report and "Table 1 reproduced: True" in report
    with tarfile.open(out / "results.tar.gz") as tar:
        members = tar.getnames()
    assert "paper/evaluation_table.csv" in members and "throughput.json" in members
    assert any(n.startswith("paper/paper_figures/figure3_") for n in members), members
    with tarfile.open(out / "states_h32.tar") as tar:
        assert sum(n.endswith("model.pt") for n in tar.getnames()) == 8
    assert "limits check: ok" in stdout


@pytest.mark.slow
def test_the_deadline_left_resume_states_and_the_resumed_models_are_exact(rehearsal, tmp_path):
    out, work, _ = rehearsal
    with tarfile.open(out / "resume_states.tar") as tar:
        assert sum(n.endswith("resume.pt") for n in tar.getnames()) == 8
    project = work / "project"
    config = load_workflow_config([project / "config" / "paper_on_gpu.yaml"], {})
    variants = config.experiments["paper"].variants
    chosen = [(variants[0], 1), (variants[-1], 2)]
    for variant, seed in chosen:  # cut mid-training, not before the first step
        log = Path(
            layout.model_file("paper", variant.name, seed, "training_log", project / "results")
        )
        saved = [line for line in log.read_text().splitlines() if "state saved" in line]
        assert saved and not saved[0].split("step ")[1].startswith("0:"), saved
    specs = [
        MemberSpec(variant.config, seed, tmp_path / f"{variant.name}-{seed}")
        for variant, seed in chosen
    ]
    train(specs)  # uninterrupted, in another pack
    for spec, (variant, seed) in zip(specs, chosen, strict=True):
        resumed = layout.model_file("paper", variant.name, seed, "checkpoint", project / "results")
        assert_same_model(Path(resumed), spec.checkpoint)
