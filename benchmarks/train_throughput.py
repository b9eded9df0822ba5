"""Training throughput of the layouts a sweep of K seeds can run in, measured side by side.

A sweep trains many small RNNs that differ only in their seed. They can run as

- ``singles``: K single-model processes (``models_per_job=1``), one torch thread each,
  ``min(K, nproc)`` at a time, which is how the local Snakemake profile runs them;
- ``ensemble``: one process training all K seeds as one stacked computation
  (:class:`vbpipe.training.EnsembleModule`), with ``nproc`` torch threads on the CPU;
- ``split``: ``nproc`` concurrent single-thread processes, each an ensemble of ``K / nproc`` seeds
  (``models_per_job=K/nproc``; measured on the CPU when ``nproc`` divides K and K > nproc).

The unit is the **model-step**: one optimiser step of one seed. Which layout gives most
model-steps per second decides the default of the local profile (one model per job, or an
ensemble per job), and on a GPU whether a K=64 ensemble reaches the goal of >= 30x the
throughput of one model.

How it is measured. Every timing runs the real training step (:meth:`EnsembleModule.train_step`:
data, forward, backward, per-member clipping and Adam) with the curriculum pinned to one horizon
(``curriculum_horizons=(H,)``). Warm-up steps run first and are excluded; each step is timed with
``time.perf_counter`` (after ``torch.cuda.synchronize`` on a GPU). Single-thread workers are
started once with the ``spawn`` method and reused; concurrent workers build their models and warm
up, then start their timed steps together, each times its own steps, and the aggregate is the sum
of their rates. K single-model jobs run ``c = min(K, nproc)`` at a time take ``ceil(K / c)``
waves, so their throughput is ``K / ceil(K / c) * r_c``, ``r_c`` being the measured per-process
rate at concurrency c. The ensemble runs in the main process. Unless ``--no-lightning``, one
worker also compares :func:`vbpipe.training.train_block` (the full path, with the Lightning
``Trainer``) with a bare ``train_step`` loop of the same steps for one model.

The CPU here may be shared with other jobs, so every layout of one (hidden, horizon) is measured
in ``--rounds`` interleaved rounds (alternating order; models built and warmed once), each round's
rate comes from its **median** step time, and the best round counts. The mean over all rounds is
printed next to it: where the two differ much, the machine was noisy; the load average before and
after is printed too. A round times ``max(--min-steps, ceil(--steps / K / rounds))`` steps of K
models or stops after the step that passes ``--seconds / rounds``, so the run takes about as long
on a slow or a busy machine; warm-up (``--warmup`` steps, at least one) stops at ``--seconds``.

    python benchmarks/train_throughput.py                # defaults (CPU: ~6-8 min on 2 cores)
    python benchmarks/train_throughput.py --quick        # smoke test
    python benchmarks/train_throughput.py --device cuda  # GPU: ensemble vs one model on the GPU
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import torch

from vbpipe.config import TrainConfig
from vbpipe.training import EnsembleModule, Member, train_block

GPU_GOAL = 30.0  # ensemble(K=64) / one model, model-steps per second, on one GPU


def make_config(hidden: int, horizon: int, **overrides) -> TrainConfig:
    return TrainConfig(
        task_id="repeat_copy",
        input_dim=8,
        seq_length=8,
        hidden_dim=hidden,
        curriculum_horizons=(horizon,),
        **overrides,
    )


def make_module(hidden: int, horizon: int, members: int, device: str, first_seed: int = 0):
    config = make_config(hidden, horizon)
    folder = Path(tempfile.gettempdir()) / "vbpipe-throughput"  # EnsembleModule writes nothing here
    seeds = range(first_seed, first_seed + members)
    module = EnsembleModule([Member(seed, config, folder / f"model-{seed}") for seed in seeds])
    return module.to(device)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_steps(
    module: EnsembleModule, steps: int, device: str, budget: float = math.inf, at_least: int = 1
) -> list[float]:
    """Seconds of each ``train_step`` call: ``steps`` calls, or fewer (but at least ``at_least``)
    once ``budget`` seconds are spent."""
    times = []
    sync(device)
    start = previous = time.perf_counter()
    while len(times) < steps:
        module.train_step()
        sync(device)
        now = time.perf_counter()
        times.append(now - previous)
        previous = now
        if len(times) >= at_least and now - start > budget:
            break
    return times


def rates(members: int, times: list[float]) -> dict:
    """Model-steps per second from per-step times: by the median step and over the whole run."""
    return {
        "median": members / statistics.median(times),
        "mean": members * len(times) / sum(times),
    }


# -- single-thread worker processes ----------------------------------------------------------------
def worker(rank: int, device: str, tasks, results) -> None:
    """Runs measurement requests from ``tasks`` with one torch thread until it receives ``None``."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # Lightning vs newer torch, harmless
    modules: dict[tuple, EnsembleModule] = {}  # built and warmed once, timed in every round
    while (task := tasks.get()) is not None:
        try:
            serve(rank, device, task, tasks, results, modules)
        except Exception:  # report, do not leave the main process waiting
            results.put(("error", rank, traceback.format_exc()))


def serve(rank: int, device: str, task, tasks, results, modules: dict) -> None:
    """One request: a timed measurement (after a "go"), the Lightning comparison, or "clear"."""
    kind, spec = task
    if kind == "measure":
        members = spec["members"]
        key = (spec["hidden"], spec["horizon"], members)
        if key not in modules:
            modules[key] = make_module(*key, device, first_seed=rank * members)
            run_steps(modules[key], spec["warmup"], device, spec["seconds"])
        results.put(("ready", rank))
        tasks.get()  # "go": every concurrent worker is warm
        times = run_steps(modules[key], spec["steps"], device, spec["seconds"], spec["min_steps"])
        results.put(("done", rank, rates(members, times)))
    elif kind == "lightning":
        results.put(("lightning", rank, lightning_overhead(spec, device)))
    elif kind == "clear":
        modules.clear()


def lightning_overhead(spec: dict, device: str) -> dict:
    """One model: ``train_block`` (Lightning ``Trainer``) vs a bare ``train_step`` loop.

    In each round the bare loop runs within the time budget, then ``train_block`` runs as many
    steps. The per-step cost inside Lightning is the median interval between ``training_step``
    calls; the wall times also count the setup (Trainer, logs, checkpoints written at the end).
    The best round of each is kept.
    """
    hidden, horizon = spec["hidden"], spec["horizon"]
    starts: list[float] = []
    original = EnsembleModule.training_step

    def timed_training_step(self, batch, batch_idx):
        starts.append(time.perf_counter())
        return original(self, batch, batch_idx)

    def block(steps: int) -> float:
        config = make_config(hidden, horizon, epochs=1, steps_per_epoch=steps, validation_batches=0)
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            train_block(
                config,
                [0],
                output_dir=Path(folder),
                accelerator=device.split(":")[0],
                threads=1 if device == "cpu" else None,
                tensorboard=False,
                progress=False,
                save_every_steps=0,
            )
            return time.perf_counter() - start

    first_call = block(spec["warmup"])  # a job's first Trainer; the rounds below are warm
    best = {"bare_step_s": math.inf, "block_step_s": math.inf}
    best |= {"bare_wall_s": math.inf, "block_wall_s": math.inf}
    for _ in range(spec["rounds"]):
        start = time.perf_counter()
        module = make_module(hidden, horizon, 1, device)
        times = run_steps(module, spec["steps"], device, spec["seconds"], spec["min_steps"])
        bare_wall = time.perf_counter() - start
        starts.clear()
        EnsembleModule.training_step = timed_training_step
        try:
            block_wall = block(len(times))
        finally:
            EnsembleModule.training_step = original
        intervals = [b - a for a, b in zip(starts[:-1], starts[1:], strict=True)]
        round_ = {
            "bare_step_s": statistics.median(times),
            "block_step_s": statistics.median(intervals) if intervals else math.inf,
            "bare_wall_s": bare_wall / len(times),
            "block_wall_s": block_wall / len(times),
        }
        best = {key: min(best[key], value) for key, value in round_.items()}
    return {**best, "steps": len(times), "first_call_s": first_call}


class Workers:
    """``count`` spawned single-thread workers, reused for every measurement."""

    def __init__(self, count: int, device: str):
        context = mp.get_context("spawn")
        self.results = context.Queue()
        self.tasks = [context.Queue() for _ in range(count)]
        self.procs = [
            context.Process(target=worker, args=(rank, device, queue, self.results), daemon=True)
            for rank, queue in enumerate(self.tasks)
        ]
        for proc in self.procs:
            proc.start()

    def measure(self, concurrency: int, spec: dict) -> dict:
        """Aggregate rate of ``concurrency`` workers running ``spec`` at the same time."""
        for queue in self.tasks[:concurrency]:
            queue.put(("measure", spec))
        for _ in range(concurrency):
            self._get("ready")
        for queue in self.tasks[:concurrency]:
            queue.put(("go", None))
        done = [self._get("done")[2] for _ in range(concurrency)]
        return {key: sum(d[key] for d in done) for key in ("median", "mean")}

    def lightning(self, spec: dict) -> dict:
        self.tasks[0].put(("lightning", spec))
        return self._get("lightning")[2]

    def clear(self) -> None:
        for queue in self.tasks:
            queue.put(("clear", None))

    def _get(self, kind: str):
        message = self.results.get(timeout=3600)
        if message[0] == "error":
            raise RuntimeError(f"worker {message[1]} failed:\n{message[2]}")
        if message[0] != kind:
            raise RuntimeError(f"expected a {kind!r} message from a worker, got {message!r}")
        return message

    def close(self) -> None:
        for queue in self.tasks:
            queue.put(None)
        for proc in self.procs:
            proc.join(timeout=30)


# -- the benchmark ---------------------------------------------------------------------------------
def timing(args, members: int) -> dict:
    """One round of one measurement: its share of ``--steps`` model-steps or ``--seconds``."""
    steps = max(args.min_steps, math.ceil(args.steps / members / args.rounds))
    return {"steps": steps, "seconds": args.seconds / args.rounds, "min_steps": args.min_steps}


def measure_pair(args, workers: Workers, hidden: int, horizon: int, nproc: int) -> dict:
    """Every layout of one (hidden, horizon), in interleaved rounds; the best round counts."""
    base = {"hidden": hidden, "horizon": horizon, "warmup": args.warmup}
    gpu = args.device.startswith("cuda")
    ensembles: dict[int, EnsembleModule] = {}

    def ensemble(k: int) -> dict:
        if k not in ensembles:
            ensembles[k] = make_module(hidden, horizon, k, args.device)
            run_steps(ensembles[k], args.warmup, args.device, args.seconds)
        plan = timing(args, k)
        times = run_steps(
            ensembles[k], plan["steps"], args.device, plan["seconds"], plan["min_steps"]
        )
        return rates(k, times)

    cells = {
        ("singles", c): (lambda c=c: workers.measure(c, {**base, "members": 1, **timing(args, 1)}))
        for c in ([1] if gpu else sorted({min(k, nproc) for k in args.ks}))
    }
    for k in args.ks:
        cells[("ensemble", k)] = lambda k=k: ensemble(k)
        if not gpu and args.split and k > nproc and k % nproc == 0:
            spec = {**base, "members": k // nproc, **timing(args, k // nproc)}
            cells[("split", k)] = lambda spec=spec: workers.measure(nproc, spec)
    rounds: dict[tuple, list[dict]] = {cell: [] for cell in cells}
    for index in range(args.rounds):
        order = list(cells) if index % 2 == 0 else list(reversed(cells))  # no layout always first
        for cell in order:
            rounds[cell].append(cells[cell]())
        log(f"  round {index + 1}/{args.rounds} done")
    ensembles.clear()
    workers.clear()
    best = {
        cell: {
            "median": max(r["median"] for r in rs),
            "mean": statistics.mean(r["mean"] for r in rs),
        }
        for cell, rs in rounds.items()
    }

    rows = []
    for k in args.ks:
        level = 1 if gpu else min(k, nproc)
        # K jobs, `level` at a time: ceil(K / level) waves at the aggregate rate of `level`.
        scale = k / math.ceil(k / level) / level
        singles = {key: scale * value for key, value in best[("singles", level)].items()}
        how = "1 model on the GPU" if gpu else f"{k} x 1-model jobs, {level} at a time, 1 thr"
        rows.append(row(hidden, horizon, k, "singles", how, singles, None))
        threads = "" if gpu else f", {torch.get_num_threads()} thr"
        how = f"1 job x {k} models{threads}"
        rows.append(row(hidden, horizon, k, "ensemble", how, best[("ensemble", k)], singles))
        if ("split", k) in best:
            how = f"{nproc} jobs x {k // nproc} models, 1 thr"
            rows.append(row(hidden, horizon, k, "split", how, best[("split", k)], singles))
    result = {
        "hidden": hidden,
        "horizon": horizon,
        "rows": rows,
        "concurrent": {str(c): best[("singles", c)] for kind, c in cells if kind == "singles"},
        "rounds": {f"{kind} {n}": rs for (kind, n), rs in rounds.items()},
    }
    if args.lightning:
        result["lightning"] = workers.lightning({**base, **timing(args, 1), "rounds": args.rounds})
    return result


def row(hidden, horizon, k, layout, how, rate: dict, singles: dict | None) -> dict:
    return {
        "hidden": hidden,
        "horizon": horizon,
        "K": k,
        "layout": layout,
        "how": how,
        "model_steps_per_s": rate["median"],
        "model_steps_per_s_mean": rate["mean"],
        "ms_per_model_step": 1000.0 / rate["median"],
        "ratio_vs_singles": None if singles is None else rate["median"] / singles["median"],
    }


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def print_report(args, results: list[dict], nproc: int, loads: list, seconds: float) -> None:
    gpu = args.device.startswith("cuda")
    where = torch.cuda.get_device_name() if gpu else f"CPU, {nproc} cores"
    print(f"\nTraining throughput, {where}, torch {torch.__version__}")
    print(
        "steps/s: model-steps (one optimiser step of one seed) per second, all processes of the "
        f"layout together,\nfrom the median step time of the best of {args.rounds} interleaved "
        "rounds; ms: wall ms per model-step;\nmean: steps/s over all rounds (noise check)"
    )
    print(
        f"load average before {loads[0]:.2f}, after {loads[1]:.2f}; "
        f"benchmark took {seconds / 60:.1f} min\n"
    )
    header = (
        f"{'hidden':>6} {'H':>4} {'K':>3}  {'layout':<9}{'how':<38}"
        f"{'steps/s':>9}{'ms':>8}{'mean':>9}{'vs singles':>12}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for r in result["rows"]:
            ratio = "" if r["ratio_vs_singles"] is None else f"{r['ratio_vs_singles']:.2f}x"
            print(
                f"{r['hidden']:>6} {r['horizon']:>4} {r['K']:>3}  {r['layout']:<9}{r['how']:<38}"
                f"{r['model_steps_per_s']:>9.1f}{r['ms_per_model_step']:>8.2f}"
                f"{r['model_steps_per_s_mean']:>9.1f}{ratio:>12}"
            )
    print()
    for result in results:
        one = result["concurrent"]["1"]["median"]
        text = (
            f"hidden {result['hidden']:>3} H {result['horizon']:>3}: 1 process x 1 thread {one:.1f}"
        )
        if not gpu and str(nproc) in result["concurrent"]:
            agg = result["concurrent"][str(nproc)]["median"]
            text += f", {nproc} concurrent {agg:.1f} ({agg / one:.2f}x) model-steps/s"
        if "lightning" in result:
            lt = result["lightning"]
            text += (
                f"; Lightning/bare per step {lt['block_step_s'] / lt['bare_step_s']:.2f}x, "
                f"incl. setup {lt['block_wall_s'] / lt['bare_wall_s']:.2f}x ({lt['steps']} steps)"
            )
        print(text)
    if gpu:
        print()
        top = max(args.ks)
        for result in results:
            ens = next(r for r in result["rows"] if r["K"] == top and r["layout"] == "ensemble")
            ratio = ens["ratio_vs_singles"]
            verdict = "meets" if ratio >= GPU_GOAL else "misses"
            print(
                f"GPU hidden {result['hidden']} H {result['horizon']}: ensemble(K={top}) / one "
                f"model = {ratio:.1f}x ({verdict} the goal >= {GPU_GOAL:.0f}x)"
            )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--horizons", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument(
        "--steps",
        type=int,
        default=512,
        help="most model-steps timed per measurement (default 512)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=6.0,
        help="time budget of one layout, shared by its rounds (default 6)",
    )
    parser.add_argument(
        "--min-steps",
        type=int,
        default=3,
        help="fewest timed steps of a measurement, whatever the budget (default 3)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved rounds per layout, the best counts; they share --seconds (default 3)",
    )
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument(
        "--no-lightning",
        dest="lightning",
        action="store_false",
        help="skip the train_block (Lightning) vs bare loop comparison",
    )
    parser.add_argument(
        "--no-split",
        dest="split",
        action="store_false",
        help="skip nproc concurrent single-thread ensembles of K/nproc",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: hidden 64, horizon 10, K 1 4, at most 1 s a measurement",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.hidden, args.horizons, args.ks, args.seconds, args.min_steps = [64], [10], [1, 4], 1, 2
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if args.device == "cpu":
        torch.set_num_threads(nproc)
    loads, started = [os.getloadavg()[0]], time.perf_counter()
    log(f"device {args.device}, {nproc} cores, load {loads[0]:.2f}; starting workers")
    workers = Workers(1 if args.device == "cuda" else nproc, args.device)
    try:
        results = []
        for hidden in args.hidden:
            for horizon in args.horizons:
                log(f"hidden {hidden}, horizon {horizon}")
                results.append(measure_pair(args, workers, hidden, horizon, nproc))
    finally:
        workers.close()
    loads.append(os.getloadavg()[0])
    seconds = time.perf_counter() - started
    print_report(args, results, nproc, loads, seconds)
    if args.json:
        payload = {
            "device": args.device,
            "nproc": nproc,
            "load": loads,
            "seconds": seconds,
            "argv": sys.argv[1:],
            "results": results,
        }
        args.json.write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
