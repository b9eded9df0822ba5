"""The Snakemake workflow for real: lint, formatting, the DAG at paper scale, a tiny end-to-end run and
what a rerun does after each kind of change."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
pytestmark = pytest.mark.slow


def copy_project(dest: Path, with_source: bool = False) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "workflow", "config", "profiles", "envs"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        else:
            shutil.copy(source, dest / name)
    shutil.copy(ROOT / "tests" / "data" / "tiny.yaml", dest / "config" / "tiny.yaml")
    if with_source:
        shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def snakemake(workdir: Path, *args: str, env=None, timeout=900) -> subprocess.CompletedProcess:
    command = [*SNAKEMAKE, "--cores", "2", "--configfile", "config/tiny.yaml", *args]
    result = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, env=env, timeout=timeout
    )
    return result


def scheduled(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts per rule from a dry run's 'Job stats' table ({} when nothing is to be done)."""
    counts = {}
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return counts
    block = text.split("Job stats:")[1].split("Reasons:")[0] if "Job stats:" in text else ""
    for line in block.splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def test_lint_is_clean():
    result = subprocess.run(
        [*SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr, result.stdout


def test_snakefmt_check_is_clean():
    files = [
        "Snakefile",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "workflow" / "rules").glob("*.smk")),
    ]
    result = subprocess.run(
        [shutil.which("snakefmt") or "snakefmt", "--check", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_paper_scale_dag_builds_fast(tmp_path):
    project = copy_project(tmp_path)
    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    config["run"] = ["paper"]
    config["experiments"]["paper"]["seeds"] = {
        "first": 1,
        "count": 25,
    }  # 96 variants x 25 = 2400 models
    (project / "config" / "paper2400.yaml").write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    result = subprocess.run(
        [*SNAKEMAKE, "-n", "--quiet", "all", "--configfile", "config/paper2400.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-3000:]
    counts = scheduled(result)
    assert counts["checkpoint"] == 2400 and counts["evaluate_model"] == 2400
    assert counts["train"] == 96 * 2  # blocks of 20 seeds: s1-20 and s21-25 per variant
    print(f"dry run of 2400 models: {elapsed:.1f} s")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("tiny"), with_source=True)
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    result = snakemake(project, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-6000:]
    return project, env


def test_tiny_run_produces_every_declared_output(finished_run):
    project, env = finished_run
    result = snakemake(project, "-n", "--summary", env=env)
    lines = [line.split("\t") for line in result.stdout.splitlines()[1:] if "\t" in line]
    assert lines, result.stdout + result.stderr
    missing = [
        row[0]
        for row in lines
        if len(row) > 2 and row[2].strip() == "missing" and "/blocks/" not in row[0]
    ]
    assert not missing
    for path in [
        "results/tiny_a/evaluation_summary.json",
        "results/tiny_a/tables/table1.tex",
        "results/tiny_a/T1-L2-h12-l2_0-thr0.96/model-2/checkpoint/model.pt"
        if False
        else "results/tiny_a/copy-L2-h12-l2_0-thr0.96/model-2/checkpoint/model.pt",
        "results/tiny_a/copy-L2-h12-l2_0-thr0.96/model-2/checkpoint/training.log",
        "results/tiny_a/copy-L2-h12-l2_0-thr0.96/model-1/results/test_sample.png",
        "results/tiny_a/copy-L2-h12-l2_0-thr0.96/config.json",
        "results/tiny_a/analysis/persistence/persistence_statistics.json",
        "results/comparison/tiny_ab/comparison_spectra.png",
    ]:
        assert (project / path).stat().st_size > 0, path
    assert not list(
        (project / "results").rglob("blocks/*/model-*.pt")
    )  # temp blocks are cleaned up
    assert not list((project / "results").rglob("resume.pt"))


def test_immediate_rerun_does_nothing(finished_run):
    project, env = finished_run
    result = snakemake(project, "-n", env=env)
    assert result.returncode == 0
    assert scheduled(result) == {}, result.stdout[-3000:]


def clone_of(finished_run, dest: Path) -> tuple[Path, dict]:
    """A copy of the finished run (results, metadata and source) to change without touching it."""
    project, env = finished_run
    shutil.copytree(project, dest, symlinks=True)
    return dest, {**env, "PYTHONPATH": str(dest / "src")}


def _edit_config(project: Path, edit) -> None:
    path = project / "config" / "tiny.yaml"
    config = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config))


def test_adding_a_sequence_length_runs_only_the_new_models(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone,
        lambda c: (
            c["experiments"]["tiny_a"]["training"].pop("seq_length"),
            c["experiments"]["tiny_a"].__setitem__("sweep", {"seq_length": [2, 3]}),
        ),
    )
    counts = scheduled(snakemake(clone, "-n", env=env))
    assert counts["train"] == 1 and counts["checkpoint"] == 2 and counts["evaluate_model"] == 2
    assert counts["aggregate"] == 1  # tiny_a's summary; tiny_b untouched
    assert "variant_config" in counts and counts["variant_config"] == 1


def test_figure_only_change_retrains_nothing(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone,
        lambda c: c["experiments"]["tiny_a"]["evaluation"].__setitem__("magnitude_threshold", 0.5),
    )
    counts = scheduled(snakemake(clone, "-n", env=env))
    assert counts.get("global_figures") == 1
    assert not {"train", "checkpoint", "evaluate_model"} & set(counts), counts


def test_learning_rate_change_retrains_that_experiment_only(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone, lambda c: c["experiments"]["tiny_b"]["training"].__setitem__("learning_rate", 0.02)
    )
    result = snakemake(clone, "-n", env=env)
    counts = scheduled(result)
    assert counts["train"] == 2  # tiny_b: two blocks of one seed
    assert "tiny_a/" not in "".join(re.findall(r"output: (\S+)", result.stdout))


def test_editing_training_code_retrains(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    training = clone / "src" / "vbpipe" / "training.py"
    with open(training, "a") as handle:
        handle.write("\n# a comment and a reformatting change nothing ...\n")
    assert scheduled(snakemake(clone, "-n", env=env)) == {}
    with open(training, "a") as handle:
        handle.write("\nRECENT = 49  # ... a change of the code retrains\n")
    counts = scheduled(snakemake(clone, "-n", env=env))
    assert counts["train"] == 3  # tiny_a: one block of two, tiny_b: two blocks of one
    figures_clone, env = clone_of(finished_run, tmp_path / "figures")
    with open(figures_clone / "src" / "vbpipe" / "evaluation" / "figures.py", "a") as handle:
        handle.write("\nCMAP = 'RdBu_r'\n")
    counts = scheduled(snakemake(figures_clone, "-n", env=env))
    assert "train" not in counts and "evaluate_model" not in counts
    assert counts.get("model_figures") == 2 and counts.get("global_figures") == 2


def test_bad_config_is_refused_before_any_job(tmp_path):
    project = copy_project(tmp_path)
    _edit_config(
        project, lambda c: c["experiments"]["tiny_a"]["training"].__setitem__("hidden_dim", -3)
    )
    result = snakemake(project)
    assert result.returncode != 0
    assert "hidden_dim" in result.stdout + result.stderr
    assert not (project / "results").exists()


def test_report_builds_from_the_tiny_run(finished_run):
    project, env = finished_run
    result = snakemake(project, "--report", "report.html", env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    html = (project / "report.html").read_text(errors="replace")
    for name in (
        "figure4_copy.png",
        "global_complex_plane.png",
        "table1.csv",
        "pca_embedding.png",
        "comparison_spectra.png",
        "test_sample.png",
        "example_persistence_diagrams.png",
    ):
        assert name in html, name
    assert "variable-memory basis" in html  # a caption made it in
