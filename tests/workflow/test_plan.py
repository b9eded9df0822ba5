"""The parse-time plan: which models are current (sidecar stamp, size, checksum), how the others are
packed, stale locks, and code fingerprints derived from imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from vbpipe.config.experiments import load_workflow_config
from vbpipe.fingerprint import code_fingerprint, module_closure
from vbpipe.plan import (
    STAMP_EXCLUDES,
    TRAINING_MODULE,
    disk_state,
    model_stamp,
    plan_training,
    training_code,
)
from vbpipe.runlock import release_stale_lock
from vbpipe.sidecar import write_sidecar

ROOT = Path(__file__).resolve().parents[2]

GRID = """
experiments:
  a:
    training: {input_dim: 3, seq_length: 2, epochs: 1, steps_per_epoch: 5}
    sweep: {l2_penalty: [0.0, 0.1], hidden_dim: [8, 12]}
    seeds: {first: 1, count: 3}
  b:
    training: {input_dim: 3, seq_length: 2, hidden_dim: 8, epochs: 1, steps_per_epoch: 5, task_id: '7,1,0'}
    seeds: [5]
execution: {models_per_job: 4}
"""


def config(tmp_path, text=GRID, **cli):
    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent(text))
    return load_workflow_config([path], cli)


def fake_train(model, stamp):
    """What the training job leaves: model.pt, then its sidecar."""
    path = Path(model.checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(64))
    write_sidecar(path, stamp, {"steps": 5})


def test_models_pack_by_shape_across_variants_and_experiments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = plan_training(config(tmp_path), code="c1")
    assert len(plan.models) == 2 * 2 * 3 + 1 and plan.n_current == 0
    shapes = {}
    for pack in plan.packs:
        assert len({m.variant.config.shapes for m in pack.members}) == 1
        shapes.setdefault(pack.members[0].variant.config.hidden_dim, []).append(len(pack.members))
    # hidden 8: 6 models of a (two L2 values) + b's model, packed across experiments: 7 -> 4 + 3
    assert sorted(shapes[8]) == [3, 4] and sorted(shapes[12]) == [3, 3]
    assert all(m.model_dir.startswith("results/") for p in plan.packs for m in p.members)


def test_only_stale_models_are_planned_and_packing_never_retrains(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = plan_training(config(tmp_path), code="c1")
    for pack in first.packs[:2]:
        for model, stamp in zip(pack.members, pack.stamps, strict=True):
            fake_train(model, stamp)
    done = sum(len(p.members) for p in first.packs[:2])
    again = plan_training(config(tmp_path), code="c1")
    assert again.n_current == done and sum(len(p.members) for p in again.packs) == 13 - done
    regrouped = plan_training(config(tmp_path, **{"execution.models_per_job": 1}), code="c1")
    assert regrouped.n_current == done  # another packing retrains nothing
    changed = plan_training(config(tmp_path), code="c2")
    assert changed.n_current == 0  # new training code: every model is stale


def test_changing_one_variant_makes_only_its_models_stale(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = plan_training(config(tmp_path), code="c1")
    for pack in plan.packs:
        for model, stamp in zip(pack.members, pack.stamps, strict=True):
            fake_train(model, stamp)
    edited = GRID.replace("task_id: '7,1,0'", "task_id: '7,1,0', learning_rate: 0.01")
    after = plan_training(config(tmp_path, edited), code="c1")
    stale = [m for p in after.packs for m in p.members]
    assert [(m.experiment, m.seed) for m in stale] == [("b", 5)]
    more_seeds = GRID.replace("seeds: [5]", "seeds: [5, 6]")
    after = plan_training(config(tmp_path, more_seeds), code="c1")
    assert [(m.experiment, m.seed) for p in after.packs for m in p.members] == [("b", 6)]


def test_disk_states(tmp_path):
    checkpoint = tmp_path / "model.pt"
    assert disk_state(checkpoint, "s") == "missing"
    checkpoint.write_bytes(b"x" * 10)
    assert disk_state(checkpoint, "s") == "no-sidecar"
    write_sidecar(checkpoint, "s", {})
    assert disk_state(checkpoint, "s") == "current"
    assert disk_state(checkpoint, "t").startswith("stale")
    checkpoint.write_bytes(b"y" * 10)  # same size, other bytes: a corrupt checkpoint
    assert disk_state(checkpoint, "s").startswith("corrupt")


def test_stamps_depend_on_parameters_seed_and_code(tmp_path):
    from vbpipe.config import TrainConfig

    a, b = TrainConfig(), TrainConfig(learning_rate=0.002)
    assert model_stamp(a, 1, "c") == model_stamp(TrainConfig(), 1, "c")
    assert len({model_stamp(a, 1, "c"), model_stamp(b, 1, "c"), model_stamp(a, 2, "c"),
                model_stamp(a, 1, "d")}) == 4  # fmt: skip


def test_fingerprints_follow_imports(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("from vbpipe.config.experiments import load_workflow_config\n")
    files = {p.relative_to(ROOT / "src" / "vbpipe").as_posix() for p in module_closure(script)}
    assert {"config/experiments.py", "config/training.py", "taskspec.py", "__init__.py"} <= files
    assert not any(f.startswith(("training", "evaluation", "analysis")) for f in files), files
    train = {p.name for p in module_closure(module="vbpipe.jobs.train")}
    # training does not rerun when the YAML reader or another config section changes
    assert {"training.py", "base.py"} <= train and not {"experiments.py", "sections.py"} & train
    # nor when a file name is added to the layout (names cannot change a model)
    stamped = {p.relative_to(ROOT / "src" / "vbpipe").as_posix()
               for p in module_closure(module=TRAINING_MODULE, exclude=STAMP_EXCLUDES)}  # fmt: skip
    assert "results/layout.py" not in stamped and "training/pack.py" in stamped
    assert training_code() == code_fingerprint(module=TRAINING_MODULE, exclude=STAMP_EXCLUDES)
    assert training_code() != code_fingerprint(module=TRAINING_MODULE)


def _stages_running(module_file: str) -> set[str]:
    """The workflow scripts (stages) whose code fingerprint covers ``module_file``."""
    return {
        script.stem
        for script in sorted((ROOT / "workflow" / "scripts").glob("*.py"))
        if any(p.as_posix().endswith(f"vbpipe/{module_file}") for p in module_closure(script))
    }


def test_each_stage_fingerprint_covers_its_own_rooms():
    """Issue 15: an edit reruns the stage that runs the edited code and what reads its outputs,
    never a stage upstream (or beside) it."""
    upstream = {"train_pack", "evaluate_block", "model_figures"}
    table = _stages_running("results/table.py")
    assert "aggregate" in table and not upstream & table, table
    assert _stages_running("analysis/persistence.py") == {"analyze_persistence"}
    # the training kernel lives in training/: training runs it, and the controls, which rebuild each
    # model's start from its configuration; no evaluation or aggregation does
    assert _stages_running("training/kernel.py") == {"train_pack", "analyze_controls"}
    assert _stages_running("jobs/eigenvalue.py") == {"analyze_eigenvalue"}
    # the runs table classifies each variant with the census (its mechanism column)
    assert _stages_running("analysis/census.py") == {"analyze_census", "runs_table"}
    assert _stages_running("jobs/census.py") == {"analyze_census"}
    assert _stages_running("evaluation/table1.py") == {"aggregate", "reproduction"}
    assert "train_pack" not in _stages_running("results/records.py")
    records = _stages_running("results/records.py")
    assert "evaluate_block" in records and "model_figures" in records


def test_parse_time_modules_do_not_import_torch():
    code = (
        "import sys, vbpipe.config.experiments, vbpipe.plan, vbpipe.fingerprint, vbpipe.runlock; "
        "print(sorted(m for m in ('torch', 'pytorch_lightning', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_stale_lock_of_a_dead_local_run_is_released(tmp_path):
    dotdir = tmp_path / ".snakemake"
    assert release_stale_lock(dotdir) is False  # no lock: just records the owner
    owner = json.loads((dotdir / "vbpipe" / "owner.json").read_text())
    assert owner["pid"] == os.getpid()
    (dotdir / "locks").mkdir()
    (dotdir / "locks" / "0.output.lock").write_text("results/x\n")
    assert release_stale_lock(dotdir) is False  # the owner (this process) is alive: kept
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (dotdir / "vbpipe" / "owner.json").write_text(json.dumps({**owner, "pid": dead.pid}))
    assert release_stale_lock(dotdir) is True
    assert not any((dotdir / "locks").iterdir())
    (dotdir / "locks" / "0.output.lock").write_text("results/x\n")
    (dotdir / "vbpipe" / "owner.json").write_text(
        json.dumps({"host": "elsewhere", "pid": dead.pid})
    )
    assert release_stale_lock(dotdir) is False  # another host's lock is never touched
