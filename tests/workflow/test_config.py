"""The typed config: the shipped configs, variant names and seeds, a corpus of bad configs refused at
parse time naming file, line and key, and the generated docs kept in step with the model."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from vbpipe.config import ConfigError, TrainConfig
from vbpipe.config.docs import README_PATH, SCHEMA_PATH, json_schema, readme
from vbpipe.config.experiments import load_workflow_config, variant_name

ROOT = Path(__file__).resolve().parents[2]
TINY = (ROOT / "tests" / "data" / "tiny.yaml").read_text()


def test_paper_config_has_the_full_grid_in_readable_variants():
    config = load_workflow_config([ROOT / "config" / "config.yaml"])
    paper = config.experiments["paper"]
    assert len(paper.variants) == 4 * 3 * 4 * 2 and paper.n_models == 1920
    names = {v.name for v in paper.variants}
    assert "T1-L8-h128-l2_0-thr0.9" in names and "T3-L8-h32-l2_10-thr0.98" in names
    t3 = paper.variant("T3-L8-h64-l2_0.001-thr0.98")
    assert t3.config.task_id == (9241421688590303745, 262676, 189)
    assert t3.config.epochs == 10 and t3.seeds == tuple(range(1, 21))
    assert config.experiments["varlen_3_7"].variants[0].name == "T1-L3-7-h96-l2_0-thr0.96"
    assert paper.analysis_length == 8 and config.execution.models_per_job == 640
    assert set(config.comparisons) == {"paper_hidden", "copy_vs_varlen", "paper_vs_circuits"}
    circuits = {v.name for v in config.experiments["emt_circuits"].variants}
    assert "T2-L8-h128-l2_0-thr0.96-circuit_gated" in circuits and len(circuits) == 12
    assert "T2-L8-h128-l2_0-thr0.96-circuit_leaky" in circuits


def test_quick_config_is_self_contained():
    config = load_workflow_config([ROOT / "config" / "quick.yaml"])
    assert list(config.experiments) == ["quick"]
    quick = config.experiments["quick"]
    assert [v.name for v in quick.variants] == [
        "copy-L3-h32-l2_0-thr0.96",
        "copy-L3-h24-l2_0-thr0.96",
    ]
    assert quick.variants[0].config.task_id == (15, 0, 0)  # repeat copy for d = 4
    assert quick.evaluation.test_horizon == 200 and quick.evaluation.n_batches == 4
    assert config.execution.accelerator == "cpu"


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_adding_a_sweep_value_keeps_existing_variant_names(tmp_path):
    before = load_workflow_config([ROOT / "config" / "quick.yaml"]).experiments["quick"]
    text = (ROOT / "config" / "quick.yaml").read_text().replace("[32, 24]", "[32, 24, 16]")
    after = load_workflow_config([write(tmp_path, text)]).experiments["quick"]
    old, new = {v.name for v in before.variants}, {v.name for v in after.variants}
    assert old < new and len(new - old) == 1


def test_variant_names_stay_valid_for_any_float():
    config = TrainConfig(l2_penalty=1e-6, curriculum_threshold=0.9, learning_rate=0.5)
    name = variant_name(config, ["l2_penalty", "learning_rate"])
    assert name == "T1-L8-h128-l2_1e-6-thr0.9-lr0.5"
    assert variant_name(TrainConfig(l2_penalty=1e3), []) == "T1-L8-h128-l2_1000-thr0.96"
    assert "+" not in variant_name(
        TrainConfig(l2_penalty=1e2, learning_rate=1e-7), ["learning_rate"]
    )


def test_later_files_and_dotted_overrides_win(tmp_path):
    extra = write(tmp_path, "execution: {models_per_job: 7}\n", "extra.yaml")
    config = load_workflow_config([ROOT / "tests/data/tiny.yaml", extra])
    assert config.execution.models_per_job == 7
    config = load_workflow_config([ROOT / "tests/data/tiny.yaml"], {"execution.threads": 2})
    assert config.execution.threads == 2


def test_comparisons_outside_run_are_skipped_with_a_note(tmp_path):
    text = TINY.replace("run: [tiny_a, tiny_b]", "run: [tiny_a]")
    config = load_workflow_config([write(tmp_path, text)])
    assert config.comparisons == {}
    assert any("tiny_ab" in note and "run" in note for note in config.notes)


# ---- refused configs: each names the file, the line and the key ---------------------------------------
BAD = {
    # name: ((old, new): an edit of tiny.yaml, the text of the line the message must name (its last
    # occurrence in the edited file), words the message must hold)
    "hidden_dim zero": (("hidden_dim: 12", "hidden_dim: 0"), "hidden_dim: 0", ["tiny_a.training.hidden_dim", "0"]),
    "hidden_dim string": (("hidden_dim: 12", "hidden_dim: big"), "hidden_dim: big", ["hidden_dim", "'big'"]),
    "unknown training key": (("hidden_dim: 12", "hiden_dim: 12"), "hiden_dim", ["hiden_dim", "unknown"]),
    "negative learning rate": (("learning_rate: 0.01\n      epochs: 1\n      steps_per_epoch: 150",
                                "learning_rate: -0.1\n      epochs: 1\n      steps_per_epoch: 150"),
                               "learning_rate: -0.1", ["learning_rate"]),
    "l2 beyond float32": (("validation_batches: 1", "validation_batches: 1\n      l2_penalty: 1.0e+39"),
                          "l2_penalty", ["l2_penalty", "1000"]),
    "threshold above one": (("steps_per_epoch: 150", "steps_per_epoch: 150\n      curriculum_threshold: 1.2"),
                            "curriculum_threshold", ["curriculum_threshold"]),
    "decreasing horizons": (("curriculum_horizons: [5, 10]\n      validation_batches: 1",
                             "curriculum_horizons: [10, 5]\n      validation_batches: 1"),
                            "[10, 5]", ["curriculum_horizons"]),
    "reversed seq_length": (("seq_length: 2\n      hidden_dim: 12", "seq_length: [5, 3]\n      hidden_dim: 12"),
                            "[5, 3]", ["seq_length"]),
    "task id hamming weight": (("task_id: repeat_copy", "task_id: '6,0,0'"), "6,0,0", ["task_id", "one-bits"]),
    "task id malformed": (("task_id: repeat_copy", "task_id: copy please"), "copy please", ["task_id"]),
    "duplicate key": (("hidden_dim: 12", "hidden_dim: 12\n      hidden_dim: 16"), "hidden_dim: 16",
                      ["duplicate key 'hidden_dim'", "first at"]),
    "duplicate experiment": (("  tiny_b:", "  tiny_a:\n    training: {}\n  tiny_b:"), "  tiny_a:",
                             ["duplicate key 'tiny_a'"]),
    "run empty": (("run: [tiny_a, tiny_b]", "run: []"), "run: []", ["run", "non-empty"]),
    "run unknown": (("run: [tiny_a, tiny_b]", "run: [tiny_a, tiny_c]"), "run:", ["tiny_c"]),
    "sweep not a list": (("seeds: {first: 1, count: 2}", "seeds: {first: 1, count: 2}\n    sweep: {input_dim: 3}"),
                         "sweep:", ["sweep.input_dim", "list"]),
    "sweep unknown key": (("seeds: {first: 1, count: 2}", "seeds: {first: 1, count: 2}\n    sweep: {width: [1, 2]}"),
                          "sweep:", ["sweep.width"]),
    "swept and fixed": (("seeds: {first: 1, count: 2}",
                         "seeds: {first: 1, count: 2}\n    sweep: {hidden_dim: [8, 12]}"),
                        "sweep:", ["hidden_dim", "both swept and fixed"]),
    "sweep point bad": (("seeds: {first: 1, count: 2}",
                         "seeds: {first: 1, count: 2}\n    sweep:\n      l2_penalty: [0.0, -1.0]"),
                        "l2_penalty: [0.0, -1.0]", ["sweep.l2_penalty[1]"]),
    "negative seed": (("seeds: [3, 4]", "seeds: [3, -4]"), "seeds: [3, -4]", ["seeds", ">= 0"]),
    "duplicate seeds": (("seeds: [3, 4]", "seeds: [3, 3]"), "seeds: [3, 3]", ["seeds", "distinct"]),
    "seed count zero": (("seeds: {first: 1, count: 2}", "seeds: {first: 1, count: 0}"), "count: 0", ["count"]),
    "bad accelerator": (("accelerator: cpu}", "accelerator: tpu}"), "tpu", ["execution.accelerator", "'tpu'"]),
    "models_per_job zero": (("models_per_job: 2", "models_per_job: 0"), "models_per_job: 0", ["models_per_job"]),
    "execution per experiment": (("seeds: [3, 4]", "seeds: [3, 4]\n    execution: {threads: 2}"),
                                 "execution: {threads", ["execution", "top level"]),
    "unknown embedding": (("embedding: [pca]", "embedding: [umap]"), "umap", ["embedding", "umap"]),
    "unknown color_by": (("embedding: [pca]", "embedding: [pca]\n    color_by: size"), "color_by",
                         ["color_by", "size"]),
    "unknown distance metric": (("embedding: [pca]", "embedding: [pca]\n    distance_metric: manhatten"),
                                "manhatten", ["distance_metric", "manhatten"]),
    "analysis length not evaluated": (("embedding: [pca]", "embedding: [pca]\n    seq_length: 5"),
                                      "seq_length: 5", ["seq_length", "5", "not an evaluated length"]),
    "evaluated length too short": (("analysis: {persistence: false}",
                                    "analysis: {persistence: false}\n  tiny_c:\n"
                                    "    training: {task_id: '9,0,0', input_dim: 2}\n"
                                    "    seeds: [1]\n    evaluation: {seq_lengths: [1, 2]}"),
                                   "seq_lengths", ["seq_lengths", "length 1"]),
    "test horizon zero": (("test_horizon: 30, n_batches: 2, figures: false", "test_horizon: 0"),
                          "test_horizon: 0", ["test_horizon"]),
    "comparison by unswept key": (("experiments: [tiny_a, tiny_b]", "experiment: tiny_a\n    by: hidden_dim"),
                                  "by: hidden_dim", ["by", "not swept"]),
    "comparison both forms": (("experiments: [tiny_a, tiny_b]", "experiments: [tiny_a, tiny_b]\n    by: hidden_dim"),
                              "tiny_ab:", ["not both"]),
    "comparison unknown experiment": (("experiments: [tiny_a, tiny_b]", "experiments: [tiny_a, nope]"),
                                      "tiny_ab:", ["nope"]),
    "unknown top-level key": (("run: [tiny_a, tiny_b]", "run: [tiny_a, tiny_b]\nexperimentz: {}"),
                              "experimentz", ["experimentz"]),
    "hidden too small when required": (("embedding: [pca]", "embedding: [pca]\n    require_memory_capacity: true"),
                                       "hidden_dim: 4", ["hidden_dim", "L*d = 6"]),
}  # fmt: skip


@pytest.mark.parametrize("mistake", sorted(BAD))
def test_bad_configs_are_refused_naming_file_line_and_key(tmp_path, mistake):
    (old, new), marker, words = BAD[mistake]
    assert old in TINY, mistake
    text = TINY.replace(old, new, 1)
    if mistake == "hidden too small when required":
        text = text.replace("hidden_dim: 12", "hidden_dim: 4")  # < L*d = 6
    lines = text.splitlines()
    line = max(i for i, content in enumerate(lines, 1) if marker in content)
    path = write(tmp_path, text, "tiny.yaml")
    with pytest.raises(ConfigError) as info:
        load_workflow_config([path])
    message = str(info.value)
    assert f"tiny.yaml:{line}: " in message, message
    for word in words:
        assert word in message, message
    assert len(BAD) >= 30


def test_empty_file_and_syntax_errors_name_the_file_and_line(tmp_path):
    empty = write(tmp_path, "", "empty.yaml")
    with pytest.raises(ConfigError, match="empty.yaml: the config file is empty"):
        load_workflow_config([empty])
    broken = write(
        tmp_path, "experiments:\n  a: {training: {hidden_dim: 3}\n  b: 1\n", "broken.yaml"
    )
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: YAML syntax error"):
        load_workflow_config([broken])
    listing = write(tmp_path, "- 1\n- 2\n", "list.yaml")
    with pytest.raises(ConfigError, match="list.yaml:1: the config file must hold a mapping"):
        load_workflow_config([listing])


def test_train_config_refuses_bad_values_by_key():
    for values, key in [
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"task_id": "6,0,0"}, "task_id"),
        ({"gradient_clip": 1e6}, "gradient_clip"),
        ({"use_eos": 1}, "use_eos"),
        ({"hiden": 3}, "hiden"),
    ]:
        with pytest.raises(ConfigError) as info:
            TrainConfig(**values)
        assert info.value.key == key and key in str(info.value)


def test_train_config_round_trips_through_json():
    config = TrainConfig(task_id="T3", seq_length=[8], curriculum_horizons=[5, 10])
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and hash(again) == hash(config)
    assert config.to_dict()["task_id"] == ["9241421688590303745", "262676", "189"]


def test_generated_docs_and_schema_are_up_to_date():
    assert (ROOT / README_PATH).read_text() == readme(), "run: python -m vbpipe.config.docs"
    assert json.loads((ROOT / SCHEMA_PATH).read_text()) == json_schema()


@pytest.mark.parametrize(
    "name", ["config/config.yaml", "config/quick.yaml", "tests/data/tiny.yaml"]
)
def test_shipped_configs_follow_the_generated_schema(name):
    jsonschema.Draft202012Validator(json_schema()).validate(
        yaml.safe_load((ROOT / name).read_text())
    )


@pytest.mark.parametrize(
    "key, inside, outside",
    [("test_horizon", 100_000, 100_001), ("n_batches", 10_000, 0), ("unit_threshold", 1.99, 2.0)],
)
def test_evaluation_bounds_are_the_same_in_the_config_and_the_evaluation(key, inside, outside):
    """One set of bounds: the config section and EvaluationSettings (what `vbpipe evaluate` and the
    API build) accept and refuse the same values."""
    from pydantic import ValidationError

    from vbpipe.config.sections import EvaluationSection
    from vbpipe.results.errors import ResultsError
    from vbpipe.results.records import EvaluationSettings

    assert getattr(EvaluationSection(**{key: inside}), key) == inside
    assert getattr(EvaluationSettings(**{key: inside}), key) == inside
    with pytest.raises((ValidationError, ConfigError)):
        EvaluationSection(**{key: outside})
    with pytest.raises(ResultsError, match=key):
        EvaluationSettings(**{key: outside})
