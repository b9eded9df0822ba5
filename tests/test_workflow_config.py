"""Workflow configuration: sweeps, variant names, seeds, and a corpus of bad configs refused by key."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from vbpipe.config import ConfigError
from vbpipe.sweep import block_name, resolve_workflow, selected_experiments
from vbpipe.tasks import TaskIdError
from vbpipe.workflow import analysis_options, comparison_plan, variant_config_json

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def load(name):
    return yaml.safe_load((ROOT / name).read_text())


def merged(*names):
    from vbpipe.sweep import _merge

    out = {}
    for name in names:
        out = _merge(out, load(name))
    return out


def check(config):
    """What the Snakefile does at parse time, before any job."""
    validate(config, str(SCHEMA))
    experiments = selected_experiments(config)
    comparison_plan(config, experiments)
    for experiment in experiments.values():
        analysis_options(experiment)
    return experiments


def test_paper_config_has_the_full_grid_in_readable_variants():
    experiments = check(load("config/config.yaml"))
    paper = experiments["paper"]
    assert len(paper.variants) == 4 * 3 * 4 * 2
    assert (
        sum(len(v.seeds) for v in paper.variants) == 1920
    )  # 4 tasks; the original planned a 5th slot
    names = {v.name for v in paper.variants}
    assert "T1-L8-h128-l2_0-thr0.9" in names and "T3-L8-h32-l2_10-thr0.98" in names
    t3 = paper.variant("T3-L8-h64-l2_0.001-thr0.98")
    assert t3.config.task_id == (9241421688590303745, 262676, 189)
    assert t3.config.epochs == 10 and t3.seeds == tuple(range(1, 21))
    assert t3.blocks == [("s1-20", tuple(range(1, 21)))]
    assert experiments["varlen_3_7"].variants[0].name == "T1-L3-7-h96-l2_0-thr0.96"


def test_quick_config_selects_only_the_quick_experiment():
    experiments = check(merged("config/config.yaml", "config/quick.yaml"))
    assert list(experiments) == ["quick"]
    assert [v.name for v in experiments["quick"].variants] == [
        "copy-L3-h32-l2_0-thr0.96",
        "copy-L3-h24-l2_0-thr0.96",
    ]


def test_adding_a_sweep_value_keeps_existing_variant_names():
    config = merged("config/config.yaml", "config/quick.yaml")
    before = {v.name for v in check(config)["quick"].variants}
    config["experiments"]["quick"]["sweep"]["hidden_dim"].append(16)
    after = {v.name for v in check(config)["quick"].variants}
    assert before < after and len(after - before) == 1


def test_variant_config_json_has_the_original_schema_and_no_timestamp():
    experiment = check(load("config/config.yaml"))["paper"]
    content = variant_config_json(experiment, experiment.variants[0])
    assert set(content) >= {"metadata", "task", "model", "training", "execution"}
    assert "created_at" not in content["metadata"]
    assert content["task"]["task_id"] == ["255", "0", "0"]


def test_blocks_are_consecutive_runs_of_seeds():
    assert block_name((1, 2, 3)) == "s1-3"
    assert block_name((5, 9)) == "s5_9"
    config = load("tests/data/tiny.yaml")
    tiny = check(config)["tiny_a"].variants[0]
    assert tiny.blocks == [("s1-2", (1, 2))]


def _with(path, value):
    def edit(config):
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return edit


def _drop(path):
    def edit(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return edit


EXP = ["experiments", "tiny_a"]
TRAIN = EXP + ["training"]
BAD = {
    "unknown top-level key": (_with(["experimentz"], {}), "experimentz"),
    "unknown training key": (_with(TRAIN + ["hiden_dim"], 3), "hiden_dim"),
    "hidden_dim zero": (_with(TRAIN + ["hidden_dim"], 0), "hidden_dim"),
    "hidden_dim string": (_with(TRAIN + ["hidden_dim"], "big"), "hidden_dim"),
    "negative learning rate": (_with(TRAIN + ["learning_rate"], -0.1), "learning_rate"),
    "threshold above one": (_with(TRAIN + ["curriculum_threshold"], 1.2), "curriculum_threshold"),
    "threshold below chance": (
        _with(TRAIN + ["curriculum_threshold"], 0.3),
        "curriculum_threshold",
    ),
    "decreasing horizons": (
        _with(TRAIN + ["curriculum_horizons"], [20, 10]),
        "curriculum_horizons",
    ),
    "seq_length zero": (_with(TRAIN + ["seq_length"], 0), "seq_length"),
    "seq_length reversed range": (_with(TRAIN + ["seq_length"], [5, 3]), "seq_length"),
    "seq_length three values": (_with(TRAIN + ["seq_length"], [1, 2, 3]), "seq_length"),
    "task id wrong hamming weight": (_with(TRAIN + ["task_id"], "6,0,0"), "task_id"),
    "task id malformed": (_with(TRAIN + ["task_id"], "copy please"), "task_id"),
    "task id digit out of range": (_with(TRAIN + ["task_id"], [7, 6, 0]), "task_id"),
    "task id sign bit too high": (_with(TRAIN + ["task_id"], [7, 0, 8]), "task_id"),
    "task position outside shortest window": (
        lambda c: (
            _with(TRAIN + ["seq_length"], [1, 2])(c),
            _with(TRAIN + ["task_id"], [56, 0, 0])(c),
        ),
        "task_id",
    ),
    "negative l2": (_with(TRAIN + ["l2_penalty"], -1), "l2_penalty"),
    "bad accelerator": (_with(EXP + ["execution", "accelerator"], "tpu"), "accelerator"),
    "models_per_job zero": (_with(EXP + ["execution", "models_per_job"], 0), "models_per_job"),
    "negative seed": (_with(EXP + ["seeds"], [1, -2]), "seeds"),
    "duplicate seeds": (_with(EXP + ["seeds"], [1, 1]), "seeds"),
    "seed count zero": (_with(EXP + ["seeds"], {"first": 1, "count": 0}), "seeds"),
    "sweep not a list": (_with(EXP + ["sweep"], {"hidden_dim": 12}), "hidden_dim"),
    "sweep of unknown key": (_with(EXP + ["sweep"], {"width": [1, 2]}), "width"),
    "swept and fixed": (_with(EXP + ["sweep"], {"hidden_dim": [8, 12]}), "hidden_dim"),
    "run names unknown experiment": (_with(["run"], ["tiny_c"]), "tiny_c"),
    "unknown embedding method": (_with(EXP + ["analysis"], {"embedding": ["umap"]}), "embedding"),
    "bad test horizon": (_with(EXP + ["evaluation", "test_horizon"], 0), "test_horizon"),
    "comparison of unknown experiment": (
        _with(["comparisons", "tiny_ab", "experiments"], ["tiny_a", "nope"]),
        "nope",
    ),
    "hidden too small when the analysis needs it": (
        _with(EXP + ["analysis"], {"require_memory_capacity": True, "embedding": ["pca"]}),
        "hidden_dim",
    ),
    "no experiments": (_drop(["experiments"]), "experiments"),
}


@pytest.mark.parametrize("mistake", sorted(BAD))
def test_bad_configs_are_refused_naming_the_key(mistake):
    edit, key = BAD[mistake]
    config = copy.deepcopy(load("tests/data/tiny.yaml"))
    if mistake == "hidden too small when the analysis needs it":
        config["experiments"]["tiny_a"]["training"]["hidden_dim"] = 4  # < L*d = 6
    edit(config)
    with pytest.raises((ConfigError, TaskIdError, Exception)) as info:
        check(config)
    assert key in str(info.value), str(info.value)
    assert len(BAD) >= 20


def test_good_tiny_config_passes():
    experiments = check(load("tests/data/tiny.yaml"))
    assert set(experiments) == {"tiny_a", "tiny_b"}
    assert resolve_workflow(load("tests/data/tiny.yaml"))["tiny_b"].variants[0].seeds == (3, 4)
