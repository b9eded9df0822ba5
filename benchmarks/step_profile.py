"""What one training step dispatches, counted on the CPU: ATen operations (on a GPU, roughly one kernel launch each)
and the points where the host waits for the device's numbers (on a GPU, a synchronisation each).

The step is :func:`vbpipe.training.train_pack`'s, as a job runs it (Lightning ``Trainer``, callbacks), for packs
of ``K`` members of hidden 128 at d = L = 8, batch 64, at one fixed horizon; each of ``--steps`` steps after
``--warmup`` is profiled alone (from ``on_train_batch_start`` to ``on_train_batch_end``: the batch is drawn
before, by the loader) and the counts averaged:

- **ops**: every ATen operation ``torch.profiler`` records (nested ones too: ``aten::linear`` and the
  ``aten::mm`` it calls count twice);
- **kernels**: the outermost ATen operations (not called by another one: ``aten::bmm`` counts once, not the
  per-matrix calls of its CPU implementation) that compute (views, reshapes, ``empty`` and other
  metadata-only operations left out): roughly what a GPU launches, one kernel each;
- **host syncs**: tensor values read on the host during the step (``.cpu()``, ``.item()``, ``.tolist()``,
  ``.numpy()``, ``bool(tensor)``), counted with a ``TorchFunctionMode``: on a GPU each waits for the device.

Nothing here changes the training's numerics: it only watches.

    python benchmarks/step_profile.py                      # K 1 and 64, H 10 and 100 (~1 min here)
    python benchmarks/step_profile.py --members 640 --horizons 100 --json counts.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.overrides import TorchFunctionMode
from torch.profiler import ProfilerActivity, profile

from vbpipe.config import TrainConfig
from vbpipe.training import MemberSpec, train_pack

#: ATen operations that only make or reshape tensor metadata (no kernel on a GPU).
METADATA = {
    "aten::view", "aten::_unsafe_view", "aten::as_strided", "aten::empty", "aten::empty_strided",
    "aten::empty_like", "aten::expand", "aten::t", "aten::transpose", "aten::permute", "aten::select",
    "aten::slice", "aten::unsqueeze", "aten::squeeze", "aten::reshape", "aten::detach", "aten::alias",
    "aten::resize_", "aten::lift_fresh", "aten::unbind", "aten::split", "aten::chunk", "aten::narrow",
    "aten::numpy_T", "aten::_reshape_alias", "aten::set_", "aten::contiguous", "aten::flatten",
    "aten::expand_as", "aten::view_as", "aten::unflatten", "aten::result_type", "aten::is_nonzero",
    "aten::_local_scalar_dense", "aten::item", "aten::to", "aten::_to_copy", "aten::detach_",
}  # fmt: skip
#: Tensor methods that hand a tensor's values to the host.
HOST_READS = {"cpu", "item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__"}


class HostReads(TorchFunctionMode):
    """Counts reads of tensor values by the host (see :data:`HOST_READS`)."""

    def __init__(self):
        super().__init__()
        self.counts: Counter = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", str(func))
        if name in HOST_READS:
            self.counts[name] += 1
        return func(*args, **(kwargs or {}))


class StepCounter(pl.Callback):
    """Profiles each step from ``warmup`` on, alone, and keeps its counts."""

    def __init__(self, warmup: int):
        self.warmup, self.steps = warmup, []
        self.profiler = self.reads = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx >= self.warmup:
            self.reads = HostReads()
            self.profiler = profile(activities=[ProfilerActivity.CPU])
            self.profiler.__enter__()
            self.reads.__enter__()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.profiler is None:
            return
        self.reads.__exit__(None, None, None)
        self.profiler.__exit__(None, None, None)
        events = [e for e in self.profiler.events() if e.name.startswith("aten::")]
        outermost = [e for e in events if not _inside_aten(e)]
        leaves = [e for e in outermost if e.name not in METADATA]
        self.steps.append(
            {
                "ops": len(events),
                "kernels": len(leaves),
                "host_syncs": sum(self.reads.counts.values()),
                "sync_kinds": dict(self.reads.counts),
                "top_kernels": Counter(e.name for e in leaves).most_common(8),
            }
        )
        self.profiler = self.reads = None


def _inside_aten(event) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("aten::"):
            return True
        parent = parent.cpu_parent
    return False


def count(hidden: int, horizon: int, members: int, warmup: int, steps: int) -> dict:
    config = TrainConfig(
        task_id="T1",
        input_dim=8,
        seq_length=8,
        hidden_dim=hidden,
        l2_penalty=1e-3,
        curriculum_horizons=(horizon,),
        epochs=1,
        steps_per_epoch=warmup + steps + 1,
        validation_batches=0,
    )
    counter = StepCounter(warmup)
    with tempfile.TemporaryDirectory() as folder:
        specs = [MemberSpec(config, s, Path(folder) / f"m{s}") for s in range(members)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train_pack(
                specs,
                accelerator="cpu",
                tensorboard=False,
                save_every_steps=0,
                log_interval_seconds=0,
                callbacks=[counter],
            )
    taken = counter.steps[:steps]
    return {
        "hidden": hidden,
        "horizon": horizon,
        "time_steps": 8 + horizon,
        "members": members,
        "ops": statistics.median(s["ops"] for s in taken),
        "kernels": statistics.median(s["kernels"] for s in taken),
        "host_syncs": statistics.median(s["host_syncs"] for s in taken),
        "sync_kinds": taken[-1]["sync_kinds"],
        "top_kernels": taken[-1]["top_kernels"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--horizons", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--members", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    print(
        f"per training step, hidden {args.hidden}, d = L = 8, batch 64, torch {torch.__version__}"
    )
    print(f"{'K':>5} {'H':>4} {'T':>4} {'ATen ops':>9} {'kernels':>8} {'host syncs':>11}  kinds")
    for horizon in args.horizons:
        for members in args.members:
            row = count(args.hidden, horizon, members, args.warmup, args.steps)
            rows.append(row)
            print(
                f"{members:>5} {horizon:>4} {row['time_steps']:>4} {row['ops']:>9.0f} "
                f"{row['kernels']:>8.0f} {row['host_syncs']:>11.0f}  {row['sync_kinds']}",
                flush=True,
            )
    for row in rows[-1:]:
        print(
            f"most frequent kernels (K {row['members']}, H {row['horizon']}): {row['top_kernels']}"
        )
    if len(args.horizons) > 1:
        by_h = {r["horizon"]: r for r in rows if r["members"] == args.members[-1]}
        low, high = min(by_h), max(by_h)
        per_t = (by_h[high]["kernels"] - by_h[low]["kernels"]) / (high - low)
        print(
            f"kernels per recurrent time step: {per_t:.1f}; fixed per step: "
            f"{by_h[low]['kernels'] - per_t * by_h[low]['time_steps']:.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
