"""Training throughput of the layouts a sweep of K seeds can run in, measured side by side.

A sweep trains many small RNNs that differ only in their seed. They can run as

- ``singles``: K single-model processes (``models_per_job=1``), one torch thread each,
  ``min(K, nproc)`` at a time, which is how the local Snakemake profile runs them;
- ``ensemble``: one process training all K seeds as one stacked computation
  (:class:`vbpipe.training.EnsembleModule`), with ``nproc`` torch threads on the CPU;
- ``split``: ``nproc`` concurrent single-thread processes, each an ensemble of ``K / nproc`` seeds
  (``models_per_job=K/nproc``; measured when ``nproc`` divides K and K > nproc).

The unit is the **model-step**: one optimiser step of one seed. Which layout gives most
model-steps per second decides the default of the local profile (one model per job, or an
ensemble per job), and on a GPU whether a K=64 ensemble reaches the goal of >= 30x the
throughput of one model.

How it is measured. Every timing runs the real training step (:meth:`EnsembleModule.train_step`:
data, forward, backward, per-member clipping and Adam) with the curriculum pinned to one horizon
(``curriculum_horizons=(H,)``). Warm-up steps run first and are excluded; timings use
``time.perf_counter`` (after ``torch.cuda.synchronize`` on a GPU). Single-thread workers are
started once with the ``spawn`` method and reused; concurrent workers build their models and warm
up, then start their timed steps together, each times its own steps, and the aggregate is the sum
of their rates. K single-model jobs run ``c = min(K, nproc)`` at a time take ``ceil(K / c)``
waves, so their throughput is ``K / ceil(K / c) * r_c``, ``r_c`` being the measured per-process
rate at concurrency c. The ensemble runs in the main process. Unless ``--no-lightning``, one
worker also times :func:`vbpipe.training.train_block` (the full path, with the Lightning
``Trainer``) against a bare ``train_step`` loop of the same steps for one model.

A measurement times ``max(--min-steps, ceil(--steps / K))`` steps of K models, or stops after the
step that passes ``--seconds``, so the run takes about the same time on a slow or a busy machine.
Warm-up (``--warmup`` steps, at least one) stops at the same budget. CPU numbers are only as quiet
as the machine: the load average before and after is printed with the table.

    python benchmarks/train_throughput.py                # defaults (CPU: minutes on 2 cores)
    python benchmarks/train_throughput.py --quick        # smoke test
    python benchmarks/train_throughput.py --device cuda  # GPU: ensemble vs one model on the GPU
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
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
) -> tuple[int, float]:
    """Call ``train_step`` ``steps`` times, or stop once ``budget`` seconds are spent (after at
    least ``at_least`` steps); returns (steps done, seconds)."""
    sync(device)
    start = time.perf_counter()
    done = 0
    while done < steps:
        module.train_step()
        done += 1
        if done >= at_least and time.perf_counter() - start > budget:
            break
    sync(device)
    return done, time.perf_counter() - start


# -- single-thread worker processes ----------------------------------------------------------------
def worker(rank: int, device: str, tasks, results) -> None:
    """Runs measurement requests from ``tasks`` with one torch thread until it receives ``None``."""
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # Lightning vs newer torch, harmless
    while (task := tasks.get()) is not None:
        try:
            serve(rank, device, task, tasks, results)
        except Exception:  # report, do not leave the main process waiting
            results.put(("error", rank, traceback.format_exc()))


def serve(rank: int, device: str, task, tasks, results) -> None:
    """One request: a timed measurement (after a "go") or the Lightning comparison."""
    kind, spec = task
    if kind == "measure":
        module = make_module(
            spec["hidden"], spec["horizon"], spec["members"], device, rank * spec["members"]
        )
        run_steps(module, spec["warmup"], device, spec["seconds"])
        results.put(("ready", rank))
        tasks.get()  # "go": every concurrent worker is warm
        steps, seconds = run_steps(
            module, spec["steps"], device, spec["seconds"], spec["min_steps"]
        )
        results.put(("done", rank, steps * spec["members"], seconds))
    elif kind == "lightning":
        results.put(("lightning", rank, lightning_overhead(spec, device)))


def lightning_overhead(spec: dict, device: str) -> dict:
    """One model, ``steps`` steps: ``train_block`` (Lightning) vs a bare ``train_step`` loop."""
    hidden, horizon = spec["hidden"], spec["horizon"]

    def bare(count: int, budget: float = math.inf) -> tuple[int, float]:
        start = time.perf_counter()
        module = make_module(hidden, horizon, 1, device)
        done = run_steps(module, count, device, budget, spec["min_steps"])[0]
        return done, time.perf_counter() - start

    def block(count: int) -> tuple[float, float]:
        config = make_config(hidden, horizon, epochs=1, steps_per_epoch=count, validation_batches=0)
        threads = 1 if device == "cpu" else None
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            result = train_block(
                config,
                [0],
                output_dir=Path(folder),
                accelerator=device.split(":")[0],
                threads=threads,
                tensorboard=False,
                progress=False,
                save_every_steps=0,
            )
            return result.wall_seconds, time.perf_counter() - start

    first_call = block(spec["warmup"])[1]  # one-time Lightning cost of a job, then warm runs
    steps, bare_s = bare(spec["steps"], spec["seconds"])  # the budget fixes the step count
    block_s, call_s = block(steps)
    return {
        "steps": steps,
        "bare_s": bare_s,
        "block_s": block_s,
        "call_s": call_s,
        "first_call_s": first_call,
    }


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

    def measure(self, concurrency: int, spec: dict) -> list[float]:
        """Per-process model-steps/s of ``concurrency`` workers running ``spec`` together."""
        for queue in self.tasks[:concurrency]:
            queue.put(("measure", spec))
        for _ in range(concurrency):
            self._get("ready")
        for queue in self.tasks[:concurrency]:
            queue.put(("go", None))
        done = [self._get("done") for _ in range(concurrency)]
        return [model_steps / seconds for _, _, model_steps, seconds in done]

    def lightning(self, spec: dict) -> dict:
        self.tasks[0].put(("lightning", spec))
        return self._get("lightning")[2]

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
    """Timed steps of one measurement: ``--steps`` model-steps or ``--seconds``, whichever first."""
    steps = max(args.min_steps, math.ceil(args.steps / members))
    return {"steps": steps, "seconds": args.seconds, "min_steps": args.min_steps}


def measure_pair(args, workers: Workers, hidden: int, horizon: int, nproc: int) -> dict:
    base = {"hidden": hidden, "horizon": horizon, "warmup": args.warmup}
    gpu = args.device.startswith("cuda")
    levels = [1] if gpu else sorted({min(k, nproc) for k in args.ks})
    per_proc = {}  # concurrency -> list of per-process rates of single-model workers
    for level in levels:
        per_proc[level] = workers.measure(level, {**base, "members": 1, **timing(args, 1)})
        log(
            f"  singles  c={level}: {sum(per_proc[level]):8.1f} model-steps/s "
            f"({', '.join(f'{r:.1f}' for r in per_proc[level])} per process)"
        )
    rows = []
    for k in args.ks:
        level = 1 if gpu else min(k, nproc)
        rate = mean(per_proc[level])
        singles = k / math.ceil(k / level) * rate
        how = "1 model on the GPU" if gpu else f"{k} x 1-model jobs, {level} at a time, 1 thr"
        rows.append(row(hidden, horizon, k, "singles", how, singles, None))

        module = make_module(hidden, horizon, k, args.device)
        run_steps(module, args.warmup, args.device, args.seconds)
        plan = timing(args, k)
        steps, seconds = run_steps(
            module, plan["steps"], args.device, plan["seconds"], plan["min_steps"]
        )
        ensemble = k * steps / seconds
        del module
        threads = "" if gpu else f", {torch.get_num_threads()} thr"
        rows.append(
            row(
                hidden,
                horizon,
                k,
                "ensemble",
                f"1 job x {k} models{threads}",
                ensemble,
                ensemble / singles,
            )
        )
        log(f"  ensemble K={k}: {ensemble:8.1f} model-steps/s (singles {singles:.1f})")

        if not gpu and args.split and k > nproc and k % nproc == 0:
            part = k // nproc
            split = sum(workers.measure(nproc, {**base, "members": part, **timing(args, part)}))
            rows.append(
                row(
                    hidden,
                    horizon,
                    k,
                    "split",
                    f"{nproc} jobs x {part} models, 1 thr",
                    split,
                    split / singles,
                )
            )
            log(f"  split    K={k}: {split:8.1f} model-steps/s")
    result = {
        "hidden": hidden,
        "horizon": horizon,
        "rows": rows,
        "single_rate": mean(per_proc[1]),
        "concurrent": {str(c): sum(r) for c, r in per_proc.items()},
    }
    if args.lightning:
        result["lightning"] = workers.lightning({**base, **timing(args, 1)})
        lt = result["lightning"]
        log(
            f"  lightning: train_block {lt['block_s']:.2f}s vs bare {lt['bare_s']:.2f}s "
            f"for {lt['steps']} steps"
        )
    return result


def row(hidden, horizon, k, layout, how, rate, ratio) -> dict:
    return {
        "hidden": hidden,
        "horizon": horizon,
        "K": k,
        "layout": layout,
        "how": how,
        "model_steps_per_s": rate,
        "ms_per_model_step": 1000.0 / rate,
        "ratio_vs_singles": ratio,
    }


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def print_report(args, results: list[dict], nproc: int, loads: tuple, seconds: float) -> None:
    gpu = args.device.startswith("cuda")
    where = torch.cuda.get_device_name() if gpu else f"CPU, {nproc} cores"
    print(
        f"\nTraining throughput ({where}; torch {torch.__version__}); model-steps/s = optimiser "
        f"steps of one seed per second, all processes together; ms = wall ms per model-step."
    )
    print(
        f"load average before {loads[0]:.2f}, after {loads[1]:.2f}; "
        f"benchmark took {seconds / 60:.1f} min\n"
    )
    header = f"{'hidden':>6} {'H':>4} {'K':>3}  {'layout':<9}{'how':<40}{'steps/s':>9}{'ms':>8}"
    print(header + f"{'vs singles':>12}")
    print("-" * (len(header) + 12))
    for result in results:
        for r in result["rows"]:
            ratio = "" if r["ratio_vs_singles"] is None else f"{r['ratio_vs_singles']:.2f}x"
            print(
                f"{r['hidden']:>6} {r['horizon']:>4} {r['K']:>3}  {r['layout']:<9}{r['how']:<40}"
                f"{r['model_steps_per_s']:>9.1f}{r['ms_per_model_step']:>8.2f}{ratio:>12}"
            )
    print()
    for result in results:
        text = (
            f"hidden {result['hidden']:>3} H {result['horizon']:>3}: 1 process x 1 thread "
            f"{result['single_rate']:.1f} model-steps/s"
        )
        if not gpu and str(nproc) in result["concurrent"]:
            agg = result["concurrent"][str(nproc)]
            text += f"; {nproc} concurrent {agg:.1f} ({agg / result['single_rate']:.2f}x)"
        if "lightning" in result:
            lt = result["lightning"]
            text += (
                f"; Lightning train_block/bare loop ({lt['steps']} steps) "
                f"{lt['block_s'] / lt['bare_s']:.2f}x, first call {lt['first_call_s']:.1f}s"
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
        default=8.0,
        help="time budget of one measurement: it stops after the step that passes it (default 8)",
    )
    parser.add_argument(
        "--min-steps",
        type=int,
        default=3,
        help="fewest timed steps of a measurement, whatever the budget (default 3)",
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
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
    print_report(args, results, nproc, tuple(loads), seconds)
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
