"""Issue 16, item 1: vbpipe sweep (Hydra syntax -> a config overlay, checked, planned, run by
Snakemake)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from helpers.workflow import copy_project, scheduled

from vbpipe import sweep
from vbpipe.cli import main
from vbpipe.config.experiments import load_workflow_config

TINY = "config/tiny.yaml"


def test_split_and_parse_values():
    assert sweep.split_values('1,[2,3],"4,5", x') == ["1", "[2,3]", '"4,5"', "x"]
    item = sweep.parse_override("hidden_dim=96,160")
    assert (item.path, item.values) == (("hidden_dim",), (96, 160))
    assert sweep.parse_override("l2_penalty=0,0.001").values == (0, 0.001)
    assert sweep.parse_override("curriculum_horizons=[10,20],[5]").values == ([10, 20], [5])
    assert sweep.parse_override('task_id="1,2,3",T1').values == ("1,2,3", "T1")
    assert sweep.parse_override("seeds=1-5").values == ({"first": 1, "count": 5},)
    assert sweep.parse_override("seeds=3,1,7").values == ([3, 1, 7],)
    assert sweep.parse_override("evaluation.test_horizon=50").values == (50,)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("seeds=5-1", "'seeds=5-1': seeds: the range 5-1 goes down; write 1-5"),
        ("seeds=1,1", "a seed is given twice"),
        ("seeds=x", "seeds are integers >= 0 or a range A-B"),
        ("hiden_dim=3", "'hiden_dim' is not a training key"),
        ("hidden_dim", "expected KEY=VALUES"),
        ("hidden_dim=8,", "hidden_dim: an empty value"),
        ("hidden_dim=8,8", "hidden_dim: a value is given twice"),
        ("training.hidden_dim=8", "give a training key, seeds, evaluation.KEY or analysis.KEY"),
        ("evaluation.test_horizon=1,2", "one value"),
    ],
)
def test_malformed_arguments_are_refused_naming_the_key(argument, message):
    with pytest.raises(sweep.SweepError) as error:
        sweep.parse_override(argument)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = copy_project(tmp_path / "project")
    monkeypatch.chdir(root)
    return root


def _request(*arguments, source="tiny_a", force=False):
    return sweep.SweepRequest(
        "wide", source, [sweep.parse_override(a) for a in arguments], [TINY], force=force
    )


def _write(request):
    path, text, config, _ = sweep.build_overlay(request)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path, config


def test_the_overlay_records_the_request_and_runs_with_the_same_config(project):
    path, config = _write(_request("hidden_dim=12,16", "l2_penalty=0,0.001", "seeds=1-3"))
    assert path.resolve() == project / "config" / "sweeps" / "wide.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["run"] == ["wide"]
    spec = data["experiments"]["wide"]
    assert spec["sweep"] == {"hidden_dim": [12, 16], "l2_penalty": [0, 0.001]}
    assert "hidden_dim" not in spec["training"]  # moved from training to the sweep
    assert spec["seeds"] == {"first": 1, "count": 3}
    assert spec["training"]["steps_per_epoch"] == 150  # the rest of tiny_a, copied
    assert "vbpipe sweep wide --from tiny_a hidden_dim=12,16" in path.read_text()
    again = load_workflow_config([TINY, path])  # what Snakemake will read
    assert list(again.experiments) == ["wide"]
    assert [v.name for v in again.experiments["wide"].variants] == [
        v.name for v in config.experiments["wide"].variants
    ]
    assert len(again.experiments["wide"].variants) == 4 and again.experiments["wide"].n_models == 12


def test_extending_adds_values_and_refuses_a_silent_change(project):
    path, _ = _write(_request("hidden_dim=12,16", "seeds=1-2"))
    _, config = _write(_request("hidden_dim=24", "seeds=1-4", source=None))  # extends
    spec = yaml.safe_load(path.read_text())["experiments"]["wide"]
    assert spec["sweep"]["hidden_dim"] == [12, 16, 24]
    assert config.experiments["wide"].n_models == 12
    before = path.read_text()
    _, config = sweep.build_overlay(_request("hidden_dim=12", source=None))[1:3]
    assert config.experiments["wide"].n_models == 12  # a value already there: nothing dropped
    with pytest.raises(sweep.SweepError, match=r"seeds: the overlay has \[1, 2, 3, 4\]"):
        sweep.build_overlay(_request("seeds=1-2", source=None))
    with pytest.raises(sweep.SweepError, match="that this would change or rename"):
        sweep.build_overlay(_request("learning_rate=0.001", source=None))  # renames every variant
    with pytest.raises(sweep.SweepError, match="that this would change or rename"):
        sweep.build_overlay(_request("epochs=2", source=None))  # retrains every variant
    with pytest.raises(sweep.SweepError, match="evaluation.test_horizon: the overlay has 30"):
        sweep.build_overlay(_request("evaluation.test_horizon=40", source=None))
    assert path.read_text() == before
    _, config = _write(_request("hidden_dim=12", source=None, force=True))
    assert [v.config.hidden_dim for v in config.experiments["wide"].variants] == [12]


def test_a_new_name_an_existing_name_and_a_missing_base(project):
    with pytest.raises(sweep.SweepError, match="already exists"):
        sweep.build_overlay(sweep.SweepRequest("tiny_b", "tiny_a", [], [TINY]))
    with pytest.raises(sweep.SweepError, match="--from 'nope': no such experiment"):
        sweep.build_overlay(_request(source="nope"))
    with pytest.raises(sweep.SweepError, match="give --from EXPERIMENT"):
        sweep.build_overlay(_request(source=None))
    with pytest.raises(sweep.SweepError, match="letters, digits"):
        sweep.build_overlay(sweep.SweepRequest("a/b", "tiny_a", [], [TINY]))


def test_the_plan_says_what_trains_and_what_is_reused(project):
    _, config = _write(_request("hidden_dim=12,16", "seeds=1-2"))
    text = sweep.plan_summary(config, "wide")
    assert "plan: 2 variant(s), 4 model(s)" in text
    assert "total: 4 to train in 2 job(s), 0 reused" in text


def test_vbpipe_sweep_dry_run_writes_nothing_and_runs_snakemakes_dry_run(project, capsys):
    code = main(["sweep", "wide", "--from", "tiny_a", "hidden_dim=12,16", "--configfile", TINY,
                 "--dry-run", "seeds=1-2"])  # fmt: skip
    assert code == 0
    assert not (project / "config" / "sweeps").exists()
    err = capsys.readouterr().err
    assert "total: 4 to train in 2 job(s), 0 reused" in err


def test_vbpipe_sweep_runs_snakemake_with_the_profile_and_the_overlay(project, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep, "run_snakemake", lambda command: calls.append(command) or 0)
    assert (
        main(["sweep", "wide", "--from", "tiny_a", "hidden_dim=12,16", "--configfile", TINY]) == 0
    )
    (command,) = calls
    assert command[:3] == [sys.executable, "-m", "snakemake"]
    assert command[3:] == ["--profile", "profiles/local", "--configfile", TINY,
                           "config/sweeps/wide.yaml"]  # fmt: skip
    # the same command, dry: Snakemake schedules the sweep's trainings and nothing of tiny_a/b
    result = subprocess.run([*command, "-n"], capture_output=True, text=True, timeout=300)
    jobs = scheduled(result)
    assert jobs["train"] == 2 and jobs["evaluate"] == 2
    assert "tiny_a" not in result.stdout and "tiny_b" not in result.stdout
