"""Issue 16, item 2: the runs table (vbpipe runs, and the report's table and figure)."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from vbpipe import runs
from vbpipe.cli import main
from vbpipe.intervals import mean_interval
from vbpipe.results.records import empty_metrics
from vbpipe.results.table import records_to_table
from vbpipe.sidecar import file_sha256, write_sidecar

T_975_2 = 4.302652729911275  # Student's t, 97.5% quantile, 2 degrees of freedom


def test_mean_interval_known_answers():
    mean, half, n = mean_interval([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(T_975_2 * 1.0 / math.sqrt(3))
    assert mean_interval([4.0, 4.0])[1] == 0.0
    assert math.isnan(mean_interval([5.0])[1]) and mean_interval([5.0])[0] == 5.0
    assert math.isnan(mean_interval([])[0])
    assert mean_interval([1.0, float("nan"), 3.0])[:2] == (2.0, pytest.approx(12.706204736 * 1))
    with pytest.raises(ValueError):
        mean_interval([1.0], confidence=1.0)


def record(experiment, variant, seed, accuracy, spectral=(0.1, 0.3), **params) -> dict:
    """A metrics record with what the runs table reads (two evaluated lengths)."""
    out = empty_metrics([3, 4])
    out["identity"] = {"experiment": experiment, "variant": variant, "seed": seed,
                       "model_name": f"model-{seed}"}  # fmt: skip
    out["params"] = {"task_id": ["1", "2", "3"], "hidden_dim": 16, "l2_penalty": 0.0, **params}
    out["task_label"] = "copy"
    out["evaluation"]["seq_lengths"] = [3, 4]
    out["model"]["accuracy"] = accuracy
    for entry, value in zip(out["lengths"], spectral, strict=True):
        entry["spectral_error"] = value
    out["checkpoint"] = {"sha256": "0" * 64, "stamp": "s", "size": 1}
    return out


def tidy_two_variants() -> pd.DataFrame:
    records = [record("e", "h16", s, a) for s, a in ((1, 0.9), (2, 1.0), (3, 0.95))]
    records += [record("e", "h32", s, 1.0, (0.2, 0.2), hidden_dim=32) for s in (1, 2, 3)]
    return records_to_table(records)


def test_runs_table_rows_counts_intervals_and_status():
    planned = {("e", "h16"): 3, ("e", "h32"): 4, ("e", "h64"): 2}
    table = runs.runs_table(tidy_two_variants(), planned=planned)
    assert list(table["variant"]) == ["h16", "h32", "h64"]
    h16, h32, h64 = (table.iloc[i] for i in range(3))
    assert h16["accuracy_mean"] == pytest.approx(0.95)
    assert h16["accuracy_ci95"] == pytest.approx(T_975_2 * 0.05 / math.sqrt(3))
    assert h16["spectral_error_mean"] == pytest.approx(0.2)  # mean over lengths, then seeds
    assert h16["spectral_error_ci95"] == pytest.approx(0.0, abs=1e-12)
    assert (h16["seeds_done"], h16["seeds_planned"], h16["status"]) == (3, 3, "done")
    assert (h32["seeds_done"], h32["seeds_planned"], h32["status"]) == (3, 4, "partial")
    assert h32["hidden_dim"] == 32
    assert (h64["seeds_done"], h64["status"]) == (0, "pending")
    assert math.isnan(h64["accuracy_mean"])
    assert "mechanism" in table.columns and table["mechanism"].isna().all()


def test_only_changed_sort_filter_and_errors():
    table = runs.runs_table(tidy_two_variants())
    assert runs.changed_columns(table) == ["hidden_dim"]
    short = runs.only_changed(table)
    assert "l2_penalty" not in short.columns and "hidden_dim" in short.columns
    assert list(runs.sort_rows(table, "hidden_dim", descending=True)["variant"]) == ["h32", "h16"]
    assert list(runs.sort_rows(table, "-accuracy_mean")["variant"]) == ["h32", "h16"]
    assert list(runs.filter_rows(table, ["hidden_dim=32"])["variant"]) == ["h32"]
    assert list(runs.filter_rows(table, ["variant=h16", "l2_penalty=0"])["variant"]) == ["h16"]
    assert runs.filter_rows(table, ["hidden_dim=8"]).empty
    with pytest.raises(runs.RunsQueryError, match="--sort 'nope': no such column"):
        runs.sort_rows(table, "nope")
    with pytest.raises(runs.RunsQueryError, match="expected KEY=VALUE"):
        runs.filter_rows(table, ["hidden_dim"])


def test_formats_show_the_interval_and_seed_counts():
    table = runs.only_changed(runs.runs_table(tidy_two_variants(), planned={("e", "h32"): 4}))
    text = runs.format_terminal(table)
    assert "0.9500 ± 0.1242" in text and "3/4" in text
    markdown = runs.format_markdown(table).splitlines()
    assert markdown[0].startswith("| experiment | variant | hidden_dim | seeds | accuracy")
    assert len(markdown) == 4
    frame = pd.read_csv(io.StringIO(runs.format_csv(table)))
    assert frame["accuracy_mean"].tolist() == pytest.approx([0.95, 1.0])


def test_a_hook_fills_the_mechanism_column(monkeypatch):
    monkeypatch.setitem(runs.HOOK_COLUMNS, "mechanism", lambda models: f"{len(models)} models")
    table = runs.runs_table(tidy_two_variants())
    assert list(table["mechanism"]) == ["3 models", "3 models"]


def _write_model(root: Path, experiment, variant, seed, accuracy, provenance=None) -> Path:
    model = root / experiment / variant / f"model-{seed}"
    checkpoint = model / "checkpoint" / "model.pt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(f"weights {seed}".encode())
    write_sidecar(checkpoint, "stamp", {"steps": 1})
    metrics = record(experiment, variant, seed, accuracy)
    metrics["checkpoint"] = {"sha256": file_sha256(checkpoint), "stamp": "stamp",
                             "size": checkpoint.stat().st_size}  # fmt: skip
    if provenance is not None:
        metrics["provenance"] = provenance
    (model / "results").mkdir()
    (model / "results" / "metrics.json").write_text(json.dumps(metrics))
    return checkpoint


def _cli(*args) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["runs", *args]) == 0
    return out.getvalue()


def test_vbpipe_runs_reads_the_results_on_disk(tmp_path, capsys):
    root = tmp_path / "results"
    provenance = {
        "training": {"git_commit": "a" * 40, "git_dirty": False, "host": "node1",
                     "device_name": "H100", "slurm_job_id": "99"},
        "evaluation": {"git_commit": "b" * 40, "git_dirty": True, "host": "node2",
                       "slurm_job_id": None},
    }  # fmt: skip
    for seed, acc in ((1, 0.9), (2, 1.0)):
        _write_model(root, "exp", "v1", seed, acc, provenance)
    stale = _write_model(root, "exp", "v2", 1, 1.0)
    stale.write_bytes(b"retrained since")  # metrics of another checkpoint
    (root / "exp" / "v3" / "model-1" / "checkpoint").mkdir(parents=True)  # training
    (root / "comparison" / "x").mkdir(parents=True)  # not an experiment
    frame = pd.read_csv(io.StringIO(_cli("--results", str(root), "--format", "csv")))
    assert list(frame["variant"]) == ["v1", "v2", "v3"]
    assert list(frame["status"]) == ["done", "stale", "pending"]
    assert frame.loc[0, "accuracy_mean"] == pytest.approx(0.95)
    assert list(frame["seeds_done"]) == [2, 0, 0]
    text = _cli("--results", str(root), "--provenance", "--filter", "variant=v1")
    assert "aaaaaaaaaa" in text and "node1" in text and "H100" in text and "99" in text
    assert "bbbbbbbbbb" in text and "True" in text
    assert main(["runs", "--results", str(root), "--sort", "bogus"]) == 2
    assert "--sort 'bogus': no such column" in capsys.readouterr().err
    assert main(["runs", "--results", str(tmp_path / "none")]) == 2
    assert "results directory does not exist" in capsys.readouterr().err


def test_runs_table_job_writes_the_table_and_the_figure(tmp_path):
    from vbpipe.jobs.runs import runs_table_job
    from vbpipe.results.table import write_table

    write_table(tidy_two_variants(), tmp_path / "evaluation_table.csv")
    out = {k: tmp_path / f"runs.{k}" for k in ("csv", "md", "png")}
    runs_table_job(
        [tmp_path / "evaluation_table.csv"],
        [["e", "h16", 3], ["e", "h32", 3]],
        csv=out["csv"],
        markdown=out["md"],
        figure=out["png"],
        title="e",
    )
    frame = pd.read_csv(out["csv"])
    assert frame["status"].tolist() == ["done", "done"]
    assert "0.9500 ± 0.1242" in out["md"].read_text()
    assert out["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_axis_positions_of_numbers_and_labels():
    from vbpipe.analysis.parallel_coordinates import axis_positions

    pos, ticks = axis_positions([16, 32, 64])
    assert pos.tolist() == pytest.approx([0.0, 1 / 3, 1.0])
    assert [t for _, t in ticks] == ["16", "32", "64"]
    pos, ticks = axis_positions(["T2", "T1", "T2"])
    assert pos.tolist() == [1.0, 0.0, 1.0] and [t for _, t in ticks] == ["T1", "T2"]
    assert axis_positions([7, 7])[0].tolist() == [0.5, 0.5]


def test_the_mechanism_column_is_the_census_classification():
    """Known classes: a solved model with theory's unit-circle count and a small error is
    emt_linear; a chance-level one collapsed; a variant without the census' numbers gets none."""
    tidy = tidy_two_variants()
    tidy["n_unit_circle_rnn"] = 12
    tidy["n_unit_circle_theory"] = 12
    tidy["spectral_radius_whh"] = 1.05
    tidy["spectral_error"] = 0.01
    tidy.loc[(tidy["variant"] == "h16") & (tidy["seed"] == 1), "model_accuracy"] = 0.5
    table = runs.runs_table(tidy).set_index("variant")
    assert table.loc["h16", "mechanism"] == "emt_linear 2/3, collapsed 1/3"
    assert table.loc["h32", "mechanism"] == "emt_linear 3/3"
    bare = runs.runs_table(
        tidy_two_variants().drop(columns=list(runs.CENSUS_COLUMNS), errors="ignore")
    )
    assert bare["mechanism"].isna().all()
