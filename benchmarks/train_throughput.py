"""Training speed on one CPU thread: our step against the original project's, and ensembles against one model.

The unit is the **model-step**: one optimiser step of one model (data, forward, backward, clipping, Adam,
bookkeeping). Measured side by side in one process with one torch thread, interleaved in rounds (the machine
may be shared; the best round counts, the spread is printed):

- **original**: the original project's step, re-created: its data generation (a Python loop over the horizon,
  ``y_t = window @ F`` per step), ``torch.nn.RNN(tanh, bias=False)`` + ``nn.Linear(bias=False)``, MSE on the
  output phase, ``torch.optim.Adam(lr, weight_decay=l2)`` and ``clip_grad_norm_(1.0)``; no Lightning.
- **ours**: :func:`vbpipe.training.train_pack` as jobs run it (Lightning ``Trainer``, ``DataLoader``, callbacks),
  timed between consecutive ``on_train_batch_end`` calls after warm-up, for packs of K = 1, 4, 16, 64 seeds.
- **bare**: the same module step without the ``Trainer`` (our hooks called in Lightning's order), for one
  model: the difference is what Lightning costs per step.

Printed ratios: ours (one model) / original, per-model time of each ensemble / one model, and the minor page
faults per step (allocation churn). ``--optimizer-launches`` adds the measurement behind
:mod:`vbpipe.training.optim`: ATen operations dispatched per optimiser step for K = 640 members as 640
``torch.optim.Adam`` parameter groups versus one :class:`~vbpipe.training.optim.StackedAdam` tensor.

    python benchmarks/train_throughput.py                        # hidden 128, H 10 and 100 (~6 min here)
    python benchmarks/train_throughput.py --quick                # smoke test
    python benchmarks/train_throughput.py --optimizer-launches   # also the parameter-group measurement
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
import torch

from vbpipe.config import TrainConfig
from vbpipe.tasks import selection_operator
from vbpipe.training import MemberSpec, train_pack

D = L = 8
BATCH = 64
LR, L2 = 1e-3, 1e-3


def config(hidden: int, horizon: int, steps: int) -> TrainConfig:
    return TrainConfig(
        task_id="T1",
        input_dim=D,
        seq_length=L,
        hidden_dim=hidden,
        learning_rate=LR,
        l2_penalty=L2,
        curriculum_horizons=(horizon,),
        epochs=1,
        steps_per_epoch=steps,
        validation_batches=0,
    )


class StepClock(pl.Callback):
    """Wall time and minor page faults at the end of every step."""

    def __init__(self):
        self.times, self.faults = [], []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.times.append(time.perf_counter())
        self.faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt)


def per_step(values: list[float], warmup: int) -> list[float]:
    return [b - a for a, b in zip(values[warmup:-1], values[warmup + 1 :], strict=True)]


def ours(hidden: int, horizon: int, members: int, warmup: int, steps: int) -> dict:
    """Median ms per model-step of a pack of ``members`` seeds through ``train_pack``."""
    clock = StepClock()
    with tempfile.TemporaryDirectory() as folder:
        specs = [
            MemberSpec(config(hidden, horizon, warmup + steps + 1), seed, Path(folder) / f"m{seed}")
            for seed in range(members)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train_pack(
                specs,
                accelerator="cpu",
                tensorboard=False,
                save_every_steps=0,
                log_interval_seconds=0,
                callbacks=[clock],
            )
    seconds = statistics.median(per_step(clock.times, warmup))
    faults = statistics.median(per_step(clock.faults, warmup))
    return {"ms": 1000 * seconds / members, "faults_per_step": faults}


def bare(hidden: int, horizon: int, warmup: int, steps: int) -> dict:
    """One model's step through the module's hooks, in Lightning's order, without the Trainer."""
    from vbpipe.training.data import DrawnBatches
    from vbpipe.training.module import PackModule

    spec = MemberSpec(config(hidden, horizon, 100_000), 0, Path("unused"))  # never finishes here
    module = PackModule([spec])
    optimizer = module.configure_optimizers()
    data = DrawnBatches(
        0, [spec.config.task], BATCH, [module.member_streams(0)], [10**9], module.stopped, 10**9
    )
    times = []
    for batch in data:
        loss = module.training_step(batch, len(times))
        optimizer.zero_grad()
        loss.backward()
        module.configure_gradient_clipping(optimizer)
        optimizer.step()
        module._book(optimizer.param_groups[0]["updated"])
        times.append(time.perf_counter())
        if len(times) > warmup + steps:
            break
    return {"ms": 1000 * statistics.median(per_step(times, warmup))}


def original(hidden: int, horizon: int, warmup: int, steps: int) -> dict:
    """The original project's training step (see the module docstring), median ms."""
    rnn = torch.nn.RNN(D, hidden, nonlinearity="tanh", bias=False)
    readout = torch.nn.Linear(hidden, D, bias=False)
    params = list(rnn.parameters()) + list(readout.parameters())
    optimizer = torch.optim.Adam(params, lr=LR, weight_decay=L2)
    operator = torch.tensor(selection_operator((255, 0, 0), D, L), dtype=torch.float32)
    total = L + horizon

    def step():
        x = torch.zeros(total, BATCH, D)
        x[:L] = torch.randint(0, 2, (L, BATCH, D)).float() * 2 - 1
        seq = torch.zeros(total, BATCH, D)
        seq[:L] = x[:L]
        for t in range(L, total):
            window = seq[t - L : t].permute(1, 0, 2).reshape(BATCH, L * D)
            seq[t] = window @ operator
        y = torch.zeros(total, BATCH, D)
        y[L:] = seq[L:]
        out, _ = rnn(x, torch.zeros(1, BATCH, hidden))
        loss = ((readout(out)[L:] - y[L:]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()

    times = []
    for _ in range(warmup + steps + 1):
        step()
        times.append(time.perf_counter())
    return {"ms": 1000 * statistics.median(per_step(times, warmup))}


def optimizer_launches(members: int = 640, hidden: int = 128) -> dict:
    """ATen operations dispatched (and host ms) per optimiser step: K parameter groups vs one stacked tensor."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from vbpipe.training.optim import StackedAdam

    class Count(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Count.calls += 1
            return func(*args, **(kwargs or {}))

    shapes = [(hidden, D), (hidden, hidden), (D, hidden)]

    def measure(step) -> tuple[int, float]:
        step()
        Count.calls = 0
        with Count():
            step()
        start = time.perf_counter()
        for _ in range(3):
            step()
        return Count.calls, 1000 * (time.perf_counter() - start) / 3

    params = [torch.nn.Parameter(0.01 * torch.randn(s)) for _ in range(members) for s in shapes]
    groups = [
        {"params": params[3 * k : 3 * k + 3], "lr": LR * (1 + k % 4), "weight_decay": L2 * (k % 3)}
        for k in range(members)
    ]
    adam = torch.optim.Adam(groups, foreach=True)

    def grouped():  # re-stack for the batched forward pass, as a pack would need every step
        stacked = [torch.stack(params[i::3]) for i in range(3)]
        adam.zero_grad()
        sum((s * s).sum() for s in stacked).backward()
        adam.step()

    flat = torch.nn.Parameter(0.01 * torch.randn(members, sum(a * b for a, b in shapes)))
    stacked = StackedAdam(
        [flat],
        lr=torch.full((members,), LR),
        weight_decay=torch.full((members,), L2),
        active=torch.ones(members, dtype=torch.bool),
    )

    def one_tensor():
        stacked.zero_grad()
        (flat * flat).sum().backward()
        stacked.param_groups[0]["valid"] = torch.ones(members, dtype=torch.bool)
        stacked.step()

    calls_g, ms_g = measure(grouped)
    calls_s, ms_s = measure(one_tensor)
    return {
        "members": members,
        "param_groups": {"aten_calls": calls_g, "host_ms": ms_g},
        "stacked": {"aten_calls": calls_s, "host_ms": ms_s},
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--horizons", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--ks", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best counts)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--model-steps",
        type=int,
        default=40,
        help="timed model-steps per measurement (at least 5 steps of the pack)",
    )
    parser.add_argument("--optimizer-launches", action="store_true")
    parser.add_argument("--quick", action="store_true", help="smoke test: hidden 32, H 10, K 4")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--cost-table",
        type=int,
        nargs="+",
        metavar="HIDDEN",
        help="only measure packs of the largest --ks at these hidden sizes and --horizons, interleaved, "
        "and print them as a vbpipe.costmodel table",
    )
    args = parser.parse_args(argv)
    if args.cost_table:
        cost_table(args)
        return
    if args.quick:
        args.hidden, args.horizons, args.ks, args.rounds, args.model_steps = 32, [10], [4], 1, 10
    torch.set_num_threads(1)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    results = {}
    for horizon in args.horizons:
        cells = {"original": None, "bare": None, "ours 1": 1, **{f"ours {k}": k for k in args.ks}}
        runs: dict[str, list[dict]] = {cell: [] for cell in cells}
        for round_ in range(args.rounds):
            order = list(cells) if round_ % 2 == 0 else list(reversed(cells))
            for cell in order:
                k = cells[cell]
                steps = max(5, args.model_steps // (k or 1))
                if cell == "original":
                    runs[cell].append(original(args.hidden, horizon, args.warmup, steps))
                elif cell == "bare":
                    runs[cell].append(bare(args.hidden, horizon, args.warmup, steps))
                else:
                    runs[cell].append(ours(args.hidden, horizon, k, args.warmup, steps))
            print(f"H {horizon}: round {round_ + 1}/{args.rounds} done", file=sys.stderr)
        results[horizon] = {
            cell: {
                "ms": min(r["ms"] for r in rs),
                "ms_all": [round(r["ms"], 3) for r in rs],
                **(
                    {"faults_per_step": rs[0]["faults_per_step"]}
                    if "faults_per_step" in rs[0]
                    else {}
                ),
            }
            for cell, rs in runs.items()
        }
    report(args, results, load, time.perf_counter() - started)
    extra = optimizer_launches() if args.optimizer_launches else None
    if extra:
        g, s = extra["param_groups"], extra["stacked"]
        print(
            f"\noptimiser step, K = {extra['members']} members of hidden 128: "
            f"{extra['members']} torch.optim.Adam parameter groups (re-stacked each step): "
            f"{g['aten_calls']} ATen calls, {g['host_ms']:.1f} ms; StackedAdam over one (K, P) "
            f"tensor: {s['aten_calls']} ATen calls, {s['host_ms']:.1f} ms (incl. its arithmetic)"
        )
    if args.json:
        args.json.write_text(json.dumps({"results": results, "optimizer": extra}, indent=1))


def cost_table(args) -> None:
    """Seconds per model-step of a K-member pack per (hidden, T = L + H): the rows of a CPU cost table."""
    torch.set_num_threads(1)
    k = max(args.ks)
    load = os.getloadavg()[0]
    cells = [(h, horizon) for h in args.cost_table for horizon in args.horizons]
    best: dict[tuple[int, int], float] = {}
    for round_ in range(args.rounds):
        for cell in cells if round_ % 2 == 0 else reversed(cells):
            ms = ours(cell[0], cell[1], k, args.warmup, max(5, args.model_steps // k))["ms"]
            best[cell] = min(best.get(cell, ms), ms)
            print(
                f"round {round_ + 1}: hidden {cell[0]}, H {cell[1]}: {ms:.3f} ms", file=sys.stderr
            )
    points = {
        h: [[L + horizon, round(best[(h, horizon)] / 1000, 6)] for horizon in args.horizons]
        for h in args.cost_table
    }
    print(
        f"K = {k}, one torch thread, best of {args.rounds} rounds; load before {load:.2f}, "
        f"after {os.getloadavg()[0]:.2f}"
    )
    for h, row in points.items():
        print(f"  hidden {h}: " + ", ".join(f"T {t}: {1000 * s:.3f} ms" for t, s in row))
    print(json.dumps({"device": "cpu", "points": points}))


def report(args, results: dict, load: float, seconds: float) -> None:
    print(
        f"\nTraining step, hidden {args.hidden}, d = L = {D}, batch {BATCH}, one torch thread, "
        f"torch {torch.__version__}; load before {load:.2f}, after {os.getloadavg()[0]:.2f}; "
        f"{seconds / 60:.1f} min"
    )
    print("ms per model-step, best of the rounds (all rounds in brackets)\n")
    for horizon, cells in results.items():
        base, one = cells["original"]["ms"], cells["ours 1"]["ms"]
        print(f"H = {horizon}")
        print(f"  original project's step  {base:8.2f} ms  {cells['original']['ms_all']}")
        print(
            f"  ours, one model          {one:8.2f} ms  {cells['ours 1']['ms_all']}  "
            f"= {one / base:.2f}x the original; {cells['ours 1']['faults_per_step']:.0f} page "
            "faults/step"
        )
        lightning = one - cells["bare"]["ms"]
        print(
            f"  ours, bare (no Trainer)  {cells['bare']['ms']:8.2f} ms  {cells['bare']['ms_all']}  "
            f"(Lightning: {lightning:+.2f} ms/step)"
        )
        for cell, value in cells.items():
            if cell.startswith("ours ") and cell != "ours 1":
                k = int(cell.split()[1])
                print(
                    f"  ours, ensemble of {k:<3}    {value['ms']:8.2f} ms  {value['ms_all']}  "
                    f"= {value['ms'] / one:.2f}x one model per model-step; "
                    f"{value['faults_per_step']:.0f} page faults/step"
                )
        print()


if __name__ == "__main__":
    main()
