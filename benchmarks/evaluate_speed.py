"""Benchmark: per-model evaluation time without figures (hidden 128, L = d = 8, default protocol).

Builds a throw-away checkpoint in a temporary directory (random weights of the right shape; the
evaluation cost does not depend on the values), then times :func:`vbpipe.evaluation.evaluate_model`
with the defaults (10 batches x 64 sequences at test horizon 200, spectra, PCA-subspace metrics, EMT
basis) and, separately, writing ``metrics.json`` + ``arrays.npz`` through ``run_evaluate_model``.
Target: under 2 s per model on a 2-core CPU. On a shared machine the wall time swings with the load;
the process CPU time is printed too. With 2 threads on a loaded 2-core machine OpenMP threads
contend badly: ``--threads 1`` is then faster.

    PYTHONPATH=src python3 benchmarks/evaluate_speed.py [--repeats 5] [--hidden 128] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from vbpipe.checkpoint import save_model
from vbpipe.evaluation.evaluate import evaluate_model
from vbpipe.evaluation.run import run_evaluate_model
from vbpipe.model import init_weights


def make_checkpoint(root: Path, hidden: int, d: int, length: int) -> Path:
    hparams = {
        "task_id": ["255", "0", "0"],
        "input_dim": d,
        "seq_length": length,
        "use_eos": False,
        "hidden_dim": hidden,
        "bias": False,
        "seed": 1,
    }
    outcome = {
        "steps": 0,
        "curriculum_level": 0,
        "horizon": 10,
        "train_accuracy": 0.5,
        "train_loss": 1.0,
        "converged": False,
        "diverged": False,
        "diverged_at_step": None,
        "early_stopped": False,
        "curriculum_history": [],
        "wall_seconds": 0.0,
    }
    model_dir = root / "exp" / "variant" / "model-1"
    save_model(
        model_dir / "checkpoint" / "model.pt", init_weights(1, d, hidden, d), hparams, outcome
    )
    return model_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seq_length", type=int, default=8)
    parser.add_argument("--input_dim", type=int, default=8)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = make_checkpoint(Path(tmp), args.hidden, args.input_dim, args.seq_length)
        evaluate_model(model_dir)  # warm-up (imports, lazy initialisation)
        times, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            evaluate_model(model_dir)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        start = time.perf_counter()
        run_evaluate_model(model_dir, Path(tmp) / "results")
        with_io = time.perf_counter() - start
    print(
        f"evaluate_model, hidden {args.hidden}, L = {args.seq_length}, d = {args.input_dim}, "
        f"10 x 64 @ horizon 200, no figures, torch threads {torch.get_num_threads()}:"
    )
    print(
        f"  per model: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s over {args.repeats} runs"
    )
    print(
        f"  process CPU time per model: median {statistics.median(cpu):.3f} s "
        "(wall time on an idle machine is about CPU time / threads used)"
    )
    print(f"  run_evaluate_model (with metrics.json + arrays.npz): {with_io:.3f} s")


if __name__ == "__main__":
    main()
