"""Table 1 as pandas operations on the tidy table: min over thresholds, mean over seeds, validity.

The previous implementation (a loop over flat metrics records) is kept below as the reference the
pandas version must agree with, cell by cell, on the same models.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vbpipe.evaluation.table1 import format_cell, table1_csv, table1_frame, table1_latex
from vbpipe.results.records import empty_metrics
from vbpipe.results.table import records_to_table
from vbpipe.tasks import PAPER_TASKS, task_label

T1 = [str(t) for t in PAPER_TASKS["T1"]]
T3 = [str(t) for t in PAPER_TASKS["T3"]]


def spec(task, hidden, l2, thr, seed, acc, err, n_rnn=64, n_theory=64, d=8, length=8):
    return {
        "task_id": task,
        "input_dim": d,
        "seq_length": length,
        "hidden_dim": hidden,
        "l2_penalty": l2,
        "curriculum_threshold": thr,
        "seed": seed,
        "accuracy": acc,
        "spectral_error": err,
        "n_rnn": n_rnn,
        "n_theory": n_theory,
    }


def metrics_record(s: dict) -> dict:
    """A contract metrics record of one model evaluated at its training length."""
    record = empty_metrics([s["seq_length"]])
    variant = f"h{s['hidden_dim']}-l2_{s['l2_penalty']}-thr{s['curriculum_threshold']}"
    record["identity"] = {
        "experiment": "exp",
        "variant": f"{'_'.join(s['task_id'])}-{variant}",
        "seed": s["seed"],
        "model_name": f"model-{s['seed']}",
    }
    record["params"] = {
        k: s[k]
        for k in (
            "task_id",
            "input_dim",
            "seq_length",
            "hidden_dim",
            "l2_penalty",
            "curriculum_threshold",
            "seed",
        )
    }
    record["task_label"] = task_label(tuple(int(t) for t in s["task_id"]), s["input_dim"])
    record["model"]["accuracy"] = s["accuracy"]
    entry = record["lengths"][0]
    entry.update(
        spectral_error=s["spectral_error"],
        n_unit_circle_rnn=s["n_rnn"],
        n_unit_circle_theory=s["n_theory"],
        accuracy=s["accuracy"],
    )
    return record


def old_rows(specs, seq_length=None, accuracy_threshold=0.9, require_count_match=False):
    """The previous loop-based rule on flat records (reference)."""
    groups = defaultdict(lambda: defaultdict(list))
    labels = {}
    for s in specs:
        ids = tuple(int(t) for t in s["task_id"])
        key = (ids, int(s["hidden_dim"]), float(s["l2_penalty"] or 0.0))
        labels[ids] = task_label(ids, s["input_dim"])
        groups[key][s["seed"]].append(s)

    def valid(s):
        length = seq_length if seq_length is not None else s["seq_length"]
        if length != s["seq_length"]:
            return None  # evaluated only at its training length
        acc, err = s["accuracy"], s["spectral_error"]
        if acc is None or acc <= accuracy_threshold or err is None:
            return None
        if require_count_match and s["n_rnn"] != s["n_theory"]:
            return None
        return err

    rows = {}
    for key, seeds in groups.items():
        accs, errs, n_models = [], [], 0
        for models in seeds.values():
            n_models += len(models)
            a = [m["accuracy"] for m in models if m["accuracy"] is not None]
            if a:
                accs.append(max(a))
            e = [v for v in (valid(m) for m in models) if v is not None]
            if e:
                errs.append(min(e))
        rows[(labels[key[0]], key[1], key[2])] = {
            "spectral_error": float(np.mean(errs)) if errs else None,
            "accuracy": float(np.mean(accs)) if accs else None,
            "n_seeds": len(seeds),
            "n_valid_seeds": len(errs),
            "n_models": n_models,
        }
    return rows


SPECS = [
    # T1, h128, L2 0: seed 1 min(0.002, 0.004) = 0.002, acc max(0.99, 0.97) = 0.99
    spec(T1, 128, 0.0, 0.9, 1, 0.99, 0.004),
    spec(T1, 128, 0.0, 0.98, 1, 0.97, 0.002),
    # seed 2: the 0.98 model is invalid (accuracy <= 0.9): min over the valid one = 0.006; acc 0.95
    spec(T1, 128, 0.0, 0.9, 2, 0.95, 0.006),
    spec(T1, 128, 0.0, 0.98, 2, 0.85, 0.0001),
    # T1, h128, L2 0.1: all at chance -> no valid error
    spec(T1, 128, 0.1, 0.9, 1, 0.5, None),
    spec(T1, 128, 0.1, 0.98, 1, 0.51, 0.3),
    # T3, h64, L2 0.001
    spec(T3, 64, 0.001, 0.9, 1, 0.96, 0.010, 40, 36),
    spec(T3, 64, 0.001, 0.9, 2, 0.98, 0.020, 36, 36),
]


def frame(specs, **options):
    return table1_frame(records_to_table([metrics_record(s) for s in specs]), **options)


def by_cell(df):
    return {(r.task, r.hidden_dim, r.l2_penalty): r for r in df.itertuples(index=False)}


def test_rows_follow_the_papers_aggregation():
    rows = by_cell(frame(SPECS))
    cell = rows[("T1", 128, 0.0)]
    assert cell.spectral_error == pytest.approx((0.002 + 0.006) / 2)
    assert cell.accuracy == pytest.approx((0.99 + 0.95) / 2)
    assert (cell.n_seeds, cell.n_valid_seeds, cell.n_models) == (2, 2, 4)
    assert cell.cell == "0.0040 (0.97)"
    chance = rows[("T1", 128, 0.1)]
    assert np.isnan(chance.spectral_error) and chance.cell == "— (0.51)"
    t3 = rows[("T3", 64, 0.001)]
    assert t3.spectral_error == pytest.approx(0.015)
    assert t3.task_id == ",".join(T3)


def test_count_match_option_mimics_the_original_nan_rule():
    t3 = by_cell(frame(SPECS, require_count_match=True))[("T3", 64, 0.001)]
    assert t3.spectral_error == pytest.approx(0.020) and t3.n_valid_seeds == 1


def test_paper_errors_replace_the_stored_error_and_keep_it_beside():
    table = records_to_table([metrics_record(s) for s in SPECS])
    # the paper's rule drops a count mismatch (NaN) and, here, doubles the others (greedy >= Hungarian)
    match = (table["n_unit_circle_rnn"] == table["n_unit_circle_theory"]).to_numpy()
    paper = np.where(match, 2 * table["spectral_error"].astype(float).to_numpy(), np.nan)
    rows = by_cell(table1_frame(table, paper_errors=paper))
    t3 = rows[("T3", 64, 0.001)]
    assert t3.spectral_error == pytest.approx(0.040) and t3.n_valid_seeds == 1  # 2 x 0.020
    assert t3.spectral_error_hungarian == pytest.approx(0.015) and t3.n_valid_seeds_hungarian == 2
    t1 = rows[("T1", 128, 0.0)]
    assert t1.spectral_error == pytest.approx(0.008) and t1.spectral_error_hungarian == 0.004
    df = table1_frame(table, paper_errors=paper)
    assert "paper's rule" in df.attrs["spectral_rule"] and "paper's rule" in table1_latex(df)
    assert "Hungarian" in table1_latex(frame(SPECS))
    with pytest.raises(ValueError, match="3 paper-rule errors for 8 table rows"):
        table1_frame(table, paper_errors=paper[:3])


def test_rows_are_ordered_and_unknown_tasks_labelled_by_id():
    other = spec(["7", "4", "5"], 16, 0.0, 0.9, 1, 1.0, 0.0, d=3, length=3)
    assert list(frame([other, *SPECS])["task"]) == ["T1", "T1", "T3", "7_4_5"]


def assert_same_as_old(specs, **options):
    new = by_cell(frame(specs, **options))
    old = old_rows(specs, **options)
    assert set(new) == set(old)
    for key, expected in old.items():
        got = new[key]
        if expected["spectral_error"] is None:
            assert np.isnan(got.spectral_error), key
        else:
            assert got.spectral_error == pytest.approx(expected["spectral_error"], rel=1e-12)
        assert got.accuracy == pytest.approx(expected["accuracy"], rel=1e-12)
        assert (got.n_seeds, got.n_valid_seeds, got.n_models) == (
            expected["n_seeds"],
            expected["n_valid_seeds"],
            expected["n_models"],
        )
        assert got.cell == format_cell(expected["spectral_error"], expected["accuracy"])


@pytest.mark.parametrize("options", [{}, {"require_count_match": True}, {"seq_length": 8}])
def test_table1_equals_the_old_rule_on_the_same_records(options):
    assert_same_as_old(SPECS, **options)


model_specs = st.builds(
    spec,
    task=st.sampled_from([T1, T3]),
    hidden=st.sampled_from([32, 64, 128]),
    l2=st.sampled_from([0.0, 0.001, 0.1]),
    thr=st.sampled_from([0.9, 0.98]),
    seed=st.integers(1, 4),
    acc=st.one_of(st.floats(0.0, 1.0), st.just(0.9)),
    err=st.one_of(st.none(), st.floats(0.0, 0.5)),
    n_rnn=st.integers(30, 70),
    n_theory=st.sampled_from([36, 64]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(model_specs, min_size=1, max_size=25))
def test_table1_equals_the_old_rule_on_random_records(specs):
    seen, unique = set(), []
    for s in specs:  # one model per (variant, seed)
        key = (tuple(s["task_id"]), s["hidden_dim"], s["l2_penalty"], s["curriculum_threshold"])
        if (key, s["seed"]) not in seen:
            seen.add((key, s["seed"]))
            unique.append(s)
    assert_same_as_old(unique)
    assert_same_as_old(unique, require_count_match=True)


def test_csv_and_latex_text():
    df = frame(SPECS)
    parsed = list(csv.DictReader(io.StringIO(table1_csv(df))))
    assert list(parsed[0]) == [
        "task",
        "task_id",
        "model_type",
        "hidden_dim",
        "l2_penalty",
        "spectral_error",
        "accuracy",
        "n_seeds",
        "n_valid_seeds",
        "n_models",
        "cell",
        "spectral_error_hungarian",
        "n_valid_seeds_hungarian",
    ]
    assert parsed[0]["task"] == "T1" and float(parsed[0]["spectral_error"]) == pytest.approx(0.004)
    assert {row["model_type"] for row in parsed} == {"rnn"}  # no model_type parameter: trained
    assert parsed[1]["spectral_error"] == ""
    tex = table1_latex(df)
    assert r"\multicolumn{3}{c}{hidden 64}" in tex and r"\multicolumn{3}{c}{hidden 128}" in tex
    assert "T1 &  &  &  & 0.0040 (0.97) &  & --- (0.51) \\\\" in tex
    assert tex.count(r"\\") == 2 + 2  # two header rows, two task rows
    assert format_cell(None, None) == "—"


def test_range_models_have_no_error_without_a_length():
    ranged = spec(T1, 64, 0.0, 0.9, 1, 0.99, 0.01, length=8)
    record = metrics_record(ranged)
    record["params"]["seq_length"] = [7, 8]
    df = table1_frame(records_to_table([record]))
    assert np.isnan(df["spectral_error"][0]) and df["accuracy"][0] == pytest.approx(0.99)
    df = table1_frame(records_to_table([record]), seq_length=8)
    assert df["spectral_error"][0] == pytest.approx(0.01)


def test_circuits_get_cells_of_their_own():
    """A naive circuit (0.83) and a gated one (1.0) of the same task, hidden size and seed are two
    cells: merged, the per-seed max would report the naive circuit as exact."""
    records = []
    for kind, accuracy in (("circuit_naive", 0.83), ("circuit_gated", 1.0), ("rnn", 0.97)):
        record = metrics_record(spec(T1, 128, 0.0, 0.9, 1, accuracy, 1e-9))
        record["params"]["model_type"] = kind
        record["identity"]["variant"] += f"-{kind}"
        records.append(record)
    df = table1_frame(records_to_table(records))
    assert list(df["model_type"]) == ["rnn", "circuit_gated", "circuit_naive"]
    assert list(df["accuracy"]) == pytest.approx([0.97, 1.0, 0.83])
    assert list(df["n_models"]) == [1, 1, 1]
    tex = table1_latex(df)
    assert "T1 (circuit\\_naive) & --- (0.83)" in tex, tex  # not solved: no valid error


def test_controls_get_cells_of_their_own():
    """A linear RNN and a circuit start of the same task, hidden size and seed are cells of their
    own; a model without the keys (trained before they existed) is the plain trained rnn."""
    records = []
    for params, accuracy in (({}, 0.97), ({"activation": "linear"}, 0.6),
                             ({"init": "circuit_gated"}, 1.0)):  # fmt: skip
        record = metrics_record(spec(T1, 128, 0.0, 0.9, 1, accuracy, 1e-9))
        record["params"].update(params)
        record["identity"]["variant"] += "-" + "-".join(params.values())
        records.append(record)
    df = table1_frame(records_to_table(records))
    assert sorted(df["model_type"]) == ["rnn", "rnn (init circuit_gated)", "rnn (linear)"]
    by_kind = dict(zip(df["model_type"], df["accuracy"], strict=True))
    assert by_kind == {"rnn": 0.97, "rnn (linear)": 0.6, "rnn (init circuit_gated)": 1.0}
