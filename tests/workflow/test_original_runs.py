"""An experiment of runs made by the original project (``experiments.NAME.original_runs: DIR``):
discovered and checked when the config is read, so that every mistake stops the run in one line,
before any job; never trained, never written to."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from helpers.original_runs import (
    HIDDEN,
    LENGTH,
    D,
    original_config,
    original_hparams,
    write_original_ckpt,
)

from vbpipe.config import ConfigError
from vbpipe.config.docs import json_schema
from vbpipe.config.experiments import load_workflow_config
from vbpipe.original_runs import lightning_checkpoint_in
from vbpipe.plan import plan_training
from vbpipe.retrain import choose_models
from vbpipe.tasks import Task

TASK_ID = Task("repeat_copy", D, LENGTH).task_id
VARIANT = f"copy-L{LENGTH}-h{HIDDEN}-l2_0-thr0.96"


def random_weights(seed: int, hidden: int = HIDDEN) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "W_ih": rng.normal(0, 0.3, (hidden, D)),
        "W_hh": rng.normal(0, 0.3, (hidden, hidden)),
        "W_r": rng.normal(0, 0.3, (D, hidden)),
    }


def make_source(root: Path, numbers=(1, 2), **hparams) -> Path:
    """An original experiment: config.json and ``model-<i>`` (seed 1000 (i-1)) for each number."""
    original_config(root, TASK_ID, len(numbers))
    for i in numbers:
        seed = 1000 * (i - 1)
        hyper = original_hparams(TASK_ID, seed, **hparams)
        write_original_ckpt(root / f"model-{i}", random_weights(seed), hyper)
    return root


def write_config(tmp_path: Path, source, extra: str = "", run: str = "") -> Path:
    """``orig.yaml``: the experiment ``orig`` (its ``original_runs:`` on line 3) and ``extra``."""
    value = json.dumps(str(source)) if isinstance(source, Path) else source
    text = (
        f"{run}experiments:\n  orig:\n    original_runs: {value}\n"
        f"    evaluation: {{test_horizon: 30, n_batches: 2}}\n{extra}"
    )
    path = tmp_path / "orig.yaml"
    path.write_text(text)
    return path


def refusal(tmp_path: Path, source, extra: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        load_workflow_config([write_config(tmp_path, source, extra)])
    return str(info.value)


def test_an_original_experiment_is_one_variant_of_its_model_directories(tmp_path):
    root = make_source(tmp_path / "exp", numbers=(1, 2, 10))
    config = load_workflow_config([write_config(tmp_path, root)])
    experiment = config.experiments["orig"]
    assert experiment.original_runs == str(root)
    [variant] = experiment.variants
    assert variant.name == VARIANT
    assert (variant.config.input_dim, variant.config.seq_length) == (D, LENGTH)
    assert variant.config.hidden_dim == HIDDEN and variant.config.epochs == 2  # from config.json
    assert variant.seeds == (1, 2, 10)  # the model numbers: results/orig/VARIANT/model-<i>/
    assert variant.training_seeds == (0, 1000, 9000)  # from each checkpoint
    assert [m.checkpoint for m in variant.original] == [
        str(lightning_checkpoint_in(root / f"model-{i}")) for i in (1, 2, 10)
    ]
    assert experiment.lengths(variant) == (LENGTH,)


def test_original_runs_are_never_planned_for_training_nor_retrained(tmp_path):
    root = make_source(tmp_path / "exp")
    trained = (
        "  own:\n    training: {task_id: repeat_copy, input_dim: 3, seq_length: 2, "
        "hidden_dim: 8}\n    seeds: [5]\n"
    )
    config = load_workflow_config([write_config(tmp_path, root, trained)])
    plan = plan_training(config, code="test")
    assert [(m.experiment, m.seed) for m in plan.models] == [("own", 5)]
    assert [m.experiment for m in choose_models(config)] == ["own"]
    with pytest.raises(ConfigError, match="--experiment orig: .*original runs.*does not retrain"):
        choose_models(config, ["orig"])


def test_an_experiment_that_run_leaves_out_is_not_looked_for(tmp_path):
    other = "  own:\n    training: {input_dim: 3, seq_length: 2, hidden_dim: 8}\n    seeds: [5]\n"
    path = write_config(tmp_path, tmp_path / "elsewhere", other, run="run: [own]\n")
    assert list(load_workflow_config([path]).experiments) == ["own"]


# ---- each mistake: one line naming the config's file and line, the key and the problem ---------------
def _no_config(root):
    (root / "config.json").unlink()


def _bad_json(root):
    (root / "config.json").write_text("{not json")


def _no_models(root):
    for model_dir in root.glob("model-*"):
        shutil.rmtree(model_dir)


def _no_checkpoint(root):
    shutil.rmtree(root / "model-2" / "lightning_logs")


def _unnumbered(root):
    (root / "model-best").mkdir()


def _rewrite_config(root, **sections):
    config = json.loads((root / "config.json").read_text())
    for name, values in sections.items():
        config[name] = {**config[name], **values}
    (root / "config.json").write_text(json.dumps(config))


def _checkpoint_of_another_run(root):
    _rewrite_config(root, model={"hidden_dim": 16})


def _same_seed_twice(root):
    write_original_ckpt(root / "model-3", random_weights(3), original_hparams(TASK_ID, 1000))


def _infinite_checkpoint(root):
    hyper = original_hparams(TASK_ID, 4000, output_horizon=15, total_length=300)
    write_original_ckpt(root / "model-5", random_weights(5), hyper)


MISTAKES = {
    # name: (what is done to a good source directory, words the one-line message must hold)
    "missing directory": (lambda root: shutil.rmtree(root), ["no such directory"]),
    "a file, not a directory": (
        lambda root: (shutil.rmtree(root), root.write_text("x")),
        ["not a directory"],
    ),
    "no config.json": (_no_config, ["no config.json", "train_multiple.py"]),
    "config.json not JSON": (_bad_json, ["config.json: not valid JSON"]),
    "no model directories": (_no_models, ["no model-<i> directories", "lightning_logs"]),
    "a model without a checkpoint": (
        _no_checkpoint,
        ["model-2: no checkpoint", "lightning_logs/version_*/checkpoints/*.ckpt"],
    ),
    "a model directory without a number": (_unnumbered, ["model-best", "model-<i>"]),
    "an infinite-horizon run": (
        lambda root: _rewrite_config(root, task={"infinite_horizon": True, "output_horizon": 15}),
        ["config.json: an infinite-horizon run"],
    ),
    "a model type other than rnn": (
        lambda root: _rewrite_config(root, model={"type": "lstm"}),
        ["config.json: model.type 'lstm'", "only the original's rnn"],
    ),
    "an infinite-horizon checkpoint": (_infinite_checkpoint, ["model-5", "infinite-horizon"]),
    "a task id that does not parse": (
        lambda root: _rewrite_config(root, task={"task_id": "nonsense"}),
        ["config.json: ", "nonsense"],
    ),
    "a value vbpipe refuses": (
        lambda root: _rewrite_config(root, training={"curriculum_threshold": 1.5}),
        ["config.json: curriculum_threshold", "cannot evaluate this run"],
    ),
    "a checkpoint of another run": (
        _checkpoint_of_another_run,
        ["hyper_parameters say hidden_dim 12", "config.json says 16"],
    ),
    "two models of one seed": (_same_seed_twice, ["model-2 and model-3", "seed 1000"]),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_bad_original_experiment_is_refused_in_one_line(tmp_path, mistake):
    root = make_source(tmp_path / "exp")
    damage, words = MISTAKES[mistake]
    damage(root)
    message = refusal(tmp_path, root)
    assert "orig.yaml:3: experiments.orig.original_runs: " in message, message
    assert "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    "key, value",
    [("training", "{hidden_dim: 8}"), ("sweep", "{hidden_dim: [8, 16]}"), ("seeds", "[1, 2]")],
)
def test_training_keys_beside_original_runs_are_refused(tmp_path, key, value):
    root = make_source(tmp_path / "exp")
    message = refusal(tmp_path, root, f"    {key}: {value}\n")
    assert f"orig.yaml:5: experiments.orig.{key}: does not apply to original runs" in message


def test_a_path_that_snakemake_would_misread_or_vbpipe_writes_is_refused(tmp_path, monkeypatch):
    braces = make_source(tmp_path / "run{1}")
    assert "a brace" in refusal(tmp_path, braces)
    monkeypatch.chdir(tmp_path)
    inside = make_source(tmp_path / "results" / "old")
    assert "lies inside results/" in refusal(tmp_path, inside)
    assert "original_runs: input should be a valid string, got 3" in refusal(tmp_path, 3)
    assert "original_runs: string should have at least 1 character" in refusal(tmp_path, "''")


def test_reading_an_original_experiment_at_parse_time_imports_no_torch(tmp_path):
    path = write_config(tmp_path, make_source(tmp_path / "exp"))
    code = (
        "import sys; from vbpipe.config.experiments import load_workflow_config; "
        f"config = load_workflow_config([{str(path)!r}]); "
        "assert config.experiments['orig'].variants[0].training_seeds == (0, 1000); "
        "print(sorted(m for m in ('torch', 'pytorch_lightning', 'lightning') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_generated_schema_knows_original_runs(tmp_path):
    validator = jsonschema.Draft202012Validator(json_schema())
    config = yaml.safe_load(write_config(tmp_path, tmp_path / "exp").read_text())
    validator.validate(config)
    config["experiments"]["orig"]["seeds"] = [1, 2]
    assert not validator.is_valid(config)
