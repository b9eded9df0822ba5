"""The whole paper from one call on a borrowed GPU machine: tests, throughput, the paper grid trained under a deadline,
evaluated, Table 1 beside the paper, and at most 8 files back.

Made for a machine lent for one run of at most 9 minutes over a copy of this tree (no network), whose output
folder (``$OUT``) comes back only if it holds at most 8 files of at most 16 MiB each, 64 MiB in all, no deeper
than two folders. In order, each step under its own time limit, a failed step reported and the next one run:

(a) the environment (torch, CUDA, TF32 settings, cores) and the GPU tests (``pytest -m gpu``, < 60 s);
(b) model-steps/s of one model, a 64-member ensemble and the 640-member pack of the paper's hidden-128 variants
    at horizons 10 and 100 (``gpu_train_check.py`` section 1, < 60 s), and the cost table they give
    (:mod:`vbpipe.costmodel`);
(c) the workflow on ``experiments.paper`` of ``config/config.yaml`` at the paper's budget (1,920 models, 10 x
    2,000 steps; packs of up to 640 running side by side on the one device), in a scratch copy of the project,
    with ``VBPIPE_TRAIN_DEADLINE`` set so that, if the grid cannot finish in time, every pack stops between
    steps and saves each member's exact resume state (the SIGUSR1 path of :mod:`vbpipe.training.pack`);
(d) in the same Snakemake run, once training is done: evaluation, aggregation, Table 1, ``table1_vs_paper``
    and the paper's figures (no cross-model analyses: they would not fit);
(e) the output folder: ``report.md`` (what ran, the numbers, the limits check), ``table1_vs_paper.md/.csv``,
    ``results.tar.gz`` (evaluation table and summary, Table 1, figures, throughput and cost table),
    ``logs.tar.gz`` and up to three ``states_*.tar`` (per hidden size: ``model.pt`` of finished models, else
    ``resume.pt``, as many as the limits allow, with a manifest), so that an unfinished grid can be finished
    elsewhere: put the states back under ``results/`` and rerun the workflow.

``--device cpu --smoke`` rehearses all of it here in a few minutes: a small grid (8 models of hidden 32), the
paper's shape of config, a training budget the first deadline is sure to cut, the resume states packed
(``resume_states.tar``), a second round that resumes them to the end, then (d) and (e) as on the GPU.

    bash benchmarks/paper_on_gpu.sh                       # on the GPU machine (about 8.5 minutes)
    bash benchmarks/paper_on_gpu.sh --device cpu --smoke  # the rehearsal here (2-4 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from projectcopy import copy_project  # noqa: E402

MiB = 2**20
LIMITS = {"files": 8, "file_bytes": 16 * MiB, "total_bytes": 64 * MiB, "depth": 2}
EXPERIMENT = "paper"
GPU_TESTS = ("tests/training/test_gpu.py", "tests/evaluation/test_eval_evaluate.py")
#: Without a GPU (the rehearsal) every GPU test is skipped: collect only the training ones (seconds, not a minute).
GPU_TESTS_SMOKE = ("tests/training/test_gpu.py",)


@dataclass
class Run:
    """What this run knows: its settings, its clock, its folders and what each step found."""

    device: str
    smoke: bool
    out: Path
    work: Path
    budget_s: float
    reserve_s: float
    rehearse_s: float
    started: float = field(default_factory=time.time)
    notes: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    @property
    def project(self) -> Path:
        return self.work / "project"

    @property
    def end(self) -> float:
        return self.started + self.budget_s

    def left(self) -> float:
        return self.end - time.time()

    def say(self, text: str = "") -> None:
        line = f"[{time.time() - self.started:6.1f} s] {text}" if text else ""
        print(line, flush=True)
        with open(self.logs / "paper_on_gpu.log", "a", encoding="utf-8") as log:
            log.write(line + "\n")


def step(title: str):
    """Run a step, report its time and its failure (with the traceback in the log), and go on."""

    def wrap(function):
        def run(state: Run, *args, **kwargs):
            state.say(f"== {title} ==")
            began = time.time()
            try:
                return function(state, *args, **kwargs)
            except Exception as error:  # the machine's time is precious: report and go on
                state.say(f"FAILED: {error!r}")
                state.notes.append(f"{title}: FAILED ({error!r})")
                (state.logs / "paper_on_gpu.log").open("a").write(traceback.format_exc())
            finally:
                state.facts.setdefault("steps", {})[title] = round(time.time() - began, 1)
                state.say(f"({time.time() - began:.1f} s)")

        return run

    return wrap


def command(state: Run, name: str, argv: list[str], timeout: float, **options) -> tuple[int, str]:
    """Run ``argv`` (its own process group, so a timeout ends it and its children), its output to
    ``logs/{name}.txt``; returns (exit status, the output's tail). A timeout sends SIGTERM first (a
    training job then saves its resume states), SIGKILL 20 s later."""
    path = state.logs / f"{name}.txt"
    with open(path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **options
        )
        try:
            code = process.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            state.say(f"{name}: over its {timeout:.0f} s; SIGTERM")
            os.killpg(process.pid, signal.SIGTERM)
            try:
                code = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
    text = path.read_text(encoding="utf-8", errors="replace")
    return code, text[-3000:]


def python_env(state: Run, **extra) -> dict:
    src = str(ROOT / "src")
    path = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else "")}
    env.update({"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", **extra})
    return env


# ----------------------------------------------------------------------------------------- (a) and (b)
@step("(a) environment and GPU tests")
def environment_and_tests(state: Run) -> None:
    import torch

    cuda = torch.cuda.is_available()
    facts = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0) if cuda else "no CUDA device",
        "cores": os.cpu_count(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    try:
        import pytorch_lightning
        import snakemake

        facts["lightning"] = pytorch_lightning.__version__
        facts["snakemake"] = snakemake.__version__
    except ImportError as error:
        facts["missing"] = str(error)
    state.facts["environment"] = facts
    for key, value in facts.items():
        state.say(f"  {key}: {value}")
    if state.device == "cuda" and not cuda:
        raise RuntimeError("--device cuda but torch sees no CUDA device")
    tests = GPU_TESTS if cuda else GPU_TESTS_SMOKE
    code, tail = command(
        state,
        "gpu_tests",
        [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider", *tests],
        timeout=min(60, state.left()),
        cwd=ROOT,
        env=python_env(state),
    )
    summary = tail.strip().splitlines()[-1] if tail.strip() else "(no output)"
    state.facts["gpu_tests"] = {"exit": code, "summary": summary}
    state.say(f"  pytest -m gpu: exit {code}: {summary}")


@step("(b) throughput: one model, a 64-member ensemble, the 640-member pack; H = 10, 100")
def throughput(state: Run) -> None:
    path = state.work / "throughput.json"
    argv = [sys.executable, str(ROOT / "benchmarks" / "gpu_train_check.py"), "--json", str(path)]
    argv += ["--device", state.device, "--skip", "2a", "2b", "2c", "3"]
    argv += ["--smoke"] if state.smoke else []
    code, tail = command(
        state, "throughput", argv, timeout=min(60, state.left()), cwd=ROOT, env=python_env(state)
    )
    if not path.exists():
        raise RuntimeError(f"gpu_train_check.py wrote no measurements (exit {code}): {tail[-500:]}")
    measured = json.loads(path.read_text())
    rows = []
    for horizon, m in measured["horizons"].items():
        one = 1 / m["one_model_s"]
        ens = m["ensemble_size"] / m["ensemble_s"]
        pack = m["pack_size"] / m["pack_s"]
        rows.append((horizon, one, ens, pack, m["ensemble_size"], m["pack_size"], m["peak_gib"]))
        state.say(
            f"  H {horizon}: one model {one:.1f}, ensemble of {m['ensemble_size']} {ens:.1f} "
            f"({ens / one:.1f}x), pack of {m['pack_size']} {pack:.1f} ({pack / one:.1f}x) model-steps/s"
        )
    state.facts["throughput"] = rows
    if measured.get("cost_table"):
        (state.work / f"costmodel_{measured['cost_table']['device']}.json").write_text(
            json.dumps(measured["cost_table"], indent=1)
        )


# ---------------------------------------------------------------------------------------------- (c)
def paper_config(smoke: bool, accelerator: str) -> dict:
    """``config/config.yaml`` reduced to the paper experiment (its budget untouched unless ``smoke``)."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["run"] = [EXPERIMENT]
    config["comparisons"] = {}
    config["execution"] = {
        "accelerator": accelerator,
        "models_per_job": 640,
        "threads": 1,
    }
    paper = config["experiments"][EXPERIMENT]
    if smoke:  # the paper's shape of config, small: 2 tasks x 2 L2 x 2 seeds at hidden 32
        paper["sweep"] = {
            "task_id": ["T1", "T2"],
            "hidden_dim": [32],
            "l2_penalty": [0.0, 0.1],
            "curriculum_threshold": [0.9],
        }
        paper["training"].update(
            {
                "epochs": 1,
                "steps_per_epoch": 2000,  # ~10 s of training on 2 idle cores: the first deadline cuts it
                "curriculum_horizons": [10, 20],
                "validation_batches": 1,
                "log_every": 500,
            }
        )
        paper["seeds"] = {"first": 1, "count": 2}
        paper["evaluation"] = {"figures": False, "n_batches": 2, "test_horizon": 60}
    return config


def workflow_targets(config: dict) -> list[str]:
    """Table 1, its comparison with the paper, the global and the paper figures: no analyses."""
    from vbpipe.results import layout

    tasks = config["experiments"][EXPERIMENT]["sweep"]["task_id"]
    no_analyses = {"eigenvalue": False, "embedding": [], "persistence": False}
    files = layout.experiment_outputs(EXPERIMENT, tasks=tasks, analysis=no_analyses)
    tables = Path(layout.experiment_file(EXPERIMENT, "table1_csv")).parent
    return [*files, str(tables / "table1_vs_paper.md"), str(tables / "table1_vs_paper.csv")]


@step("(c, d) the workflow on the paper experiment, under a deadline")
def workflow(state: Run) -> None:
    accelerator = "gpu" if state.device == "cuda" else "cpu"
    config = paper_config(state.smoke, accelerator)
    copy_project(state.project)
    (state.project / "config" / "paper_on_gpu.yaml").write_text(yaml.safe_dump(config))
    deadline = state.end - state.reserve_s
    rounds = [f"{deadline:.3f}"]
    if (
        state.rehearse_s > 0
    ):  # a first deadline sure to cut training (counted from its start), then a resume
        rounds = [f"+{state.rehearse_s:g}", rounds[0]]
    state.facts["rounds"] = []
    for number, cut in enumerate(rounds, 1):
        when = (
            f"{cut[1:]} s after it starts"
            if cut.startswith("+")
            else f"in {deadline - time.time():.0f} s"
        )
        state.say(f"  round {number}: training deadline {when}")
        code, tail = snakemake_round(state, config, cut, f"workflow_round{number}")
        states = model_states(state, config)
        state.facts["rounds"].append({"exit": code, "deadline": cut, **states["counts"]})
        state.say(f"  round {number}: exit {code}; models {states['counts']}")
        if number < len(rounds):
            pack_resume_snapshot(state, states)
            for log in (state.project / "results" / "logs" / "train").glob("*.log"):
                shutil.copy(log, state.logs / f"round{number}_{log.name}")
        if states["counts"]["finished"] == states["counts"]["models"]:
            break
    state.facts["finished"] = states["counts"]["finished"] == states["counts"]["models"]
    table = state.project / "results" / EXPERIMENT / "tables" / "table1_vs_paper.md"
    state.facts["table1"] = table.exists()
    if not table.exists():
        state.notes.append(
            "Table 1 not reproduced: training did not finish before the deadline "
            "(the resume states are in states_*.tar)"
        )


def snakemake_round(state: Run, config: dict, deadline: str, name: str) -> tuple[int, str]:
    argv = [
        sys.executable,
        "-m",
        "snakemake",
        *workflow_targets(config),
        "--profile",
        "profiles/local",
    ]
    argv += ["--configfile", "config/paper_on_gpu.yaml", "--cores", str(os.cpu_count() or 1)]
    env = python_env(state, VBPIPE_TRAIN_DEADLINE=deadline)
    # the deadline stops training; this limit only guards the packing's time
    limit = max(5.0, state.left() - (25 if state.smoke else 40))
    return command(state, name, argv, timeout=limit, cwd=state.project, env=env)


def model_states(state: Run, config_values: dict) -> dict:
    """Every model of the experiment with its finished checkpoint or resume state, by hidden size."""
    from vbpipe.config.experiments import load_workflow_config
    from vbpipe.results import layout

    config = load_workflow_config([state.project / "config" / "paper_on_gpu.yaml"], {})
    groups: dict[int, list[dict]] = {}
    counts = {"models": 0, "finished": 0, "resumable": 0, "none": 0}
    root = state.project / "results"
    for variant in config.experiments[EXPERIMENT].variants:
        for seed in variant.seeds:
            files = {
                n: Path(layout.model_file(EXPERIMENT, variant.name, seed, n, root))
                for n in ("checkpoint", "sidecar", "resume")
            }
            kind = (
                "finished"
                if files["checkpoint"].exists()
                else "resumable"
                if files["resume"].exists()
                else "none"
            )
            counts["models"] += 1
            counts[kind] += 1
            groups.setdefault(variant.config.hidden_dim, []).append(
                {"variant": variant.name, "seed": seed, "kind": kind, "files": files}
            )
    return {"groups": groups, "counts": counts}


def pack_resume_snapshot(state: Run, states: dict) -> None:
    """The rehearsal's first deadline: its resume states, as the GPU run would leave them."""
    path = state.work / "resume_states.tar"
    with tarfile.open(path, "w") as tar:
        for entries in states["groups"].values():
            for entry in entries:
                if entry["kind"] == "resumable":
                    file = entry["files"]["resume"]
                    tar.add(file, arcname=str(file.relative_to(state.project)))
    state.say(f"  resume states after the first deadline: {path.name}, {path.stat().st_size} bytes")


# ---------------------------------------------------------------------------------------------- (e)
@step("(e) the output folder")
def pack_outputs(state: Run) -> None:
    out, results = state.out, state.project / "results" / EXPERIMENT
    out.mkdir(parents=True, exist_ok=True)
    tables = results / "tables"
    for name in ("table1_vs_paper.md", "table1_vs_paper.csv"):
        if (tables / name).exists():
            shutil.copy(tables / name, out / name)
    with tarfile.open(out / "results.tar.gz", "w:gz") as tar:
        for path in sorted(results.glob("evaluation_*")) + sorted(tables.glob("*")):
            tar.add(path, arcname=str(path.relative_to(results.parent)))
        for folder in ("global_analysis", "paper_figures"):
            for path in sorted((results / folder).glob("*")):
                tar.add(path, arcname=str(path.relative_to(results.parent)))
        for path in sorted(state.work.glob("*.json")):
            tar.add(path, arcname=path.name)
    if (out / "results.tar.gz").stat().st_size > LIMITS[
        "file_bytes"
    ]:  # the summary JSON is the big one
        state.notes.append("evaluation_summary.json left out of results.tar.gz (over 16 MiB)")
        _rewrite_without(out / "results.tar.gz", "evaluation_summary.json")
    with tarfile.open(out / "logs.tar.gz", "w:gz") as tar:
        tar.add(state.logs, arcname="logs")
        for sub in ("logs", f"{EXPERIMENT}/logs"):
            folder = state.project / "results" / sub
            if folder.exists():
                tar.add(folder, arcname=f"results/{sub}")
    if (state.work / "resume_states.tar").exists():
        shutil.copy(state.work / "resume_states.tar", out / "resume_states.tar")
    pack_states(state)


def _rewrite_without(path: Path, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        kept = Path(folder) / path.name
        with tarfile.open(path) as source, tarfile.open(kept, "w:gz") as target:
            for member in source.getmembers():
                if not member.name.endswith(name):
                    target.addfile(member, source.extractfile(member) if member.isfile() else None)
        shutil.move(kept, path)


def pack_states(state: Run) -> None:
    """``states_h{hidden}.tar``: per hidden size, finished checkpoints (with sidecars) or resume states, as
    many as the limits leave room for, with a manifest of what is in and what is not."""
    states = model_states(state, {})
    groups = sorted(states["groups"].items(), reverse=True)
    used_files = len(list(state.out.iterdir()))
    slots = max(0, LIMITS["files"] - used_files - 1)  # one file kept for report.md
    if slots == 0 or not groups:
        return
    if len(groups) > slots:  # the last tar takes the remaining hidden sizes
        groups = [*groups[: slots - 1], (0, [e for _, es in groups[slots - 1 :] for e in es])]
    for index, (hidden, entries) in enumerate(groups):
        room = _room(state.out) // (len(groups) - index) - 64 * 1024  # headers, manifest, report
        room = min(room, LIMITS["file_bytes"] - 256 * 1024)
        name = f"states_h{hidden}.tar" if hidden else "states_rest.tar"
        manifest, size = [], 0
        with tarfile.open(state.out / name, "w") as tar:
            for entry in entries:
                files = (
                    [entry["files"]["checkpoint"], entry["files"]["sidecar"]]
                    if entry["kind"] == "finished"
                    else [entry["files"]["resume"]]
                    if entry["kind"] == "resumable"
                    else []
                )
                cost = sum(f.stat().st_size + 1024 for f in files if f.exists())
                packed = bool(files) and size + cost <= room
                if packed:
                    for file in files:
                        tar.add(file, arcname=str(file.relative_to(state.project)))
                    size += cost
                manifest.append(
                    f"{entry['variant']}\t{entry['seed']}\t{entry['kind']}\t"
                    f"{'packed' if packed else 'left out'}"
                )
            text = "variant\tseed\tstate\tin this tar\n" + "\n".join(manifest) + "\n"
            info = tarfile.TarInfo("MANIFEST.tsv")
            info.size = len(text.encode())
            tar.addfile(info, _bytes(text))
        packed_n = sum(line.endswith("\tpacked") for line in manifest)
        state.facts.setdefault("states", {})[name] = f"{packed_n} of {len(manifest)} models"
        state.say(f"  {name}: {packed_n} of {len(manifest)} models, {size / MiB:.1f} MiB")


def _bytes(text: str):
    import io

    return io.BytesIO(text.encode())


def _room(out: Path) -> int:
    return LIMITS["total_bytes"] - sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def check_limits(out: Path) -> list[str]:
    """What breaks the output folder's limits (empty: all within them)."""
    files = [p for p in out.rglob("*") if p.is_file() or p.is_symlink()]
    problems = []
    if len(files) > LIMITS["files"]:
        problems.append(f"{len(files)} files > {LIMITS['files']}")
    for path in files:
        relative = path.relative_to(out)
        if path.is_symlink():
            problems.append(f"{relative} is a link")
        elif path.stat().st_size > LIMITS["file_bytes"]:
            problems.append(f"{relative}: {path.stat().st_size} bytes > 16 MiB")
        if len(relative.parts) - 1 > LIMITS["depth"]:
            problems.append(f"{relative}: more than {LIMITS['depth']} folders down")
        if not all(c.isalnum() or c in "._-" for part in relative.parts for c in part):
            problems.append(f"{relative}: a name with odd characters")
    total = sum(p.stat().st_size for p in files if not p.is_symlink())
    if total > LIMITS["total_bytes"]:
        problems.append(f"{total} bytes in all > 64 MiB")
    return problems


def write_report(state: Run) -> None:
    """``report.md``: the run in one page (a report that no longer fits drops its Table 1 copy)."""
    facts, lines = state.facts, ["# paper_on_gpu run", ""]
    mode = "smoke rehearsal" if state.smoke else "paper budget"
    began = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(state.started))
    lines += [
        f"- device: {state.device} ({mode}); started {began}; "
        f"wall {time.time() - state.started:.0f} s of a {state.budget_s:.0f} s budget",
        f"- command: `bash benchmarks/paper_on_gpu.sh {' '.join(sys.argv[1:])}`",
        "",
        "## Environment",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in facts.get("environment", {}).items()]
    tests = facts.get("gpu_tests")
    if tests:
        lines += [f"- `pytest -m gpu`: exit {tests['exit']}: {tests['summary']}"]
    lines += ["", "## Throughput (model-steps per second)", ""]
    if facts.get("throughput"):
        lines += [
            "| H | one model | ensemble (K) | / one | pack (K) | / one | peak GiB |",
            "|---|---|---|---|---|---|---|",
        ]
        for h, one, ens, pack, k_ens, k_pack, peak in facts["throughput"]:
            lines.append(
                f"| {h} | {one:.1f} | {ens:.1f} ({k_ens}) | {ens / one:.1f}x | {pack:.1f} ({k_pack}) | "
                f"{pack / one:.1f}x | {'-' if peak is None else f'{peak:.2f}'} |"
            )
    lines += ["", "## Training and evaluation", ""]
    for number, r in enumerate(facts.get("rounds", []), 1):
        lines.append(
            f"- round {number}: snakemake exit {r['exit']}; of {r['models']} models {r['finished']} "
            f"finished, {r['resumable']} with a resume state, {r['none']} not started"
        )
    lines.append(
        f"- training finished: {facts.get('finished')}; Table 1 reproduced: {facts.get('table1')}"
    )
    for name, what in facts.get("states", {}).items():
        lines.append(f"- {name}: {what}")
    lines += [f"- step times (s): {facts.get('steps', {})}", ""]
    if state.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in state.notes], ""]
    table = state.out / "table1_vs_paper.md"
    if table.exists():
        lines += ["## Table 1 beside the paper", "", table.read_text(encoding="utf-8"), ""]
    problems = check_limits(state.out)
    lines += ["## Output limits", "", f"- within the limits: {not problems} {problems or ''}"]
    text = "\n".join(lines) + "\n"
    report = state.out / "report.md"
    report.write_text(text, encoding="utf-8")
    if check_limits(state.out):  # the report itself tipped it over: drop the Table 1 copy
        report.write_text(text.split("## Table 1 beside the paper")[0], encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--smoke", action="store_true", help="the small grid (the CPU rehearsal)")
    parser.add_argument(
        "--out", type=Path, help="output folder (default: $OUT, else ./paper_on_gpu)"
    )
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    parser.add_argument(
        "--budget",
        type=float,
        help="seconds for the whole run (default: 510 on the paper budget; 480 for --smoke, which ends "
        "sooner: the budget only caps its second training round)",
    )
    parser.add_argument(
        "--reserve",
        type=float,
        help="seconds kept after the training deadline for evaluation and packing (default 150; smoke 90)",
    )
    parser.add_argument(
        "--rehearse-deadline",
        type=float,
        help="a first deadline this many seconds after training starts, then a resume round "
        "(default: 6 with --smoke, else off)",
    )
    args = parser.parse_args(argv)
    out = args.out or Path(os.environ.get("OUT") or "paper_on_gpu")
    work = args.work or Path(tempfile.mkdtemp(prefix="vbpipe-paper-on-gpu-"))
    state = Run(
        device=args.device,
        smoke=args.smoke,
        out=out.resolve(),
        work=work.resolve(),
        budget_s=args.budget or (480.0 if args.smoke else 510.0),
        reserve_s=args.reserve or (90.0 if args.smoke else 150.0),
        rehearse_s=(6.0 if args.smoke else 0.0)
        if args.rehearse_deadline is None
        else args.rehearse_deadline,
    )
    state.logs.mkdir(parents=True, exist_ok=True)
    state.out.mkdir(parents=True, exist_ok=True)
    if any(state.out.iterdir()):
        print(f"output folder {state.out} is not empty; give an empty one", file=sys.stderr)
        return 2
    state.say(
        f"paper_on_gpu: device {state.device}, smoke {state.smoke}, out {state.out}, work {state.work}"
    )
    environment_and_tests(state)
    throughput(state)
    workflow(state)
    pack_outputs(state)
    write_report(state)
    problems = check_limits(state.out)
    state.say(f"output folder: {sorted(p.name for p in state.out.iterdir())}")
    state.say(f"limits check: {'ok' if not problems else problems}")
    state.say(f"done in {time.time() - state.started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
