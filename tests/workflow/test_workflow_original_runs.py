"""The workflow on runs made by the original project: experiments pointed at original experiment
directories (``original_runs:``) are evaluated by the same evaluation job as vbpipe's own models,
then aggregated, compared and analysed, with no training job and nothing written inside those
directories; a changed checkpoint re-evaluates its experiment, and nothing else does."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers.evaluation import exact_circuit
from helpers.original_runs import (
    assert_same_evaluation,
    original_config,
    original_hparams,
    write_original_ckpt,
)
from helpers.workflow import SNAKEMAKE, copy_project, scheduled

from vbpipe.cli import main
from vbpipe.results.records import read_metrics
from vbpipe.tasks import Task

pytestmark = pytest.mark.slow

EVALUATION = {"test_horizon": 30, "n_batches": 2, "batch_size": 16}
FAST_ARGS = ["--test_horizon", "30", "--n_batches", "2", "--batch_size", "16"]
#: a: repeat copy, an exact EMT circuit and a random RNN; b: the paper's T1 (d = L = 8), so that
#: Table 1's reproduction runs too.
SOURCES = {"a": ("repeat_copy", 3, 3, 12), "b": ("T1", 8, 8, 64)}
VARIANT_A = "copy-L3-h12-l2_0-thr0.96"


def random_weights(seed: int, d: int, hidden: int) -> dict:
    rng = np.random.default_rng(seed)
    scale = 1 / np.sqrt(hidden)
    return {
        "W_ih": rng.normal(0, scale, (hidden, d)),
        "W_hh": rng.normal(0, scale, (hidden, hidden)),
        "W_r": rng.normal(0, scale, (d, hidden)),
    }


def make_source(root: Path, task: str, d: int, length: int, hidden: int) -> Path:
    """An original experiment: config.json, model-1 (seed 0) and model-2 (seed 1000)."""
    task_id = Task(task, d, length).task_id
    shape = {"d": d, "seq_length": length, "hidden": hidden}
    original_config(root, task_id, 2, **shape)
    for i, seed in ((1, 0), (2, 1000)):
        if task == "repeat_copy" and i == 1:
            weights = exact_circuit(task_id, d, length, hidden)[0]
        else:
            weights = random_weights(seed, d, hidden)
        write_original_ckpt(root / f"model-{i}", weights, original_hparams(task_id, seed, **shape))
    return root


def file_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    } | {str(p.relative_to(root)) + "/": "" for p in root.rglob("*") if p.is_dir()}


def run(workdir: Path, *args: str, env=None, targets=()):
    command = [*SNAKEMAKE, *targets, "--cores", "2", "--configfile", "config/original.yaml", *args]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, env=env, timeout=900
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """``work/sources/{a,b}`` (original experiments) and ``work/project``, a copy of the workflow
    whose config points experiments orig_a and orig_b at them (relative paths), run to the end."""
    work = tmp_path_factory.mktemp("original_runs")
    for name, shape in SOURCES.items():
        make_source(work / "sources" / name, *shape)
    before = file_hashes(work / "sources")
    project = copy_project(work / "project", with_source=True)
    config = {
        "experiments": {
            "orig_a": {
                "original_runs": "../sources/a",
                "evaluation": {**EVALUATION, "figures": True},
                "analysis": {"embedding": ["pca"], "persistence": False, "distances": ["chi2"],
                             "census_horizons": [100], "census_sequences": 16},
            },
            "orig_b": {
                "original_runs": "../sources/b",
                "evaluation": {**EVALUATION, "figures": False},
                "analysis": {"eigenvalue": False, "embedding": [], "persistence": False,
                             "distances": [], "diagnostics": False, "fixed_points": 0,
                             "input_phase": 0, "census": False},
            },
        },
        "comparisons": {"ab": {"experiments": ["orig_a", "orig_b"]}},
        "execution": {"accelerator": "cpu"},
    }  # fmt: skip
    (project / "config" / "original.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    planned = scheduled(run(project, "-n", env=env))
    rules = run(project, "--list-rules", env=env)
    result = run(project, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-6000:]
    return {"work": work, "project": project, "env": env, "planned": planned,
            "rules": rules.stdout, "log": result.stdout + result.stderr, "before": before}  # fmt: skip


def test_nothing_is_trained(finished):
    planned = finished["planned"]
    assert "train" not in planned and planned["evaluate"] == 2, planned
    assert planned["aggregate"] == 2 and planned["reproduction"] == 1, planned
    assert "train_" not in finished["rules"] and "evaluate_orig_a_" in finished["rules"]
    assert "rule train_" not in finished["log"]
    assert not list((finished["project"] / "results").rglob("model.pt"))


def test_every_output_is_made_in_the_results_layout(finished):
    project, env = finished["project"], finished["env"]
    result = run(project, "-n", "--summary", env=env)
    rows = [line.split("\t") for line in result.stdout.splitlines()[1:] if "\t" in line]
    assert rows, result.stdout + result.stderr
    assert not [row[0] for row in rows if len(row) > 2 and row[2].strip() == "missing"]
    for path in [
        f"results/orig_a/{VARIANT_A}/config.json",
        f"results/orig_a/{VARIANT_A}/model-2/results/metrics.json",
        f"results/orig_a/{VARIANT_A}/model-1/results/phi_empirical_seq3.png",
        "results/orig_a/evaluation_summary.json",
        "results/orig_a/evaluation_table.csv",
        "results/orig_a/tables/table1.csv",
        "results/orig_a/tables/runs.csv",
        "results/orig_a/analysis/census/census_models.csv",
        "results/orig_a/analysis/fixed_points/fixed_points.json",
        "results/orig_b/tables/table1_vs_paper.csv",
        "results/runs/runs.csv",
        "results/comparison/ab/comparison_statistics.json",
    ]:
        assert (project / path).stat().st_size > 0, path
    summary = json.loads((project / "results/orig_a/evaluation_summary.json").read_text())
    assert summary["n_models"] == 2
    record = json.loads((project / f"results/orig_a/{VARIANT_A}/config.json").read_text())
    assert record["training"]["seeds"] == [0, 1000]
    assert [m["model"] for m in record["original_runs"]["models"]] == ["model-1", "model-2"]
    census = (project / "results/orig_a/analysis/census/census_models.csv").read_text()
    assert "emt_linear" in census  # the exact circuit, read from its .ckpt


def test_per_model_results_equal_those_of_vbpipe_evaluate(finished, tmp_path):
    source = finished["work"] / "sources" / "a"
    copy = tmp_path / "a"
    shutil.copytree(source, copy)  # vbpipe evaluate writes model-<i>/results/ into the directory
    assert main(["evaluate", "--models_dir", str(copy), *FAST_ARGS, "--accelerator", "cpu",
                 "--no_figures"]) == 0  # fmt: skip
    for i, seed in ((1, 0), (2, 1000)):
        ours = finished["project"] / f"results/orig_a/{VARIANT_A}/model-{i}/results"
        cli = copy / f"model-{i}" / "results"
        a, b = assert_same_evaluation(ours, cli)
        assert a["identity"] == {
            "experiment": "orig_a",
            "variant": VARIANT_A,
            "seed": seed,
            "model_name": f"model-{i}",
        }
        assert (b["identity"]["seed"], b["identity"]["model_name"]) == (seed, f"model-{i}")
        for key in ("training", "checkpoint", "params"):  # the same file, read the same way
            assert a[key] == b[key], key
    accuracy = read_metrics(
        finished["project"] / f"results/orig_a/{VARIANT_A}/model-1/results/metrics.json"
    )
    assert accuracy["model"]["accuracy"] > 0.99


def test_the_original_directories_are_left_as_they_were(finished):
    assert file_hashes(finished["work"] / "sources") == finished["before"]


def test_a_second_run_has_nothing_to_do(finished):
    assert scheduled(run(finished["project"], "-n", env=finished["env"])) == {}


def _outputs(result) -> list[str]:
    return [p.strip() for line in re.findall(r"output: ([^\n]+)", result.stdout)
            for p in line.split(",")]  # fmt: skip


def test_a_changed_checkpoint_re_evaluates_its_experiment_only(finished, tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(finished["work"], clone, symlinks=True)
    project, env = clone / "project", {**finished["env"], "PYTHONPATH": str(clone / "project/src")}
    checkpoint = next((clone / "sources/a/model-2").rglob("*.ckpt"))
    checkpoint.touch()  # a new time, the same bytes: Snakemake's checksum says unchanged
    assert scheduled(run(project, "-n", env=env)) == {}

    # the original-checkpoint reader is part of the code of the stages that read their checkpoints
    reader = project / "src" / "vbpipe" / "original_runs.py"
    code = reader.read_text()
    reader.write_text(code + "\nUNUSED_CONSTANT = 49\n")
    counts = scheduled(run(project, "-n", env=env))
    assert counts["evaluate"] == 2 and counts["analyze_fixed_points"] == 1, counts
    reader.write_text(code)
    assert scheduled(run(project, "-n", env=env)) == {}

    task_id = Task("repeat_copy", 3, 3).task_id
    hyper = original_hparams(task_id, 1000, d=3, seq_length=3, hidden=12)
    write_original_ckpt(checkpoint.parents[3], random_weights(77, 3, 12), hyper)  # model-2 again
    dry = run(project, "-n", env=env)
    counts = scheduled(dry)
    assert "train" not in counts and counts["evaluate"] == 1 and counts["aggregate"] == 1, counts
    outputs = _outputs(dry)
    assert f"results/orig_a/{VARIANT_A}/model-2/results/metrics.json" in outputs
    assert not [p for p in outputs if p.startswith("results/orig_b/")], outputs

    model_2 = f"results/orig_a/{VARIANT_A}/model-2/results/metrics.json"
    done = run(project, env=env, targets=[model_2])
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = read_metrics(project / model_2)
    assert metrics["checkpoint"]["sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    before = read_metrics(finished["project"] / model_2)
    assert metrics["model"] != before["model"]  # the new weights were evaluated
