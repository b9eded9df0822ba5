"""The ``vbpipe`` command: one subcommand per stage, on the same files and job functions as the workflow.

``vbpipe train`` covers the original ``train_multiple.py`` flags; ``vbpipe evaluate`` the original
``evaluate_multiple.py``; ``vbpipe analyze eigenvalue|embedding|persistence|compare`` the original
``analyze.py``; ``vbpipe task`` explains a task id. Each is a thin front door: it checks its arguments,
then calls the job function the workflow's script calls. Running many jobs in parallel is Snakemake's
job (``snakemake --cores N``), not this command's.

A user error (a bad value, a missing or corrupt file) prints one line naming it and exits with status 2;
an interrupted training run exits with 128 + the signal number after saving its state.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path

from .analysis.cli import add_analyze_parser
from .cliargs import positive_int
from .config import (
    ConfigError,
    TrainConfig,
    experiment_config_json,
    original_seeds,
)
from .config.original import TRAINING_SECTION
from .errors import TrainingInterrupted, VbpipeError
from .evaluation.cli import add_aggregate_parser, add_evaluate_parser
from .fileio import write_json
from .maintenance_cli import add_maintenance_parsers
from .results import layout
from .runs_cli import add_runs_parser
from .sweep import add_sweep_parser
from .taskspec import TaskIdError, parse_task_id


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line that names the problem (argparse prints the usage too)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _task_id_arg(values: list[str], input_dim: int = 8) -> tuple[int, int, int]:
    if len(values) == 1:
        return parse_task_id(values[0], input_dim)
    if len(values) == 3:
        return parse_task_id(values)
    raise TaskIdError(
        f"--task_id takes a name (repeat_copy, T1-T4) or three integers, got {values}"
    )


#: TrainConfig keys offered as ``vbpipe train`` flags of the training group: the original
#: ``config.json``'s training section (``log_every`` is fixed); defaults, choices and help come from
#: the config model (:class:`vbpipe.config.TrainConfig`).
TRAINING_FLAGS = tuple(key for key in TRAINING_SECTION if key != "log_every")


def _config_flag(group, name: str) -> None:
    """``--name`` for a :class:`TrainConfig` field: its default, its choices (a ``Literal``), a
    list for a tuple, on/off for a bool (``--no-name`` too), its description as the help."""
    field = TrainConfig.model_fields[name]
    default, kwargs = field.default, {"help": field.description}
    choices = (
        typing.get_args(field.annotation)
        if typing.get_origin(field.annotation) is typing.Literal
        else ()
    )
    if isinstance(default, bool):
        kwargs["action"] = argparse.BooleanOptionalAction
    elif choices:
        kwargs["choices"] = list(choices)
    elif isinstance(default, tuple):
        kwargs.update(type=type(default[0]), nargs="+")
        default = list(default)
    else:
        kwargs["type"] = type(default)
    group.add_argument(f"--{name}", default=default, **kwargs)


def add_train_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train models (one per seed) as batched ensembles",
        description="Train bias-free tanh RNNs on a linearVB task, one model per seed. Writes "
        "OUTPUT_DIR/EXPERIMENT[/VARIANT]/config.json and model-{seed}/checkpoint/model.pt.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("experiment and output")
    g.add_argument("--experiment_name", required=True, help="experiment directory name")
    g.add_argument("--output_dir", default="results", help="parent of the experiment directory")
    g.add_argument(
        "--variant",
        default=None,
        help="optional sub-directory (a sweep point) under the experiment",
    )
    g = p.add_argument_group("task")
    g.add_argument(
        "--task_id",
        nargs="+",
        default=["repeat_copy"],
        help="repeat_copy, T1..T4, or three integers t1 t2 t3",
    )
    _config_flag(g, "input_dim")
    g.add_argument(
        "--seq_length",
        type=int,
        nargs="+",
        required=True,
        help="L, or two values MIN MAX for a variable length drawn per batch",
    )
    _config_flag(g, "use_eos")
    g = p.add_argument_group("model")
    for name in ("hidden_dim", "model_type", "bias", "activation", "init", "init_eps",
                 "circuit_scale"):  # fmt: skip
        _config_flag(g, name)
    g = p.add_argument_group("training")
    g.add_argument("--seed", type=int, default=0, help="base seed: model i gets seed + 1000*i")
    g.add_argument("--num_models", type=positive_int, default=50)
    g.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="explicit seeds (overrides --seed/--num_models)",
    )
    for name in TRAINING_FLAGS:
        _config_flag(g, name)
    g.add_argument(
        "--no_curriculum", dest="curriculum", action="store_false", help=argparse.SUPPRESS
    )
    g = p.add_argument_group("execution")
    g.add_argument("--accelerator", default="auto", choices=["auto", "cpu", "gpu"])
    g.add_argument(
        "--models_per_job",
        type=positive_int,
        default=None,
        help="most seeds trained together as one batched ensemble in this process (default: all)",
    )
    g.add_argument(
        "--num_workers",
        type=positive_int,
        default=1,
        help="kept for the original's scripts; this command trains in one process (for parallel "
        "jobs use the workflow: snakemake --cores N)",
    )
    g.add_argument(
        "--threads", type=positive_int, default=1, help="torch threads on CPU (one is fastest)"
    )
    g.add_argument(
        "--save_every", type=positive_int, default=1000, help="steps between resume states"
    )
    g.add_argument("--overwrite", action="store_true", help="retrain seeds whose checkpoint exists")
    g.add_argument("--no_progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)


def config_from_args(args) -> TrainConfig:
    seq = args.seq_length
    if len(seq) not in (1, 2):
        raise ConfigError(f"seq_length: give one value or MIN MAX, got {seq}")
    flags = ("input_dim", "use_eos", "hidden_dim", "model_type", "bias", "activation", "init",
             "init_eps", "circuit_scale", *TRAINING_FLAGS)  # fmt: skip
    values = {name: getattr(args, name) for name in flags}
    values["curriculum_horizons"] = tuple(values["curriculum_horizons"])
    return TrainConfig(
        task_id=_task_id_arg(args.task_id, args.input_dim),
        seq_length=seq[0] if len(seq) == 1 else tuple(seq),
        **values,
    )


def _comparable(config_json: dict) -> dict:
    """The parts of a config.json that must agree for two runs to share a directory."""
    training = {
        k: v for k, v in config_json["training"].items() if k not in ("seed", "seeds", "num_models")
    }
    return {"task": config_json["task"], "model": config_json["model"], "training": training}


def write_experiment_config(path: Path, new: dict, overwrite: bool) -> None:
    """Write config.json; an existing one of another configuration is refused unless ``overwrite``."""
    if path.exists() and not overwrite:
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            _comparable(old)
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError(
                f"{path} is not a readable config.json ({error}); move it away or use --overwrite"
            ) from None
        if _comparable(old) != _comparable(new):
            raise ConfigError(
                f"{path} records a different configuration; use another --experiment_name/--variant "
                "or --overwrite to retrain"
            )
        seeds = sorted(set(old["training"].get("seeds", [])) | set(new["training"]["seeds"]))
        new["training"]["seeds"], new["training"]["num_models"] = seeds, len(seeds)
        new["metadata"]["created_at"] = old["metadata"].get(
            "created_at", new["metadata"]["created_at"]
        )
    write_json(path, new)


def _check_output_dir(out: Path) -> None:
    for parent in [out, *out.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"--output_dir: {parent} exists and is not a directory")
            return


def _check_accelerator(accelerator: str) -> str:
    """The device type training will use; ``gpu`` without CUDA is refused before anything is written."""
    import torch

    if accelerator == "gpu" and not torch.cuda.is_available():
        raise ConfigError(
            f"--accelerator gpu: torch {torch.__version__} sees no CUDA device; use --accelerator "
            "cpu or auto"
        )
    return "cuda" if accelerator != "cpu" and torch.cuda.is_available() else "cpu"


def run_train(args) -> int:
    from .jobs.train import train_pack_job
    from .jobs.train_records import record_members
    from .plan import disk_state, model_stamp, training_code

    config = config_from_args(args)
    seeds = args.seeds if args.seeds else original_seeds(args.seed, args.num_models)
    if any(s < 0 for s in seeds):
        raise ConfigError(f"--seeds must be >= 0, got {seeds}")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds must be distinct, got {seeds}")
    out = Path(args.output_dir) / args.experiment_name
    if args.variant:
        out = out / args.variant
    _check_output_dir(out)
    device = _check_accelerator(args.accelerator)
    if args.num_workers > 1:
        print(
            "note: --num_workers is ignored: this command trains its seeds as batched ensembles in "
            "one process; run the workflow (snakemake --cores N) for parallel jobs",
            file=sys.stderr,
        )
    if config.hidden_dim < config.memory_dim:
        print(
            f"note: hidden_dim {config.hidden_dim} < L*d = {config.memory_dim}: the model cannot hold "
            "the task's memory exactly; evaluation will flag it",
            file=sys.stderr,
        )
    per_job = args.models_per_job or len(seeds)
    meta = experiment_config_json(
        args.experiment_name, config, seeds, device, "vbpipe train", per_job, args.variant
    )
    write_experiment_config(out / "config.json", meta, args.overwrite)

    code = training_code()
    todo, seed_of = [], {}
    for seed in seeds:
        model_dir = out / layout.model_dirname(seed)
        checkpoint = layout.checkpoint_in(model_dir)
        stamp = model_stamp(config, seed, code)
        if not args.overwrite and disk_state(checkpoint, stamp) == "current":
            print(f"seed {seed}: skipped, {checkpoint} is already trained", file=sys.stderr)
            continue
        seed_of[str(checkpoint)] = seed
        todo.append(
            {
                "config": config.to_dict(),
                "seed": seed,
                "model_dir": str(model_dir),
                "checkpoint": str(checkpoint),
                "stamp": stamp,
            }
        )
    packs = [todo[i : i + per_job] for i in range(0, len(todo), per_job)]
    print(
        f"training {len(todo)} model(s) in {len(packs)} job(s) of <= {per_job} on {device} -> {out}",
        file=sys.stderr,
    )
    outcomes = {}
    for i, pack in enumerate(packs, 1):
        try:
            result = train_pack_job(
                pack,
                accelerator=args.accelerator,
                threads=args.threads,
                progress=not args.no_progress,
                save_every_steps=args.save_every,
            )
        finally:
            record_members(pack, device)
        outcomes.update(result)
        for path, outcome in result.items():
            print(
                f"[{i}/{len(packs)}] seed {seed_of[str(path)]}: {_describe(outcome)}",
                file=sys.stderr,
            )
    if outcomes:
        converged = sum(bool(o["converged"]) for o in outcomes.values())
        diverged = sum(o["diverged"] for o in outcomes.values())
        print(
            f"trained {len(outcomes)}: {converged} converged, {diverged} diverged", file=sys.stderr
        )
    return 0


def _describe(outcome: dict) -> str:
    if outcome.get("steps") == 0:
        return str(outcome.get("status", "built"))
    acc = outcome["train_accuracy"]
    return (
        f"{outcome['status']}, level {outcome['curriculum_level'] + 1}, train_acc "
        f"{acc if acc is None else round(acc, 4)}, converged {outcome['converged']}"
    )


def add_task_parser(subparsers) -> None:
    p = subparsers.add_parser("task", help="decode a task id and describe its operator")
    p.add_argument("task_id", nargs="+", help="repeat_copy, T1..T4, or t1 t2 t3")
    p.add_argument("--input_dim", type=positive_int, default=8)
    p.add_argument("--seq_length", type=positive_int, default=8)
    p.set_defaults(func=run_task)


def run_task(args) -> int:
    import numpy as np

    from .tasks import decode_task_id, selection_operator, theory_phi

    task_id = _task_id_arg(args.task_id, args.input_dim)
    choice, signs = decode_task_id(task_id, args.input_dim, args.seq_length)
    d, length = args.input_dim, args.seq_length
    print(f"task_id = ({task_id[0]}, {task_id[1]}, {task_id[2]}), d = {d}, L = {length}")
    for j, (k, s) in enumerate(zip(choice, signs, strict=False)):
        lag = length - k // d
        print(f"  y_t[{j}] = {'+' if s > 0 else '-'}y_(t-{lag})[{k % d}]")
    phi = theory_phi(selection_operator(task_id, d, length), d, length)
    count = int((np.abs(np.linalg.eigvals(phi)) > 0.8).sum())
    print(f"Phi: {phi.shape[0]}x{phi.shape[1]}, {count} eigenvalues with |lambda| > 0.8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="vbpipe", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vbpipe {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_parser(sub)
    add_task_parser(sub)
    add_evaluate_parser(sub)
    add_aggregate_parser(sub)
    add_analyze_parser(sub)
    add_runs_parser(sub)
    add_sweep_parser(sub)
    add_maintenance_parsers(sub)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "overrides"):  # vbpipe sweep: KEY=VALUES anywhere on the line
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except VbpipeError as error:
        print(f"vbpipe {args.command}: error: {error}", file=sys.stderr)
        return 2
    except TrainingInterrupted as error:
        print(f"vbpipe {args.command}: {error}", file=sys.stderr)
        return 128 + error.signum
    except KeyboardInterrupt:
        print(f"vbpipe {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
