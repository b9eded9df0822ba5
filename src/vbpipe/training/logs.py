"""What a pack tells people while it trains: each member's ``training.log`` and TensorBoard scalars, and the job's
progress lines on stdout (which the workflow sends to the Slurm/Snakemake log).

Each member's TensorBoard events go to ``model_dir/checkpoint/`` through Lightning's ``TensorBoardLogger`` (the
Fabric one: the Trainer's subclass only adds ``hparams.yaml`` and checkpoint hooks, which a logger outside the
Trainer's single-run logging never uses). A pack has one logger per member, so they are not handed to the Trainer,
whose ``self.log`` would send every value to all of them. ``training.log`` is opened per write (events are rare),
so a 640-member pack holds no 640 open log files.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytorch_lightning as pl

from ..results.layout import TRAINING_LOG_NAME
from .members import STATUS_NAMES, MemberSpec, Roster, checkpoint_path

MEMBERS_PER_LINE = 6


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


class MemberLogger(pl.Callback):
    """Per member: event lines in ``training.log``; train_loss, train_acc, curriculum_level and horizon every
    ``log_every`` steps and val_loss, val_acc every epoch in TensorBoard."""

    def __init__(self, specs: list[MemberSpec], roster: Roster, tensorboard: bool):
        self.specs, self.roster = specs, roster
        self.folders = [checkpoint_path(s.model_dir).parent for s in specs]
        self.tensorboard = tensorboard and _tensorboard_available()
        self.loggers: dict[int, object] = {}
        self.resumed_at = roster.step.copy()  # events a killed run logged after it are purged
        if self.tensorboard:
            _allow_open_files(len(specs) + 256)

    def write(self, index: int, text: str) -> None:
        folder = self.folders[index]
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / TRAINING_LOG_NAME, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")

    def started(self) -> None:
        for k, spec in enumerate(self.specs):
            verb = "resuming" if self.roster.step[k] else "starting"
            self.write(
                k,
                f"{time.strftime('%Y-%m-%d %H:%M:%S')} {verb} seed {spec.seed} at step "
                f"{self.roster.step[k]}/{spec.config.total_steps}, level {self.roster.level[k] + 1}, "
                f"config {spec.config.to_dict()}",
            )

    def scalars(self, index: int, values: dict[str, float], step: int) -> None:
        if not self.tensorboard:
            return
        logger = self.loggers.get(index)
        if logger is None:
            from lightning_fabric.loggers import TensorBoardLogger

            logger = TensorBoardLogger(
                str(self.folders[index]),
                name="",
                version="",
                default_hp_metric=False,
                purge_step=int(self.resumed_at[index]) + 1 if self.resumed_at[index] else None,
            )
            self.loggers[index] = logger
        logger.log_metrics(values, step=step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        events, roster = pl_module.last.events, self.roster
        for k, text in events.messages:
            self.write(k, text)
        horizons = roster.current_horizons()
        for k in events.log_due:
            self.scalars(
                int(k),
                {
                    "train_loss": roster.train_loss(k),
                    "train_acc": roster.train_accuracy(k),
                    "curriculum_level": float(roster.level[k]),
                    "horizon": float(horizons[k]),
                },
                int(roster.step[k]),
            )
        for k in events.epoch_end:
            k = int(k)
            config = self.specs[k].config
            text = (
                f"epoch {roster.step[k] // config.steps_per_epoch}/{config.epochs}: train_loss "
                f"{_fmt(roster.train_loss(k))} train_acc {_fmt(roster.train_accuracy(k))}"
            )
            if k in pl_module.last.validation:
                loss, accuracy = pl_module.last.validation[k]
                text += f" val_loss {loss:.4f} val_acc {accuracy:.4f} (horizon {horizons[k]})"
                self.scalars(k, {"val_loss": loss, "val_acc": accuracy}, int(roster.step[k]))
            self.write(k, text)

    def close(self) -> None:
        for logger in self.loggers.values():
            logger.finalize("closed")
        self.loggers.clear()


def _allow_open_files(count: int) -> None:
    """Raise the soft limit of open files towards ``count`` (one event file per member stays open)."""
    try:
        import resource
    except ImportError:  # not a Unix system
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        target = count if hard == resource.RLIM_INFINITY else min(count, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _tensorboard_available() -> bool:
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError as error:  # e.g. a GPU node's environment without tensorboard
        warnings.warn(f"no TensorBoard events: {error}", stacklevel=3)
        return False
    return True


class PackProgress(pl.Callback):
    """Job-log lines: every ``interval`` seconds one line for the pack; every ``detail_every`` lines, and at the
    end, a compact table of every member (its step, level and recent training accuracy)."""

    def __init__(self, specs: list[MemberSpec], roster: Roster, interval: float, detail_every=10):
        self.specs, self.roster = specs, roster
        self.interval, self.detail_every = interval, detail_every
        self.lines = 0
        self.started = self.last = time.perf_counter()
        self.last_step = 0

    def on_train_start(self, trainer, pl_module):
        self.started = self.last = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        now = time.perf_counter()
        if self.interval <= 0 or now - self.last < self.interval:
            return
        step = trainer.global_step
        rate = (step - self.last_step) / (now - self.last)
        self.last, self.last_step = now, step
        self.pack_line(step, trainer.max_steps, rate, now - self.started)
        self.lines += 1
        if self.lines % self.detail_every == 0:
            self.member_lines()

    def pack_line(self, step: int, total: int, rate: float, elapsed: float) -> None:
        roster = self.roster
        active = roster.active
        count = int(active.sum())
        accuracies = [roster.train_accuracy(k) for k in np.flatnonzero(active)]
        accuracies = [a for a in accuracies if a is not None]
        level = (roster.level[active] + 1).mean() if count else float("nan")
        print(
            f"[train] step {step}/{total} | active {count}/{len(roster)} | mean level {level:.2f} "
            f"| mean train_acc {np.mean(accuracies) if accuracies else float('nan'):.4f} | "
            f"{rate:.2f} steps/s ({rate * count:.0f} model-steps/s) | {_clock(elapsed)}",
            flush=True,
        )

    def member_lines(self) -> None:
        """Members grouped by variant (the model directory's parent), several to a line."""
        roster = self.roster
        by_variant: dict[str, list[str]] = {}
        for k, spec in enumerate(self.specs):
            status = STATUS_NAMES[roster.status[k]]
            flag = "" if status == "active" else f" {status}"
            by_variant.setdefault(spec.model_dir.parent.name, []).append(
                f"{spec.model_dir.name} s{roster.step[k]} L{roster.level[k] + 1}/"
                f"{roster.n_levels[k]} acc {_fmt(roster.train_accuracy(k))}{flag}"
            )
        for variant, items in by_variant.items():
            for start in range(0, len(items), MEMBERS_PER_LINE):
                head = variant if start == 0 else " " * len(variant)
                print(
                    f"  {head}: " + " | ".join(items[start : start + MEMBERS_PER_LINE]), flush=True
                )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
