"""A newcomer's first hour (issue 18): every confusing message replaced by one line that names the
problem, before work is wasted. Cheap: unit tests of the checking functions and a few parse-only
Snakemake calls (a refusal at parse time runs no job)."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers.workflow import ROOT, SNAKEMAKE, copy_project, snakemake

from vbpipe import diskspace, runlock
from vbpipe.cli import main
from vbpipe.config import ConfigError
from vbpipe.config.experiments import load_workflow_config
from vbpipe.orphans import find_orphans, orphans_line, remove_stale_packs
from vbpipe.retrain import choose_models, retire_checkpoints

QUICK = ROOT / "config" / "quick.yaml"


def _overlay(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(text)
    return path


# ---- a hidden size below L*d ------------------------------------------------------------------------
def test_a_hidden_size_below_memory_is_warned_naming_the_variant(tmp_path):
    overlay = _overlay(tmp_path, "experiments:\n  quick:\n    sweep:\n      hidden_dim: [8, 32]\n")
    config = load_workflow_config([QUICK, overlay])
    notes = [n for n in config.notes if "cannot hold" in n]
    assert len(notes) == 1
    assert "copy-L3-h8-l2_0-thr0.96 (hidden_dim 8 < L*d = 12)" in notes[0]
    assert "h32" not in notes[0]
    assert len(config.experiments["quick"].variants) == 2  # kept (and flagged), not dropped


def test_a_hidden_size_below_memory_is_refused_when_capacity_is_required(tmp_path):
    overlay = _overlay(
        tmp_path,
        "experiments:\n  quick:\n    sweep:\n      hidden_dim: [8]\n"
        "    analysis:\n      require_memory_capacity: true\n",
    )
    with pytest.raises(ConfigError, match=r"overlay.yaml:4: .*hidden_dim 8 < L\*d = 12"):
        load_workflow_config([QUICK, overlay])


def test_the_paper_grid_sets_the_choice_explicitly_and_is_not_warned():
    config = load_workflow_config([ROOT / "config" / "config.yaml"])
    assert any(v.config.hidden_dim < v.config.memory_dim for v in config.variants)
    assert not [n for n in config.notes if "cannot hold" in n]


# ---- a comparison that cannot be made -----------------------------------------------------------------
def test_a_comparison_with_one_group_is_skipped_at_parse_time(tmp_path):
    overlay = _overlay(tmp_path, "experiments:\n  quick:\n    sweep:\n      hidden_dim: [32]\n")
    config = load_workflow_config([QUICK, overlay])
    assert "quick_hidden" not in config.comparisons
    (note,) = [n for n in config.notes if "quick_hidden" in n]
    assert "only hidden_dim=32 at seq_length 3" in note
    assert "comparisons: {quick_hidden: null}" in note


def test_an_overlay_drops_a_comparison_with_null(tmp_path):
    overlay = _overlay(tmp_path, "comparisons:\n  quick_hidden: null\n")
    config = load_workflow_config([QUICK, overlay])
    assert config.comparisons == {} and not config.notes
    assert "quick_hidden" in load_workflow_config([QUICK]).comparisons  # two groups: kept


def test_a_job_error_reaches_its_own_log(tmp_path, capsys):
    from vbpipe.jobs.joblog import job_log
    from vbpipe.results.errors import ResultsError

    log = tmp_path / "logs" / "paper_hidden.log"
    with pytest.raises(SystemExit) as stop, job_log(log, tmp_path / "out.json"):
        print("started")
        raise ResultsError("comparison by 'hidden_dim': only the group(s) ['hidden_dim=64']")
    assert stop.value.code == 1
    text = log.read_text()
    assert "started" in text and "vbpipe: error: comparison by 'hidden_dim'" in text
    assert "Traceback" not in text
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"(log: {log})" in err


def test_a_bug_keeps_its_traceback_in_the_log(tmp_path):
    from vbpipe.jobs.joblog import job_log

    log = tmp_path / "job.log"
    with pytest.raises(KeyError), job_log(log):
        raise KeyError("boom")
    assert "Traceback" in log.read_text() and "KeyError: 'boom'" in log.read_text()


# ---- a full disk --------------------------------------------------------------------------------------
def _dev_full_mkstemp(real):
    def mkstemp(prefix, suffix, dir):
        fd, path = real(prefix=prefix, suffix=suffix, dir=dir)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), path

    return mkstemp


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_while_saving_a_figure_is_one_line_naming_the_path(tmp_path, monkeypatch):
    """PIL's chained errors (ENOSPC, then an AttributeError) become one line; nothing is kept,
    and the old file survives."""
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from vbpipe import fileio
    from vbpipe.jobs.joblog import job_log

    target = tmp_path / "global_magnitude_distribution.png"
    target.write_bytes(b"old")
    fig, ax = plt.subplots()
    ax.imshow(np.random.default_rng(0).random((200, 200)))
    monkeypatch.setattr(fileio.tempfile, "mkstemp", _dev_full_mkstemp(tempfile.mkstemp))
    log = tmp_path / "figures.log"
    with pytest.raises(SystemExit), job_log(log, target):
        fileio.save_figure(fig, target)
    (line,) = log.read_text().splitlines()
    assert line.startswith("vbpipe: error: no space left on device writing ")
    assert str(tmp_path) in line and " free there)" in line
    assert "AttributeError" not in line and "Traceback" not in log.read_text()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_write_error_on_a_nearly_full_disk_is_named_a_full_disk(tmp_path, monkeypatch):
    """torch's zip writer reports ENOSPC as RuntimeError('... file write failed')."""
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 4096)
    error = diskspace.disk_full_error(RuntimeError("file write failed"), tmp_path / "model.pt")
    assert isinstance(error, diskspace.DiskFullError) and error.errno == errno.ENOSPC
    assert str(error).startswith(
        f"no space left on device writing {tmp_path / 'model.pt'} (4.0 KiB free there)"
    )
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 10 << 30)
    assert diskspace.disk_full_error(RuntimeError("a bug"), tmp_path) is None
    enospc = OSError(errno.ENOSPC, "No space left on device")
    assert diskspace.disk_full_error(enospc, tmp_path) is not None


def test_the_run_refuses_to_start_on_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 3 << 20)
    with pytest.raises(diskspace.DiskFullError, match=r"only 3.0 MiB free for results \(the run"):
        diskspace.check_free_space(["results"])
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 1 << 30)
    diskspace.check_free_space(["results"])


# ---- a live lock --------------------------------------------------------------------------------------
@pytest.fixture
def live_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def _fake_lock(dotdir: Path, pid: int, host: str | None = None, locked=("results/x.json",)):
    (dotdir / "locks").mkdir(parents=True, exist_ok=True)
    (dotdir / "locks" / "0.output.lock").write_text("\n".join(locked) + "\n")
    (dotdir / "vbpipe").mkdir(parents=True, exist_ok=True)
    owner = {"host": host or socket.gethostname(), "pid": pid, "started": runlock._start_time(pid)}
    (dotdir / "vbpipe" / "owner.json").write_text(json.dumps(owner))


def test_a_live_lock_names_the_owner_and_warns_off_unlock(tmp_path, live_process):
    dotdir = tmp_path / ".snakemake"
    _fake_lock(dotdir, live_process.pid)
    message = runlock.live_lock_message(["results/x.json"], dotdir)
    assert f"pid {live_process.pid} on this host" in message and "is still running" in message
    assert "do not use --unlock" in message and f"kill {live_process.pid}" in message
    assert runlock.live_lock_message(["results/other.json"], dotdir) is None  # no shared file
    assert "--unlock refused" in runlock.live_lock_message((), dotdir, unlocking=True)
    assert runlock.release_stale_lock(dotdir) is False and (dotdir / "locks").is_dir()


def test_a_dead_owners_lock_gives_no_message_and_is_released(tmp_path, live_process):
    dotdir = tmp_path / ".snakemake"
    _fake_lock(dotdir, live_process.pid)
    live_process.kill()
    live_process.wait()
    assert runlock.live_lock_message(["results/x.json"], dotdir) is None
    assert runlock.release_stale_lock(dotdir) is True


def test_another_hosts_lock_suggests_unlock_only_if_nothing_runs_there(tmp_path):
    dotdir = tmp_path / ".snakemake"
    _fake_lock(dotdir, os.getppid(), host="login-node-7")
    message = runlock.live_lock_message(["results/x.json"], dotdir)
    assert "on host login-node-7" in message and "if no Snakemake runs there any more" in message


def test_the_workflow_stops_at_once_under_a_live_lock(tmp_path, live_process):
    project = copy_project(tmp_path / "project")
    _fake_lock(
        project / ".snakemake",
        live_process.pid,
        locked=("results/tiny_a/copy-L2-h12-l2_0-thr0.96/config.json",),
    )
    result = snakemake(project)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"another Snakemake run (pid {live_process.pid} on this host)" in text, text[-2000:]
    assert "can be removed with the --unlock argument" not in text
    assert not (project / "results").exists()
    assert (project / ".snakemake" / "locks" / "0.output.lock").is_file()  # left alone


# ---- the report before any run, a launch from elsewhere -----------------------------------------------
def test_the_report_before_any_run_says_which_run_to_do(tmp_path):
    project = copy_project(tmp_path / "project")
    result = snakemake(project, "--report", "report.html")
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "the report needs a finished run" in text, text[-2000:]
    assert "`snakemake --cores 2 --configfile config/tiny.yaml`" in text
    assert "marked for report but does not exist" not in text
    assert not (project / "report.html").exists() and not (project / "results").exists()


def test_a_launch_from_another_directory_finds_the_profiles_config(tmp_path):
    project = copy_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [*SNAKEMAKE, "-s", str(project / "Snakefile"), "--directory", str(project)]
    command += ["--profile", str(project / "profiles" / "local"), "-n", "--cores", "2"]
    result = subprocess.run(command, cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "evaluate_quick_copy_L3_h32_l2_0_thr0_96" in result.stdout
    assert list(elsewhere.iterdir()) == []


# ---- config files Snakemake would not name --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "empty.yaml: the config file is empty"), ("a: [\n", "empty.yaml:2: YAML syntax error")],
)
def test_vbpipe_check_names_the_file_snakemake_does_not(tmp_path, capsys, text, expected):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    assert main(["check", "--configfile", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_vbpipe_check_reads_a_profiles_config(capsys):
    assert main(["check", "--profile", str(ROOT / "profiles" / "local")]) == 0
    out = capsys.readouterr().out
    assert "quick.yaml: valid; 1 experiment(s) (quick), 2 variant(s), 6 model(s)" in out


# ---- CLI messages ---------------------------------------------------------------------------------------
def test_a_file_given_as_models_dir_is_named_a_file(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--models_dir", str(ROOT / "README.md")])
    assert "README.md is a file, not a models directory" in capsys.readouterr().err


def test_a_file_given_as_summary_file_names_no_internal_class(capsys):
    assert main(["analyze", "eigenvalue", "--summary_file", str(ROOT / "README.md")]) == 2
    err = capsys.readouterr().err
    assert "README.md: is not a .json file; give an experiment's evaluation_summary.json" in err
    assert "ExperimentResults" not in err


# ---- retraining chosen models, orphans, stale packs -------------------------------------------------
def _fake_results(root: Path, config) -> None:
    for variant in config.variants:
        for seed in variant.seeds:
            model = root / variant.experiment / variant.name / f"model-{seed}"
            (model / "checkpoint").mkdir(parents=True)
            (model / "checkpoint" / "model.pt").write_bytes(b"weights")
            (model / "results").mkdir()
        (root / variant.experiment / variant.name / "config.json").write_text("{}")


def test_retrain_moves_only_the_chosen_checkpoints(tmp_path):
    config = load_workflow_config([QUICK])
    _fake_results(tmp_path, config)
    models = choose_models(config, variants=["copy-L3-h24-*"], seeds=[2])
    assert [(m.variant, m.seed) for m in models] == [("copy-L3-h24-l2_0-thr0.96", 2)]
    retired, moved = retire_checkpoints(models, tmp_path, stamp="T")
    gone = tmp_path / "quick/copy-L3-h24-l2_0-thr0.96/model-2/checkpoint"
    assert moved == [gone] and not gone.exists()
    assert (retired / "quick/copy-L3-h24-l2_0-thr0.96/model-2/checkpoint/model.pt").read_bytes()
    kept = list(tmp_path.glob("quick/*/model-*/checkpoint/model.pt"))
    assert len(kept) == 5  # every other model untouched
    with pytest.raises(ConfigError, match="--seed 9: not a seed"):
        choose_models(config, seeds=[9])
    with pytest.raises(ConfigError, match="--variant h99: matches no variant"):
        choose_models(config, variants=["h99"])


def test_retrain_asks_first(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_workflow_config([QUICK])
    _fake_results(tmp_path / "results", config)
    args = ["retrain", "--configfile", str(QUICK), "--seed", "1"]
    assert main(args) == 2  # stdin is not a terminal: --yes is needed
    assert "Nothing changed: add --yes" in capsys.readouterr().err
    assert len(list(tmp_path.glob("results/quick/*/model-1/checkpoint"))) == 2
    assert main([*args, "--yes"]) == 0
    assert not list(tmp_path.glob("results/quick/*/model-1/checkpoint"))
    assert len(list(tmp_path.glob("results/.retired/*/quick/*/model-1/checkpoint"))) == 2


def test_orphans_are_named_and_removed_only_when_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fake_results(tmp_path / "results", load_workflow_config([QUICK]))
    overlay = _overlay(
        tmp_path, "experiments:\n  quick:\n    sweep: {hidden_dim: [32]}\n    seeds: [1, 2]\n"
    )
    config = load_workflow_config([QUICK, overlay])
    orphans = find_orphans(config, "results")
    assert [str(p) for p in orphans] == [
        "results/quick/copy-L3-h24-l2_0-thr0.96",
        "results/quick/copy-L3-h32-l2_0-thr0.96/model-3",
    ]
    line = orphans_line(orphans, [str(QUICK)])
    assert line.startswith("vbpipe: 2 result folder(s) belong to no current variant or seed: ")
    assert "`vbpipe orphans --configfile" in line and "--remove`" in line
    args = ["orphans", "--configfile", str(QUICK), str(overlay)]
    assert main(args) == 0 and all(p.exists() for p in orphans)
    assert main([*args, "--remove"]) == 2 and all(p.exists() for p in orphans)
    assert main([*args, "--remove", "--yes"]) == 0 and not any(p.exists() for p in orphans)
    assert (tmp_path / "results/quick/copy-L3-h32-l2_0-thr0.96/model-2/checkpoint").is_dir()
    assert find_orphans(config, "results") == []


def test_stale_pack_records_are_removed_after_a_grace_period(tmp_path):
    for name in ("current", "stale", "young"):
        (tmp_path / f"{name}.json").write_text("{}")
    old = time.time() - 2 * 24 * 3600
    os.utime(tmp_path / "stale.json", (old, old))
    os.utime(tmp_path / "current.json", (old, old))
    removed = remove_stale_packs(tmp_path, {"current"})
    assert removed == [tmp_path / "stale.json"]
    assert sorted(p.stem for p in tmp_path.iterdir()) == ["current", "young"]


def test_the_workflow_names_orphans_at_start(tmp_path):
    project = copy_project(tmp_path / "project")
    orphan = project / "results/tiny_a/copy-L2-h99-l2_0-thr0.96"
    orphan.mkdir(parents=True)
    (orphan / "config.json").write_text("{}")
    result = snakemake(project, "-n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "vbpipe: 1 result folder(s) belong to no current variant or seed: " in result.stderr
    assert str(orphan.relative_to(project)) in result.stderr and orphan.is_dir()


def test_profile_config_is_named_relative_to_the_profile():
    config = yaml.safe_load((ROOT / "profiles/local/config.v8+.yaml").read_text())
    assert (ROOT / "profiles/local" / config["configfile"]).resolve() == QUICK.resolve()
