"""The ``vbpipe`` command: one subcommand per stage, on the same files the workflow writes.

``vbpipe train`` covers the original ``train_multiple.py`` flags; ``vbpipe evaluate`` the original
``evaluate_multiple.py``; ``vbpipe analyze eigenvalue|embedding|persistence|compare`` the original ``analyze.py``;
``vbpipe task`` explains a task id.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from .config import (
    ORIGINAL_HORIZONS,
    ConfigError,
    TrainConfig,
    experiment_config_json,
    original_seeds,
)
from .fileio import write_json
from .tasks import TaskIdError, parse_task_id


def _task_id_arg(values: list[str], input_dim: int = 8) -> tuple[int, int, int]:
    if len(values) == 1:
        return parse_task_id(values[0], input_dim)
    if len(values) == 3:
        return parse_task_id(values)
    raise TaskIdError(
        f"--task_id takes a name (repeat_copy, T1-T4) or three integers, got {values}"
    )


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
    g.add_argument("--input_dim", type=int, default=8, help="d: bits per vector")
    g.add_argument(
        "--seq_length",
        type=int,
        nargs="+",
        required=True,
        help="L, or two values MIN MAX for a variable length drawn per batch",
    )
    g.add_argument("--use_eos", action="store_true", help="add an end-of-sequence input channel")
    g = p.add_argument_group("model")
    g.add_argument("--hidden_dim", type=int, default=128)
    g.add_argument("--model_type", default="rnn", choices=["rnn"])
    g.add_argument("--bias", action="store_true", help="biases in the recurrence and the readout")
    g = p.add_argument_group("training")
    g.add_argument("--seed", type=int, default=0, help="base seed: model i gets seed + 1000*i")
    g.add_argument("--num_models", type=int, default=50)
    g.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="explicit seeds (overrides --seed/--num_models)",
    )
    g.add_argument("--learning_rate", type=float, default=1e-3)
    g.add_argument("--batch_size", type=int, default=64)
    g.add_argument("--gradient_clip", type=float, default=1.0)
    g.add_argument("--l2_penalty", type=float, default=0.0)
    g.add_argument("--epochs", type=int, default=20)
    g.add_argument("--steps_per_epoch", type=int, default=2000)
    g.add_argument("--curriculum", action=argparse.BooleanOptionalAction, default=True)
    g.add_argument("--curriculum_threshold", type=float, default=0.96)
    g.add_argument("--curriculum_horizons", type=int, nargs="+", default=list(ORIGINAL_HORIZONS))
    g.add_argument(
        "--curriculum_window",
        type=int,
        default=1,
        help="advance when the mean accuracy of the last N batches exceeds the threshold",
    )
    g.add_argument(
        "--fixed_horizon", type=int, default=36, help="training horizon with --no_curriculum"
    )
    g.add_argument(
        "--early_stop",
        action="store_true",
        help="stop a seed once it holds the last level at --early_stop_accuracy",
    )
    g.add_argument("--early_stop_accuracy", type=float, default=1.0)
    g.add_argument("--early_stop_patience", type=int, default=500)
    g.add_argument("--validation_batches", type=int, default=4)
    g = p.add_argument_group("execution")
    g.add_argument("--accelerator", default="auto", choices=["auto", "cpu", "gpu"])
    g.add_argument(
        "--models_per_job",
        type=int,
        default=None,
        help="seeds trained together as one batched ensemble (default: all on a GPU, 1 on CPU)",
    )
    g.add_argument("--num_workers", type=int, default=1, help="parallel processes, one block each")
    g.add_argument("--threads", type=int, default=None, help="torch threads per process on CPU")
    g.add_argument("--save_every", type=int, default=1000, help="steps between resume states")
    g.add_argument("--overwrite", action="store_true", help="retrain seeds whose checkpoint exists")
    g.add_argument("--no_progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_train)


def config_from_args(args) -> TrainConfig:
    seq = args.seq_length
    if len(seq) not in (1, 2):
        raise ConfigError(f"seq_length: give one value or MIN MAX, got {seq}")
    return TrainConfig(
        task_id=_task_id_arg(args.task_id, args.input_dim),
        input_dim=args.input_dim,
        seq_length=seq[0] if len(seq) == 1 else tuple(seq),
        use_eos=args.use_eos,
        hidden_dim=args.hidden_dim,
        bias=args.bias,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        gradient_clip=args.gradient_clip,
        l2_penalty=args.l2_penalty,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        curriculum=args.curriculum,
        curriculum_threshold=args.curriculum_threshold,
        curriculum_horizons=tuple(args.curriculum_horizons),
        curriculum_window=args.curriculum_window,
        fixed_horizon=args.fixed_horizon,
        early_stop=args.early_stop,
        early_stop_accuracy=args.early_stop_accuracy,
        early_stop_patience=args.early_stop_patience,
        validation_batches=args.validation_batches,
        model_type=args.model_type,
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
        old = json.loads(path.read_text())
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


def _train_one_block(kwargs: dict):
    from .training import train_block

    return train_block(**kwargs)


def run_train(args) -> int:
    from .training import resolve_device

    config = config_from_args(args)
    seeds = args.seeds if args.seeds else original_seeds(args.seed, args.num_models)
    if any(s < 0 for s in seeds):
        raise ConfigError(f"seeds must be non-negative, got {seeds}")
    device = resolve_device(args.accelerator)
    block = args.models_per_job or (len(seeds) if device.type == "cuda" else 1)
    if block < 1 or args.num_workers < 1:
        raise ConfigError("models_per_job and num_workers must be >= 1")
    out = Path(args.output_dir) / args.experiment_name
    if args.variant:
        out = out / args.variant
    if config.hidden_dim < config.memory_dim:
        print(
            f"note: hidden_dim {config.hidden_dim} < L*d = {config.memory_dim}: the model cannot hold "
            "the task's memory exactly; evaluation will flag it",
            file=sys.stderr,
        )
    meta = experiment_config_json(
        args.experiment_name, config, seeds, device.type, "vbpipe train", block, args.variant
    )
    write_experiment_config(out / "config.json", meta, args.overwrite)
    blocks = [seeds[i : i + block] for i in range(0, len(seeds), block)]
    jobs = [
        dict(
            config=config,
            seeds=b,
            output_dir=out,
            accelerator=args.accelerator,
            threads=args.threads or (1 if args.num_workers > 1 else None),
            existing="overwrite" if args.overwrite else "skip",
            progress=not args.no_progress and args.num_workers == 1,
            save_every_steps=args.save_every,
        )
        for b in blocks
    ]
    print(
        f"training {len(seeds)} model(s) in {len(blocks)} block(s) of <= {block} on {device.type} "
        f"-> {out}",
        file=sys.stderr,
    )
    results = []
    if args.num_workers == 1:
        for i, job in enumerate(jobs, 1):
            results.append(_train_one_block(job))
            _report_block(i, len(jobs), results[-1])
    else:
        with ProcessPoolExecutor(args.num_workers, mp_context=get_context("spawn")) as pool:
            for i, result in enumerate(pool.map(_train_one_block, jobs), 1):
                results.append(result)
                _report_block(i, len(jobs), result)
    outcomes = [o for r in results for o in r.outcomes.values()]
    if outcomes:
        converged = sum(o["converged"] for o in outcomes)
        diverged = sum(o["diverged"] for o in outcomes)
        print(
            f"trained {len(outcomes)}: {converged} converged, {diverged} diverged", file=sys.stderr
        )
    return 0


def _report_block(index: int, total: int, result) -> None:
    for seed, why in result.skipped.items():
        print(f"[{index}/{total}] seed {seed}: skipped, {why}", file=sys.stderr)
    for seed, outcome in result.outcomes.items():
        acc = outcome["train_accuracy"]
        print(
            f"[{index}/{total}] seed {seed}: {outcome['status']}, level {outcome['curriculum_level'] + 1}, "
            f"train_acc {acc if acc is None else round(acc, 4)}, converged {outcome['converged']}",
            file=sys.stderr,
        )


def add_task_parser(subparsers) -> None:
    p = subparsers.add_parser("task", help="decode a task id and describe its operator")
    p.add_argument("task_id", nargs="+", help="repeat_copy, T1..T4, or t1 t2 t3")
    p.add_argument("--input_dim", type=int, default=8)
    p.add_argument("--seq_length", type=int, default=8)
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
    parser = argparse.ArgumentParser(prog="vbpipe", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vbpipe {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_parser(sub)
    add_task_parser(sub)
    for module, name in (
        ("vbpipe.evaluation.cli", "add_evaluate_parser"),
        ("vbpipe.evaluation.cli", "add_aggregate_parser"),
        ("vbpipe.analysis.cli", "add_analyze_parser"),
    ):
        try:
            adder = getattr(__import__(module, fromlist=[name]), name)
        except (ImportError, AttributeError):
            continue
        adder(sub)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, TaskIdError, FileExistsError) as error:
        print(f"vbpipe {args.command}: error: {error}", file=sys.stderr)
        return 2
    except (
        Exception
    ) as error:  # the interrupted-training exit code tells Slurm/Snakemake what happened
        from .training import TrainingInterrupted

        if isinstance(error, TrainingInterrupted):
            print(f"vbpipe {args.command}: {error}", file=sys.stderr)
            return 128 + error.signum
        raise


if __name__ == "__main__":
    sys.exit(main())
