"""GPU check of the training engine, for a borrowed GPU: one script, under ~3 minutes on an H200, prints everything.

1. Throughput at hidden 128 (d = L = 8, batch 64), horizons 10 and 100: model-steps/s of one model, of a
   64-member ensemble (one configuration, 64 seeds) and of a 640-member pack of mixed variants (the paper's
   hidden-128 grid: 4 tasks x 4 L2 x 2 thresholds x 20 seeds); ratios to one model (goal: ensemble-64 >= 30x);
   peak GPU memory of the pack; device-to-host synchronisations per step (CUDA's sync debug mode).
2. Exactness on the GPU (printed, not asserted): a member trained alone vs inside a pack (~50 steps), max abs
   weight difference; a pack interrupted by SIGUSR1 and resumed vs uninterrupted; the same pack on GPU vs CPU.
3. A wall-time estimate of the paper grid (1,920 models: hidden 128/64/32, each a 640-member pack, 10 epochs of
   2000 steps, curriculum 10, 20, 40, 60, 100) from measured step times at every horizon.

Each section catches its own errors, so one failure does not hide the others. Without CUDA the script says so
and exits 0; ``--device cpu --smoke`` runs every section tiny on a CPU (to test the script itself).

    python benchmarks/gpu_train_check.py            # on the GPU machine
    python benchmarks/gpu_train_check.py --device cpu --smoke
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import torch

HORIZONS = (10, 20, 40, 60, 100)
PAPER_TASKS = ("T1", "T2", "T3", "T4")
PAPER_L2 = (0.0, 0.001, 0.1, 10.0)
PAPER_THRESHOLDS = (0.9, 0.98)
GOAL = 30.0


def say(text: str = "") -> None:
    print(text, flush=True)


def section(title: str):
    def wrap(function):
        def run(*args, **kwargs):
            say(f"\n== {title} ==")
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            except Exception:  # report and go on: the GPU time is precious
                say(f"FAILED:\n{traceback.format_exc()}")
            finally:
                say(f"({time.perf_counter() - started:.1f} s)")

        return run

    return wrap


class Setup:
    """Sizes of the run: the real ones, or tiny ones for ``--smoke``."""

    def __init__(self, smoke: bool, device: str):
        self.smoke, self.device = smoke, device
        self.hidden = 16 if smoke else 128
        self.d = self.length = 3 if smoke else 8
        self.seeds = 2 if smoke else 20
        self.ensemble = 4 if smoke else 64
        self.warmup, self.timed = (2, 3) if smoke else (5, 20)
        self.grid_hidden = (16, 8) if smoke else (128, 64, 32)
        self.tasks = ("repeat_copy", "7,4,5") if smoke else PAPER_TASKS
        self.l2 = PAPER_L2[:2] if smoke else PAPER_L2
        self.folder = Path(tempfile.mkdtemp(prefix="vbpipe-gpu-check-"))
        self.measured: dict[int, dict] = {}  # horizon -> seconds per step (section 1)

    def config(self, horizon=None, steps=2000, epochs=1, hidden=None, **overrides):
        from vbpipe.config import TrainConfig

        values = dict(
            input_dim=self.d,
            seq_length=self.length,
            hidden_dim=hidden or self.hidden,
            curriculum_horizons=(horizon,) if horizon else (HORIZONS if not self.smoke else (3, 6)),
            epochs=epochs,
            steps_per_epoch=steps,
            validation_batches=0,
        )
        return TrainConfig(**{**values, **overrides})

    def paper_pack(self, name: str, horizon=None, steps=2000, hidden=None):
        """The paper's variants of one hidden size: tasks x L2 x thresholds x seeds."""
        from vbpipe.training import MemberSpec

        specs = []
        for task in self.tasks:
            for l2 in self.l2:
                for threshold in PAPER_THRESHOLDS:
                    config = self.config(
                        horizon,
                        steps,
                        hidden=hidden,
                        task_id=task,
                        l2_penalty=l2,
                        curriculum_threshold=threshold,
                    )
                    variant = f"{task}-l2_{l2}-thr{threshold}"
                    for seed in range(1, self.seeds + 1):
                        specs.append(
                            MemberSpec(config, seed, self.folder / name / variant / f"model-{seed}")
                        )
        return specs

    def seeds_of(self, name: str, count: int, horizon=None, steps=2000, **overrides):
        from vbpipe.training import MemberSpec

        config = self.config(horizon, steps, **overrides)
        return [MemberSpec(config, s, self.folder / name / f"model-{s}") for s in range(count)]


def train(setup: Setup, specs, device=None, **options):
    from vbpipe.training import train_pack

    defaults = dict(tensorboard=False, save_every_steps=0, log_interval_seconds=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_pack(
            specs,
            accelerator="gpu" if (device or setup.device) == "cuda" else "cpu",
            **{**defaults, **options},
        )


def step_clock():
    import pytorch_lightning as pl

    class StepClock(pl.Callback):
        def __init__(self):
            self.times = []

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if torch.cuda.is_available() and pl_module.flat.is_cuda:
                torch.cuda.synchronize()
            self.times.append(time.perf_counter())

    return StepClock()


def seconds_per_step(setup: Setup, specs, **options) -> float:
    clock = step_clock()
    train(setup, specs, callbacks=[clock], **options)
    intervals = [
        b - a
        for a, b in zip(
            clock.times[setup.warmup : -1], clock.times[setup.warmup + 1 :], strict=True
        )
    ]
    return statistics.median(intervals)


@section("environment")
def environment(setup: Setup) -> None:
    import pytorch_lightning as pl

    say(
        f"python {platform.python_version()}, torch {torch.__version__}, lightning {pl.__version__}"
    )
    if setup.device == "cuda":
        props = torch.cuda.get_device_properties(0)
        say(
            f"GPU {props.name}, {props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs"
        )
        say(
            f"CUDA {torch.version.cuda}, TF32 matmul allowed: {torch.backends.cuda.matmul.allow_tf32}"
        )
    say(f"CPU cores: {os.cpu_count()}")
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401

        say("tensorboard writer: available")
    except ImportError as error:
        say(f"tensorboard writer: missing ({error}); training runs without events")
    say(f"scratch folder: {setup.folder}")


@section("1. throughput, hidden 128 (model-steps per second)")
def throughput(setup: Setup) -> None:
    results = {}
    steps = setup.warmup + setup.timed + 1
    for horizon in (10, 100):
        one = seconds_per_step(setup, setup.seeds_of(f"one-{horizon}", 1, horizon, steps))
        ensemble = seconds_per_step(
            setup, setup.seeds_of(f"ens-{horizon}", setup.ensemble, horizon, steps)
        )
        if setup.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        pack = setup.paper_pack(f"pack-{horizon}", horizon, steps)
        packed = seconds_per_step(setup, pack)
        peak = torch.cuda.max_memory_allocated() / 2**30 if setup.device == "cuda" else float("nan")
        setup.measured[horizon] = {
            "one_model_s": one,
            "ensemble_size": setup.ensemble,
            "ensemble_s": ensemble,
            "pack_size": len(pack),
            "pack_s": packed,
            "peak_gib": None if peak != peak else peak,
            "time_steps": setup.length + horizon,
        }
        rates = {
            "one model": 1 / one,
            f"ensemble of {setup.ensemble}": setup.ensemble / ensemble,
            f"pack of {len(pack)} mixed": len(pack) / packed,
        }
        results[horizon] = rates
        say(f"H = {horizon}:")
        for name, rate in rates.items():
            ratio = rate / rates["one model"]
            say(f"  {name:<22} {rate:10.1f} model-steps/s  ({ratio:6.1f}x one model)")
        verdict = (
            "meets"
            if rates[f"ensemble of {setup.ensemble}"] >= GOAL * rates["one model"]
            else "misses"
        )
        say(f"  ensemble / one model: {verdict} the goal of >= {GOAL:.0f}x")
        say(f"  peak GPU memory of the pack: {peak:.2f} GiB")
    syncs(setup)


def syncs(setup: Setup) -> None:
    """Synchronising CUDA calls per step, from the sync debug mode's warnings (one is expected: the booking)."""
    if setup.device != "cuda":
        return
    import pytorch_lightning as pl

    class Count(pl.Callback):
        def __init__(self):
            self.counts, self.catcher = [], None

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.catcher = warnings.catch_warnings(record=True)
            self.caught = self.catcher.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            torch.cuda.set_sync_debug_mode("default")
            self.catcher.__exit__(None, None, None)
            self.counts.append(
                [
                    str(w.message).splitlines()[0][:90]
                    for w in self.caught
                    if "synchron" in str(w.message)
                ]
            )

    counter = Count()
    specs = setup.seeds_of("syncs", 4, 10, setup.warmup + 4)
    from vbpipe.training import train_pack

    train_pack(
        specs, accelerator="gpu", tensorboard=False, save_every_steps=0, log_interval_seconds=0,
        callbacks=[counter],
    )  # fmt: skip
    steady = counter.counts[setup.warmup :]
    say(f"  synchronising calls per step (steady state): {[len(c) for c in steady]}")
    for message in sorted({m for c in steady for m in c}):
        say(f"    {message}")


@section("2a. exactness on the device: alone vs inside a pack (~50 steps)")
def alone_vs_pack(setup: Setup) -> None:
    pack = setup.paper_pack("exact-pack", steps=50)[: 8 if setup.smoke else 64]
    train(setup, pack)
    for spec in (pack[0], pack[-1]):
        from vbpipe.training import MemberSpec

        solo = MemberSpec(spec.config, spec.seed, setup.folder / "exact-alone" / spec.name)
        result = train(setup, [solo])
        diff = max_difference(spec.checkpoint, solo.checkpoint)
        history = result.outcomes[solo.checkpoint]["curriculum_history"]
        say(f"  {spec.name}: max |alone - pack| = {diff:.3g}; alone's curriculum {history}")


@section(
    "2b. resume on the device: interrupted at step 25 by SIGUSR1, then resumed, vs uninterrupted"
)
def resume(setup: Setup) -> None:
    import pytorch_lightning as pl

    from vbpipe.errors import TrainingInterrupted

    class SignalAt(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 24:
                os.kill(os.getpid(), signal.SIGUSR1)

    reference = setup.paper_pack("resume-ref", steps=50)[:8]
    train(setup, reference)
    resumed = setup.paper_pack("resume-run", steps=50)[:8]
    try:
        train(setup, resumed, callbacks=[SignalAt()])
        say("  (no interruption happened)")
    except TrainingInterrupted:
        say("  interrupted as planned")
    train(setup, resumed)
    diffs = [
        max_difference(a.checkpoint, b.checkpoint) for a, b in zip(reference, resumed, strict=True)
    ]
    say(f"  max |resumed - uninterrupted| over {len(diffs)} members: {max(diffs):.3g}")


@section("2c. the same pack on the device and on the CPU (~50 steps)")
def device_vs_cpu(setup: Setup) -> None:
    on_device = setup.paper_pack("dev", steps=50)[:4]
    train(setup, on_device)
    on_cpu = setup.paper_pack("cpu", steps=50)[:4]
    train(setup, on_cpu, device="cpu")
    diffs = [
        max_difference(a.checkpoint, b.checkpoint) for a, b in zip(on_device, on_cpu, strict=True)
    ]
    say(f"  max |device - CPU| per member: {[f'{d:.3g}' for d in diffs]}")


def max_difference(path_a: Path, path_b: Path) -> float:
    a = torch.load(path_a, weights_only=True)["state_dict"]
    b = torch.load(path_b, weights_only=True)["state_dict"]
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@section(
    "3. wall-time estimate of the paper grid (1,920 models, 3 packs of 640, 20,000 steps each)"
)
def grid_estimate(setup: Setup) -> None:
    steps = setup.warmup + max(4, setup.timed // 2) + 1
    total_upper = total_curriculum = 0.0
    horizons = HORIZONS if not setup.smoke else (3, 6)
    for hidden in setup.grid_hidden:
        per_step = {}
        for horizon in horizons:
            pack = setup.paper_pack(f"grid-{hidden}-{horizon}", horizon, steps, hidden=hidden)
            per_step[horizon] = seconds_per_step(setup, pack)
        # the original demo climbed to the last level by step ~700: say 200 steps on each lower level
        lower = sum(200 * per_step[h] for h in horizons[:-1])
        curriculum = lower + (20_000 - 200 * (len(horizons) - 1)) * per_step[horizons[-1]]
        upper = 20_000 * per_step[horizons[-1]]
        total_upper += upper
        total_curriculum += curriculum
        times = ", ".join(f"H{h} {1000 * t:.1f} ms" for h, t in per_step.items())
        say(f"  hidden {hidden}: pack of {len(pack)} per step {times}")
        say(
            f"    20,000 steps: {curriculum / 60:.1f} min (curriculum as above), {upper / 60:.1f} min max"
        )
    say(
        f"  grid on one GPU, packs one after another: ~{total_curriculum / 60:.0f} min "
        f"(at most {total_upper / 60:.0f} min), plus ~2 s start-up and validation per pack"
    )


def cost_table(setup: Setup) -> dict | None:
    """A :class:`vbpipe.costmodel.CostTable` from section 1: the pack's seconds per model-step at each measured
    horizon (overhead not subtracted) and one model's step at the longest horizon as the per-step overhead,
    both erring on the slow side."""
    from vbpipe.costmodel import CostTable

    if not setup.measured:
        return None
    rows = tuple(
        (m["time_steps"], m["pack_s"] / m["pack_size"]) for _, m in sorted(setup.measured.items())
    )
    overhead = setup.measured[max(setup.measured)]["one_model_s"]
    device = "gpu" if setup.device == "cuda" else "cpu"
    source = f"measured: python benchmarks/gpu_train_check.py (device {setup.device}" + (
        ", smoke sizes)" if setup.smoke else ")"
    )
    return CostTable(device, overhead, {setup.hidden: rows}, source).to_dict()


def write_measurements(setup: Setup, path: Path) -> None:
    import json

    payload = {
        "device": setup.device,
        "smoke": setup.smoke,
        "hidden": setup.hidden,
        "horizons": {str(h): m for h, m in sorted(setup.measured.items())},
        "cost_table": cost_table(setup),
    }
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    say(f"measurements written to {path}")


def importable() -> bool:
    """vbpipe from this checkout when it is not installed; False (with the reason) if a dependency is missing."""
    try:
        import vbpipe.training  # noqa: F401
    except ModuleNotFoundError as error:
        if error.name != "vbpipe":
            say(f"cannot import vbpipe.training: {error} (install the package's dependencies)")
            return False
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        return importable()
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (to test this script)")
    parser.add_argument("--skip", nargs="*", default=[], help="sections to skip: 1 2a 2b 2c 3")
    parser.add_argument(
        "--json",
        type=Path,
        help="write section 1's seconds per step and the cost table they give (vbpipe.costmodel) here",
    )
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        say(f"no CUDA device (torch {torch.__version__}): nothing to check here; exiting")
        return 0
    if not importable():
        return 1
    torch.set_num_threads(1 if args.device == "cpu" else min(4, os.cpu_count() or 1))
    setup = Setup(args.smoke, args.device)
    started = time.perf_counter()
    environment(setup)
    for key, check in (
        ("1", throughput),
        ("2a", alone_vs_pack),
        ("2b", resume),
        ("2c", device_vs_cpu),
        ("3", grid_estimate),
    ):
        if key not in args.skip:
            check(setup)
    if args.json is not None:
        write_measurements(setup, args.json)
    say(f"\nall checks done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
