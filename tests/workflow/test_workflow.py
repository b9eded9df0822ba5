"""The Snakemake workflow for real: lint, formatting, the DAG at paper scale, a tiny end-to-end run, and
what a rerun does after each kind of change (every row of the README's caching table)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers.workflow import ROOT, SNAKEMAKE, copy_project, scheduled, snakemake, trained_models

pytestmark = pytest.mark.slow


def test_lint_is_clean():
    result = subprocess.run(
        [*SNAKEMAKE, "--lint"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr, result.stdout


def test_snakefmt_check_is_clean():
    files = [
        "Snakefile",
        "workflow/Snakefile",
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


def test_paper_scale_dag_plans_few_jobs(tmp_path):
    project = copy_project(tmp_path)
    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    config["run"] = ["paper"]
    config["experiments"]["paper"]["seeds"] = {"first": 1, "count": 25}  # 96 variants x 25 = 2400
    (project / "config" / "paper2400.yaml").write_text(yaml.safe_dump(config))
    started = time.perf_counter()
    result = subprocess.run(
        [*SNAKEMAKE, "-n", "--quiet", "rules", "--configfile", "config/paper2400.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    counts = scheduled(result)
    # packs of <= 640 models of equal shape: 800 per hidden size -> 2 packs each
    assert counts["train"] == 6 and counts["evaluate"] == 96, counts
    assert sum(counts.values()) < 250, counts
    print(f"dry run of 2400 models: {elapsed:.1f} s, {sum(counts.values())} jobs")


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
    missing = [row[0] for row in lines if len(row) > 2 and row[2].strip() == "missing"]
    assert not missing
    variant = "results/tiny_a/copy-L2-h12-l2_0-thr0.96"
    for path in [
        "results/tiny_a/evaluation_summary.json",
        "results/tiny_a/evaluation_table.csv",
        "results/tiny_a/tables/table1.tex",
        f"{variant}/model-2/checkpoint/model.pt",
        f"{variant}/model-2/checkpoint/model.json",
        f"{variant}/model-2/checkpoint/training.log",
        f"{variant}/model-1/results/test_sample.png",
        f"{variant}/model-1/results/phi_empirical_seq2.png",
        f"{variant}/config.json",
        "results/tiny_a/analysis/persistence/persistence_statistics.json",
        "results/comparison/tiny_ab/comparison_spectra.png",
    ]:
        assert (project / path).stat().st_size > 0, path
    assert list((project / f"{variant}/model-1/checkpoint").glob("events.out.tfevents.*"))
    assert not list((project / "results").rglob("resume.pt"))
    assert not list((project / "results").rglob("*.tmp"))


def test_immediate_rerun_does_nothing(finished_run):
    project, env = finished_run
    assert scheduled(snakemake(project, "-n", env=env)) == {}


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

    def edit(config):
        config["experiments"]["tiny_a"]["training"].pop("seq_length")
        config["experiments"]["tiny_a"]["sweep"] = {"seq_length": [2, 3]}

    _edit_config(clone, edit)
    result = snakemake(clone, "-n", env=env)
    counts = scheduled(result)
    assert counts["train"] == 1 and counts["evaluate"] == 1, counts
    assert trained_models(result) == {
        f"results/tiny_a/copy-L3-h12-l2_0-thr0.96/model-{s}/checkpoint/model.pt" for s in (1, 2)
    }
    assert counts["aggregate"] == 1  # tiny_a's; tiny_b untouched


def test_adding_seeds_trains_only_the_new_seeds(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(clone, lambda c: c["experiments"]["tiny_b"].__setitem__("seeds", [3, 4, 5]))
    result = snakemake(clone, "-n", env=env)
    counts = scheduled(result)
    assert trained_models(result) == {
        "results/tiny_b/copy-L2-h8-l2_0-thr0.96/model-5/checkpoint/model.pt"
    }
    assert counts["evaluate"] == 1 and counts["aggregate"] == 1, counts


def test_execution_settings_rerun_nothing(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(clone, lambda c: c.__setitem__("execution", {"models_per_job": 1, "threads": 2}))
    assert scheduled(snakemake(clone, "-n", env=env)) == {}


def test_evaluation_setting_re_evaluates_without_training(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone, lambda c: c["experiments"]["tiny_b"]["evaluation"].__setitem__("test_horizon", 40)
    )
    counts = scheduled(snakemake(clone, "-n", env=env))
    assert counts["evaluate"] == 1 and counts["aggregate"] == 1 and "train" not in counts, counts


def test_figure_only_change_redraws_that_figure_only(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone,
        lambda c: c["experiments"]["tiny_a"]["evaluation"].__setitem__("magnitude_threshold", 0.5),
    )
    assert scheduled(snakemake(clone, "-n", env=env)) == {"global_figures": 1, "default": 1}


def test_census_setting_reruns_the_census_only(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone,
        lambda c: (
            c["experiments"]["tiny_a"]
            .setdefault("analysis", {})
            .__setitem__("census_max_spectral_error", 0.1)
        ),
    )
    assert scheduled(snakemake(clone, "-n", env=env)) == {"analyze_census": 1, "default": 1}


def test_learning_rate_change_retrains_that_experiment_only(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    _edit_config(
        clone, lambda c: c["experiments"]["tiny_b"]["training"].__setitem__("learning_rate", 0.02)
    )
    result = snakemake(clone, "-n", env=env)
    assert scheduled(result)["train"] == 1
    assert {Path(p).parts[1] for p in trained_models(result)} == {"tiny_b"}


def test_editing_training_code_retrains_and_comments_do_not(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    members = clone / "src" / "vbpipe" / "training" / "members.py"
    with open(members, "a") as handle:
        handle.write("\n# a comment and a reformatting change nothing ...\n")
    assert scheduled(snakemake(clone, "-n", env=env)) == {}
    with open(members, "a") as handle:
        handle.write("\nUNUSED_CONSTANT = 49  # ... a change of the code retrains\n")
    result = snakemake(clone, "-n", env=env)
    assert scheduled(result)["train"] == 2 and len(trained_models(result)) == 4


def test_editing_figure_code_redraws_figures_only(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    with open(clone / "src" / "vbpipe" / "evaluation" / "figures.py", "a") as handle:
        handle.write("\nCMAP = 'RdBu_r'\n")
    counts = scheduled(snakemake(clone, "-n", env=env))
    assert not {"train", "evaluate", "aggregate"} & set(counts), counts
    assert counts["figures"] == 1 and counts["global_figures"] == 2 and counts["paper_figures"] == 2


def test_a_corrupt_checkpoint_is_found_and_retrained(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    checkpoint = clone / "results/tiny_b/copy-L2-h8-l2_0-thr0.96/model-4/checkpoint/model.pt"
    data = bytearray(checkpoint.read_bytes())
    data[-100] ^= 0xFF  # same size, one byte flipped
    checkpoint.write_bytes(bytes(data))
    result = snakemake(clone, "-n", env=env)
    assert trained_models(result) == {str(checkpoint.relative_to(clone))}


def test_vbpipe_retrain_makes_the_next_run_retrain_exactly_the_chosen_models(
    finished_run, tmp_path
):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    command = [sys.executable, "-m", "vbpipe.cli", "retrain", "--configfile", "config/tiny.yaml"]
    command += ["--experiment", "tiny_b", "--seed", "4", "--yes"]
    done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    checkpoint = "results/tiny_b/copy-L2-h8-l2_0-thr0.96/model-4/checkpoint/model.pt"
    assert list(clone.glob(f"results/.retired/*/{checkpoint[len('results/') :]}"))  # moved, kept
    result = snakemake(clone, "-n", env=env)
    assert trained_models(result) == {checkpoint}
    assert scheduled(result)["evaluate"] == 1


def test_a_corrupt_result_is_set_aside_and_redone_by_a_plain_run(finished_run, tmp_path):
    clone, env = clone_of(finished_run, tmp_path / "clone")
    metrics = clone / "results/tiny_b/copy-L2-h8-l2_0-thr0.96/model-3/results/metrics.json"
    metrics.write_text(metrics.read_text()[:100])  # cut short, with a new mtime
    dry = snakemake(clone, "-n", env=env)
    assert "cannot be read back: would be redone" in dry.stderr and metrics.is_file()
    result = snakemake(clone, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics.with_name("metrics.json.corrupt").is_file()
    json.loads(metrics.read_text())  # redone
    assert scheduled(snakemake(clone, "-n", env=env)) == {}


def test_bad_config_is_refused_before_any_job(tmp_path):
    project = copy_project(tmp_path)
    _edit_config(
        project, lambda c: c["experiments"]["tiny_a"]["training"].__setitem__("hidden_dim", -3)
    )
    result = snakemake(project)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "tiny.yaml:" in text and "experiments.tiny_a.training.hidden_dim" in text, text[-2000:]
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
        "betti_curves.png",
        "runs.csv",
        "runs_parallel_coordinates.png",
    ):
        assert name in html, name
    assert "variable-memory basis" in html  # a caption made it in


def test_the_report_renders_in_a_browser(finished_run, tmp_path):
    """report.html opened in headless Chromium: every embedded figure decodes, the tables are
    there, every caption rendered, and the report's own app shows a category and a figure."""
    from helpers.browser import CHROMIUM, look_at

    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} missing (Debian: apt-get install chromium; .ci/run does it as root)"
        )
    project, env = finished_run
    report = project / "report.html"
    if not report.is_file():
        result = snakemake(project, "--report", "report.html", env=env)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    record, screenshot = look_at(report, tmp_path)
    assert not record["errors"], record["errors"]
    assert record["figures"] >= 40 and not record["broken"], record["broken"]
    assert not record["caption_errors"], f"captions with RST errors: {record['caption_errors']}"
    tables = {Path(path).name: rows for path, rows in record["tables"].items()}
    # Table 1 and the runs table per experiment (2 + 2), and the runs table across experiments
    assert set(tables) == {"table1.csv", "runs.csv"} and len(record["tables"]) == 5, sorted(
        record["tables"]
    )
    for path, rows in record["tables"].items():
        head = "experiment,variant," if path.endswith("runs.csv") else "task,task_id,"
        assert rows[0].startswith(head) and len(rows) >= 2, rows
    shown = record["shown"]
    assert shown["category"] and shown["figure"].endswith(".png"), shown
    assert all(width > 0 for _, width in shown["images"]), shown["images"]
    assert any(src.startswith("data:image/png") for src, _ in shown["images"]), shown["images"]
    assert "accuracy per step" in shown["text"] and "test sample" in shown["text"]
    assert screenshot.stat().st_size > 20_000  # a picture, not a blank page


def test_controls_plan_their_own_packs_and_analysis(tmp_path):
    """A linear RNN never shares a pack with tanh ones; an experiment with controls gets the
    controls analysis; a plain experiment does not."""
    project = copy_project(tmp_path)
    common = {"input_dim": 3, "seq_length": 2, "hidden_dim": 12, "epochs": 1,
              "steps_per_epoch": 20, "curriculum_horizons": [5]}  # fmt: skip
    config = {
        "experiments": {
            "starts": {"training": common, "seeds": [1, 2],
                       "sweep": {"init": ["random", "circuit_naive", "circuit_gated"]}},
            "linear": {"training": {**common, "activation": "linear"}, "seeds": [1, 2]},
            "plain": {"training": common, "seeds": [3]},
        },
        "execution": {"accelerator": "cpu", "models_per_job": 100},
    }  # fmt: skip
    (project / "config" / "controls.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [*SNAKEMAKE, "-n", "--configfile", "config/controls.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    counts = scheduled(result)
    assert counts["train"] == 2, counts  # tanh (6 + 1 models) and linear (2)
    text = result.stdout + result.stderr
    controls = re.findall(r"results/(\w+)/analysis/controls/controls\.csv", text)
    assert set(controls) == {"starts", "linear"}, text[-3000:]  # not "plain": no controls there
