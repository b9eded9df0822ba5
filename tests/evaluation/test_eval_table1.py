"""Table 1 from synthetic metrics records: min over thresholds, mean over seeds, validity rule."""

from __future__ import annotations

import csv
import io

import pytest

from vbpipe.evaluation.run import run_table1
from vbpipe.evaluation.table1 import format_cell, table1_csv, table1_latex, table1_rows
from vbpipe.tasks import PAPER_TASKS

T1 = [str(t) for t in PAPER_TASKS["T1"]]
T3 = [str(t) for t in PAPER_TASKS["T3"]]


def rec(task, hidden, l2, thr, seed, acc, err, n_rnn=64, n_theory=64, label=None):
    return {
        "task_id": task,
        "task_label": label,
        "input_dim": 8,
        "seq_length": 8,
        "hidden_dim": hidden,
        "l2_penalty": l2,
        "curriculum_threshold": thr,
        "seed": seed,
        "accuracy": acc,
        "spectral_error_seq8": err,
        "n_unit_circle_rnn_seq8": n_rnn,
        "n_unit_circle_theory_seq8": n_theory,
    }


RECORDS = [
    # T1, h128, L2 0: seed 1 min(0.002, 0.004) = 0.002, acc max(0.99, 0.97) = 0.99
    rec(T1, 128, 0.0, 0.9, 1, 0.99, 0.004),
    rec(T1, 128, 0.0, 0.98, 1, 0.97, 0.002),
    # seed 2: the 0.98 model is invalid (accuracy <= 0.9): min over the valid one = 0.006; acc 0.95
    rec(T1, 128, 0.0, 0.9, 2, 0.95, 0.006),
    rec(T1, 128, 0.0, 0.98, 2, 0.85, 0.0001),
    # T1, h128, L2 0.1: all at chance -> no valid error
    rec(T1, 128, 0.1, 0.9, 1, 0.5, None),
    rec(T1, 128, 0.1, 0.98, 1, 0.51, 0.3),
    # T3, h64, L2 0.001 (given by the id, labelled from it)
    rec(T3, 64, 0.001, 0.9, 1, 0.96, 0.010, 40, 36),
    rec(T3, 64, 0.001, 0.9, 2, 0.98, 0.020, 36, 36),
]


def test_rows_follow_the_papers_aggregation():
    rows = {(r["task"], r["hidden_dim"], r["l2_penalty"]): r for r in table1_rows(RECORDS)}
    cell = rows[("T1", 128, 0.0)]
    assert cell["spectral_error"] == pytest.approx((0.002 + 0.006) / 2)
    assert cell["accuracy"] == pytest.approx((0.99 + 0.95) / 2)
    assert (cell["n_seeds"], cell["n_valid_seeds"], cell["n_models"]) == (2, 2, 4)
    assert cell["cell"] == "0.0040 (0.97)"
    chance = rows[("T1", 128, 0.1)]
    assert chance["spectral_error"] is None and chance["cell"] == "— (0.51)"
    t3 = rows[("T3", 64, 0.001)]
    assert t3["spectral_error"] == pytest.approx(0.015)
    assert t3["task_id"] == ",".join(T3)


def test_count_match_option_mimics_the_original_nan_rule():
    rows = table1_rows(RECORDS, require_count_match=True)
    t3 = next(r for r in rows if r["task"] == "T3")
    assert t3["spectral_error"] == pytest.approx(0.020) and t3["n_valid_seeds"] == 1


def test_rows_are_ordered_and_unknown_tasks_labelled_by_id():
    other = rec(["7", "4", "5"], 16, 0.0, 0.9, 1, 1.0, 0.0)
    other["input_dim"] = 3
    rows = table1_rows([other, *RECORDS])
    assert [r["task"] for r in rows] == ["T1", "T1", "T3", "7_4_5"]


def test_csv_and_latex_text():
    rows = table1_rows(RECORDS)
    parsed = list(csv.DictReader(io.StringIO(table1_csv(rows))))
    assert parsed[0]["task"] == "T1" and float(parsed[0]["spectral_error"]) == pytest.approx(0.004)
    assert parsed[1]["spectral_error"] == ""
    tex = table1_latex(rows)
    assert r"\multicolumn{3}{c}{hidden 64}" in tex and r"\multicolumn{3}{c}{hidden 128}" in tex
    assert "T1 &  &  &  & 0.0040 (0.97) &  & --- (0.51) \\\\" in tex
    assert tex.count(r"\\") == 2 + 2  # two header rows, two task rows
    assert format_cell(None, None) == "—"


def test_run_table1_from_metrics_files_and_summary(tmp_path):
    import json

    paths = []
    for i, record in enumerate(RECORDS):
        path = tmp_path / f"m{i}" / "metrics.json"
        path.parent.mkdir()
        path.write_text(json.dumps(record))
        paths.append(path)
    summary = tmp_path / "evaluation_summary.json"
    summary.write_text(json.dumps({"metrics": RECORDS}))
    a = run_table1(paths, tmp_path / "a.csv", tmp_path / "a.tex")
    b = run_table1([summary], tmp_path / "b.csv", tmp_path / "b.tex")
    assert a[0].read_text() == b[0].read_text()
    assert a[1].read_text() == b[1].read_text()
    assert "0.0040 (0.97)" in a[0].read_text()
