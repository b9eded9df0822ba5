"""The results contract between stages (vbpipe.results): the tidy table, the one loader, stale
records, failed evaluations, and what the stage modules import."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from helpers.evaluation import FAST, exact_circuit, job_of, random_model, write_model

from vbpipe.checkpoint import CheckpointError
from vbpipe.jobs.aggregate import aggregate_experiment
from vbpipe.jobs.evaluate import evaluate_models
from vbpipe.results.errors import ResultsError, StaleResultError
from vbpipe.results.experiment import ROW_ARRAYS, experiment_from_model_results, load_experiment
from vbpipe.results.records import METRICS_VERSION, checkpoint_fingerprint, read_metrics
from vbpipe.results.summary import experiment_from_summary, summary_records
from vbpipe.results.table import MODEL_KEY, TABLE_COLUMNS, read_table, records_to_table
from vbpipe.training.kernel import init_weights


@pytest.fixture(scope="module")
def experiment_results(tmp_path_factory):
    """Four models of two variants (one trained on L in 3..4, one diverged), evaluated and
    aggregated."""
    root = tmp_path_factory.mktemp("contract") / "exp"
    weights, _, _ = exact_circuit((7, 4, 5), 3, 3, 12)
    dirs = [write_model(root, weights, (7, 4, 5), 3, 3, seed=s, variant="perm") for s in (2, 10)]
    dirs.append(
        random_model(root, seed=1, hidden=10, d=3, length=[3, 4], task_id=(7, 0, 0), variant="v")
    )
    bad = init_weights(5, 3, 12, 3)
    bad["W_hh"][0, 0] = float("nan")
    dirs.append(
        write_model(root, bad, (7, 4, 5), 3, 3, seed=5, variant="perm", outcome={"diverged": True})
    )
    evaluate_models([job_of(d) for d in dirs], FAST, log=None)
    out = root / "agg"
    aggregate_experiment(
        [d / "results" for d in reversed(dirs)],  # any order: rows come out sorted
        summary=out / "evaluation_summary.json",
        table=out / "evaluation_table.csv",
        arrays=out / "evaluation_arrays.npz",
        table1_csv=out / "table1.csv",
        table1_tex=out / "table1.tex",
        evaluation_config={"evaluation": FAST},
    )
    return root, dirs, out


def test_tidy_table_has_one_row_per_model_and_length(experiment_results):
    _, _, out = experiment_results
    table = read_table(out / "evaluation_table.csv")
    keys = [(r.variant, r.model_name, r.eval_length) for r in table.itertuples()]
    assert keys == [
        ("perm", "model-2", 3),
        ("perm", "model-5", 3),
        ("perm", "model-10", 3),
        ("v", "model-1", 3),
        ("v", "model-1", 4),
    ]
    required = [
        "experiment",
        "variant",
        "seed",
        "model_name",
        "task",
        "task_id",
        "hidden_dim",
        "l2_penalty",
        "curriculum_threshold",
        "input_dim",
        "seq_length",
        "converged",
        "diverged",
        "train_steps",
        "train_accuracy",
        "curriculum_level",
        "eval_length",
        "accuracy",
        "model_accuracy",
        "spectral_error",
        "n_unit_circle_rnn",
        "n_unit_circle_theory",
        "emt_phi_error",
        "hidden_too_small",
        "weights_finite",
        "solved",
    ]
    assert set(required) <= set(table.columns) and set(TABLE_COLUMNS) <= set(table.columns)
    assert str(table["hidden_dim"].dtype) == "Int64" and table["spectral_error"].dtype == float
    assert table.loc[3, "task"] == "copy" and table.loc[3, "task_id"] == "7,0,0"
    assert table.loc[3, "seq_length"] == "[3, 4]"  # a list parameter, as JSON text
    assert table.loc[0, "seq_length"] == "3"
    diverged = table.loc[1]
    assert bool(diverged["diverged"]) and not bool(diverged["weights_finite"])
    assert np.isnan(diverged["spectral_error"]) and diverged["n_unit_circle_theory"] == 9
    small = table.loc[3]
    assert bool(small["hidden_too_small"]) is False and bool(table.loc[4, "hidden_too_small"])
    # accuracy is per length, model_accuracy over the model's lengths
    assert table.loc[3, "model_accuracy"] == pytest.approx(table.loc[3:4, "accuracy"].mean())


def test_one_loader_from_table_summary_or_model_results(experiment_results):
    _, dirs, out = experiment_results
    from_table = load_experiment(out / "evaluation_table.csv", out / "evaluation_arrays.npz")
    from_summary = experiment_from_summary(out / "evaluation_summary.json")
    from_models = experiment_from_model_results([d / "results" for d in dirs])
    assert from_table.equals(from_summary) and from_table.equals(from_models)
    assert from_table.n_models == 4 and from_table.seq_lengths == [3, 4]
    assert from_summary.meta["evaluation_config"] == {"evaluation": FAST}
    whh = from_table.spectrum("full")
    assert whh[0].dtype == np.complex128 and whh[1] is None  # the diverged model has none
    assert [a is None for a in from_table.arrays["eigenvalues_sub"]] == [
        False,
        True,
        False,
        False,
        False,
    ]
    at4 = from_table.at_length(4)
    assert len(at4) == 1 and at4.table["model_name"].tolist() == ["model-1"]
    # The summary export rebuilt from the loaded results is the summary that was written.
    written = json.loads((out / "evaluation_summary.json").read_text())["metrics"]
    assert summary_records(from_table) == written
    for name in ROW_ARRAYS:
        assert len(from_table.arrays[name]) == len(from_table)


def test_table_rows_follow_the_records(experiment_results):
    _, dirs, _ = experiment_results
    records = [read_metrics(d / "results" / "metrics.json") for d in dirs]
    table = records_to_table(records)
    assert len(table) == sum(len(r["lengths"]) for r in records)
    first = table.iloc[0]
    assert first["model_accuracy"] == records[0]["model"]["accuracy"]
    assert first["checkpoint_sha256"] == records[0]["checkpoint"]["sha256"]
    assert list(table.columns[: len(MODEL_KEY)]) == list(MODEL_KEY)


def test_stale_record_is_an_error_naming_the_model(tmp_path):
    root = tmp_path / "exp"
    model_dir = random_model(root, seed=3, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    evaluate_models([job_of(model_dir)], FAST, log=None)
    outputs = {
        "summary": tmp_path / "s.json",
        "table": tmp_path / "t.csv",
        "arrays": tmp_path / "a.npz",
    }
    aggregate_experiment([model_dir / "results"], **outputs)  # current: fine
    recorded = read_metrics(model_dir / "results" / "metrics.json")["checkpoint"]
    assert recorded == checkpoint_fingerprint(model_dir / "checkpoint" / "model.pt")
    # The model is retrained (a new checkpoint and sidecar) after it was evaluated.
    random_model(root, seed=3, hidden=10, d=3, length=3, task_id=(7, 0, 0))
    with pytest.raises(StaleResultError, match=r"var/model-3.*re-evaluate"):
        aggregate_experiment([model_dir / "results"], **outputs)
    # A checkpoint corrupted in place (its sidecar now describes another file) is stale too.
    evaluate_models([job_of(model_dir)], FAST, log=None)
    path = model_dir / "checkpoint" / "model.pt"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(StaleResultError, match="re-evaluate"):
        aggregate_experiment([model_dir / "results"], **outputs)
    aggregate_experiment([model_dir / "results"], verify_checkpoints=False, **outputs)
    path.unlink()
    with pytest.raises(ResultsError, match="checkpoint does not exist"):
        aggregate_experiment([model_dir / "results"], **outputs)


def test_failed_evaluation_leaves_no_old_outputs(tmp_path):
    model_dir = random_model(tmp_path / "exp", seed=3, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    results = model_dir / "results"
    evaluate_models([job_of(model_dir)], FAST, log=None)
    assert (results / "metrics.json").is_file() and (results / "arrays.npz").is_file()
    (model_dir / "checkpoint" / "model.pt").write_bytes(b"corrupt")
    with pytest.raises(CheckpointError, match="model.pt"):
        evaluate_models([job_of(model_dir)], FAST, log=None)
    assert not (results / "metrics.json").exists() and not (results / "arrays.npz").exists()
    (results / "metrics.json").write_text("{}")  # an old result reappears (say, restored)
    report = evaluate_models([job_of(model_dir)], FAST, on_error="collect", log=None)
    assert report.evaluated == [] and report.failures[0]["model"] == "var/model-3"
    assert not (results / "metrics.json").exists()
    with pytest.raises(ResultsError, match="metrics file does not exist"):
        aggregate_experiment([results], summary="s.json", table="t.csv", arrays="a.npz")


def test_corrupt_or_old_metrics_are_refused_with_the_file_name(tmp_path):
    model_dir = random_model(tmp_path / "exp", seed=3, hidden=8, d=3, length=3, task_id=(7, 0, 0))
    evaluate_models([job_of(model_dir)], FAST, log=None)
    path = model_dir / "results" / "metrics.json"
    record = json.loads(path.read_text())
    path.write_text(path.read_text()[:50])
    with pytest.raises(ResultsError, match=r"metrics.json: corrupt metrics file"):
        read_metrics(path)
    path.write_text(json.dumps({**record, "format_version": METRICS_VERSION - 1}))
    with pytest.raises(ResultsError, match="re-evaluate"):
        read_metrics(path)
    broken = {**record, "lengths": [{"eval_length": 3}]}
    path.write_text(json.dumps(broken))
    with pytest.raises(ResultsError, match=r"lengths\[0\] lacks"):
        read_metrics(path)
    with pytest.raises(ResultsError, match="evaluation table does not exist"):
        read_table(tmp_path / "missing.csv")


def _imported(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print('\\n'.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "modules, torch_allowed",
    [
        (["vbpipe.results.layout", "vbpipe.results.records", "vbpipe.results.table"], False),
        (["vbpipe.results.experiment", "vbpipe.results.summary"], False),
        (["vbpipe.jobs.aggregate", "vbpipe.jobs.figures"], False),
        (["vbpipe.jobs.eigenvalue", "vbpipe.jobs.embedding", "vbpipe.jobs.persistence"], False),
        (["vbpipe.jobs.compare", "vbpipe.jobs.distances", "vbpipe.jobs.fixed_points"], False),
        (["vbpipe.evaluation.cli", "vbpipe.analysis.cli"], False),
        (["vbpipe.jobs.evaluate"], False),  # checkpoints are read without torch on CPU
        (["vbpipe.tasks"], True),
    ],
)
def test_stages_import_no_lightning_and_torch_only_where_needed(modules, torch_allowed):
    imported = _imported(modules)
    assert not {"pytorch_lightning", "lightning", "lightning_fabric"} & imported
    assert ("torch" in imported) == torch_allowed
    if modules[0] == "vbpipe.results.layout":
        assert "pandas" not in imported and "matplotlib" not in imported
    if modules[0] == "vbpipe.evaluation.cli":
        assert not {"matplotlib", "scipy", "pandas", "sklearn"} & imported
