"""The cost model (vbpipe.costmodel) and packs sized by it: known answers for the interpolation, the runtime
parser, and a runtime that fits exactly N members giving packs of N."""

from __future__ import annotations

import subprocess
import textwrap

import pytest
from helpers.workflow import SNAKEMAKE, copy_project

from vbpipe.config import ConfigError, TrainConfig
from vbpipe.config.experiments import load_workflow_config
from vbpipe.costmodel import (
    CPU_TABLE,
    CostModelError,
    CostTable,
    device_kind,
    load_table,
    members_that_fit,
    model_step_seconds,
    pack_seconds,
    runtime_minutes,
    table_for,
    time_steps,
)
from vbpipe.plan import plan_training

#: 10 ms per pack step plus 5 ms per member, whatever the shapes: easy arithmetic.
FLAT = CostTable("cpu", 0.010, {8: ((1, 0.005), (1000, 0.005))}, "test")

GRID = """
experiments:
  a:
    training: {{input_dim: 3, seq_length: 2, hidden_dim: 8, epochs: 1, steps_per_epoch: 1000}}
    seeds: {{first: 1, count: 12}}
execution: {{models_per_job: {size}, accelerator: cpu, runtime_fill: {fill}{resources}}}
"""


def grid(tmp_path, size=64, fill=0.5, runtime=1):
    resources = "" if runtime is None else f", train_resources: {{runtime: {runtime!r}}}"
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent(GRID.format(size=size, fill=fill, resources=resources)))
    return load_workflow_config([path], {})


def sizes(plan):
    return [len(p.members) for p in plan.packs]


def test_a_runtime_that_fits_exactly_n_members_gets_packs_of_n(tmp_path, monkeypatch):
    # budget 0.5 * 60 s = 30 s = 1000 steps * (10 ms + 4 * 5 ms): exactly four members
    monkeypatch.chdir(tmp_path)
    plan = plan_training(grid(tmp_path), code="c", table=FLAT)
    assert sizes(plan) == [4, 4, 4]
    assert [p.expected_seconds for p in plan.packs] == pytest.approx([30.0] * 3)
    assert plan.packs[0].expectation() == "4 models, expected 30 s on cpu of a 60 s runtime"
    # a little less room: three fit (12 models -> four packs of three)
    assert sizes(plan_training(grid(tmp_path, fill=0.49), code="c", table=FLAT)) == [3] * 4
    # models_per_job stays the upper bound
    assert sizes(plan_training(grid(tmp_path, size=2), code="c", table=FLAT)) == [2] * 6


def test_without_a_runtime_packs_are_sized_by_models_per_job_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = plan_training(grid(tmp_path, size=5, runtime=None), code="c", table=FLAT)
    assert sizes(plan) == [4, 4, 4]  # ceil(12 / 5) = 3 near-equal packs, as before the cost model
    assert plan.packs[0].runtime_seconds is None
    assert plan.packs[0].expectation() == "4 models, expected 30 s on cpu"


def test_a_member_too_slow_for_the_runtime_still_gets_a_job_of_its_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = plan_training(grid(tmp_path, runtime="1s"), code="c", table=FLAT)
    assert sizes(plan) == [1] * 12


def test_stamps_do_not_depend_on_the_pack_size(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stamps = []
    for fill in (0.5, 0.3, 1.0):
        plan = plan_training(grid(tmp_path, fill=fill), code="c", table=FLAT)
        stamps.append(
            {m.model_dir: s for p in plan.packs for m, s in zip(p.members, p.stamps, strict=True)}
        )
    assert stamps[0] == stamps[1] == stamps[2] and len(stamps[0]) == 12


def test_the_table_is_exact_at_measured_points_and_linear_between():
    assert model_step_seconds(CPU_TABLE, 128, 18) == pytest.approx(0.00159)
    assert model_step_seconds(CPU_TABLE, 128, 108) == pytest.approx(0.0094)
    assert model_step_seconds(CPU_TABLE, 128, 63) == pytest.approx((0.00159 + 0.0094) / 2)
    assert model_step_seconds(CPU_TABLE, 128, 5) == pytest.approx(0.00159)  # never below T = 18's
    assert model_step_seconds(CPU_TABLE, 128, 198) == pytest.approx(0.0094 + (0.0094 - 0.00159))
    # between hidden 64 and 128, linear in hidden**2: hidden sqrt((64^2 + 128^2) / 2) is halfway
    middle = ((64**2 + 128**2) / 2) ** 0.5
    assert model_step_seconds(CPU_TABLE, middle, 108) == pytest.approx((0.0033 + 0.0094) / 2)
    assert model_step_seconds(CPU_TABLE, 256, 108) == pytest.approx(4 * 0.0094)
    assert model_step_seconds(CPU_TABLE, 16, 108) == pytest.approx(0.0016)  # the smallest's cost
    assert model_step_seconds(CPU_TABLE, 128, 108, batch=32) == pytest.approx(0.0047)


def test_time_steps_and_pack_seconds():
    config = TrainConfig(seq_length=8, curriculum_horizons=[10, 100], epochs=2, steps_per_epoch=10)
    assert time_steps(config) == 108
    assert time_steps(TrainConfig(seq_length=[3, 7], use_eos=True, curriculum=False)) == 7 + 36 + 1
    expected = 20 * (CPU_TABLE.overhead_s + 3 * 0.0094)
    assert pack_seconds(CPU_TABLE, [config] * 3) == pytest.approx(expected)
    assert members_that_fit(CPU_TABLE, [config], expected) == 3


@pytest.mark.parametrize(
    "value, minutes",
    [
        (240, 240),
        ("4h", 240),
        ("90m", 90),
        ("90min", 90),
        ("1d", 1440),
        ("2h30m", 150),
        ("30s", 0.5),
    ],
)
def test_runtime_minutes(value, minutes):
    assert runtime_minutes(value) == pytest.approx(minutes)


@pytest.mark.parametrize("value", ["soon", "4 weeks", 0, -5, "0h", True])
def test_a_bad_runtime_is_refused_by_the_config(tmp_path, value):
    with pytest.raises(ConfigError, match="runtime"):
        grid(tmp_path, runtime=value)


@pytest.mark.parametrize("fill", [0, -0.1, 1.5])
def test_runtime_fill_is_validated(tmp_path, fill):
    with pytest.raises(ConfigError, match="runtime_fill"):
        grid(tmp_path, fill=fill)


def test_device_kind():
    assert device_kind("cpu", {"gpu": 1}) == "cpu"
    assert device_kind("auto", {"gpu": 1}) == "gpu"
    assert device_kind("auto", {}) == "cpu"
    assert device_kind("auto", {"gpu": "a100:1"}) == "gpu"


def test_a_measured_table_round_trips_and_must_match_the_device(tmp_path):
    path = tmp_path / "gpu.json"
    import json

    table = CostTable("gpu", 0.002, {128: ((18, 1e-5), (108, 4e-5))}, "measured")
    path.write_text(json.dumps(table.to_dict()))
    assert load_table(path) == table
    assert table_for("gpu", str(path)) == table
    with pytest.raises(CostModelError, match="for device gpu"):
        table_for("cpu", str(path))
    path.write_text("{}")
    with pytest.raises(CostModelError, match="not a table"):
        load_table(path)
    with pytest.raises(CostModelError, match="seconds > 0"):
        CostTable("cpu", 0.0, {8: ((10, -1.0),)}, "bad")


@pytest.mark.slow
def test_the_dry_run_of_the_paper_config_says_what_each_training_job_expects(tmp_path):
    project = copy_project(tmp_path)
    result = subprocess.run(
        [*SNAKEMAKE, "-n", "--cores", "2", "--configfile", "config/config.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout + result.stderr
    lines = [line for line in text.splitlines() if line.startswith("vbpipe: train_d8_")]
    assert lines and all("on gpu of a 4.0 h runtime" in line for line in lines), lines
    assert any("640 models, expected" in line for line in lines), lines
