"""Running a pack: which members to train, resuming them, Lightning's ``Trainer``, signals, and the final files.

Interruption. SIGTERM (Slurm preemption, ``scancel``), SIGINT (Ctrl-C) and SIGUSR1 (Slurm's ``--signal`` warning
before a time limit) all end the run after the current step: every member's ``resume.pt`` is written and
:class:`~vbpipe.errors.TrainingInterrupted` is raised (the CLI exits with 128 + the signal). A SIGKILL loses at most
the steps since the last periodic save. Lightning's ``SLURMEnvironment`` auto-requeue is deliberately off (the
``LightningEnvironment`` plugin): on SIGUSR1 it would save one Lightning checkpoint of the whole pack and run
``scontrol requeue`` itself, but under Snakemake the job is Snakemake's to resubmit (its ``retries``), and a pack
checkpoint cannot resume a regrouped pack. The per-member ``resume.pt`` files stay the one source of truth: any pack
that contains a member, in any order and with any neighbours, continues it exactly.

Deadline. ``VBPIPE_TRAIN_DEADLINE`` (an absolute time, seconds since the epoch; or ``+S``, S seconds after the
pack's training starts) ends the run the same way once the wall clock passes it, checked after every step: for a
borrowed machine whose run is cut off at a known time (``benchmarks/paper_on_gpu.py``), so that every pack leaves
exact resume states instead of being killed.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import torch

from ..checkpoint import CheckpointError, atomic_torch_save, load_model, save_model
from ..config import TrainConfig, model_hparams
from ..devices import resolve_device
from ..errors import TrainingInterrupted, VbpipeError
from ..results.layout import model_dirname
from .allocator import keep_freed_memory
from .data import DrawnBatches, make_loader, shard_bounds
from .logs import MemberLogger, PackProgress
from .members import MemberSpec, pack_key, resume_path
from .module import PackModule

SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1")
#: Environment variable: an absolute wall-clock time (seconds since the epoch) after which training stops
#: after its current step, saving every member's resume state, as on SIGUSR1.
DEADLINE_ENV = "VBPIPE_TRAIN_DEADLINE"

log = logging.getLogger("vbpipe.training")


@dataclass
class PackResult:
    """What :func:`train_pack` did. ``checkpoints``: model_dir -> the ``model.pt`` written for it;
    ``outcomes`` and ``skipped`` (why a member was not trained) are keyed by the member's checkpoint file."""

    checkpoints: dict[Path, Path]
    outcomes: dict[Path, dict]
    skipped: dict[Path, str]
    wall_seconds: float


@dataclass
class BlockResult:
    """What :func:`train_block` did, per seed: the checkpoint path and outcome (or why it was skipped)."""

    checkpoints: dict[int, Path]
    outcomes: dict[int, dict]
    skipped: dict[int, str]
    wall_seconds: float


def train_pack(
    members: list[MemberSpec],
    *,
    accelerator: str = "auto",
    threads: int | None = 1,
    existing: str = "skip",
    save_every_steps: int = 1000,
    progress: bool = False,
    tensorboard: bool = True,
    log_interval_seconds: float = 60.0,
    callbacks: list[pl.Callback] | None = None,
) -> PackResult:
    """Train ``members`` (equal :func:`pack_key`, anything else may differ) as one batched computation and write
    each one's ``model.pt``; each gets exactly the model it would get alone.

    A member whose checkpoint exists and loads is skipped (``existing="skip"``), refused (``"error"``) or retrained
    (``"overwrite"``). A ``resume.pt`` of the same configuration and seed is continued exactly; one of another is
    renamed ``resume.pt.stale``. Resume states are saved every ``save_every_steps`` steps (0: never), when a member
    stops, and on SIGTERM/SIGINT/SIGUSR1, after which :class:`TrainingInterrupted` is raised. ``threads``: torch
    threads on a CPU (one per process unless asked). Progress goes to stdout every ``log_interval_seconds``
    (0: never); ``progress`` adds Lightning's progress bar; ``callbacks`` are extra Lightning callbacks.
    """
    members = list(members)
    _check_pack(members, existing)
    deadline = training_deadline()
    device = torch.device(resolve_device(accelerator))
    if device.type == "cpu":
        torch.set_num_threads(threads or 1)
        keep_freed_memory()
    skipped, todo = {}, []
    for spec in members:
        why = _existing(spec.checkpoint, existing)
        if why is None:
            todo.append(spec)
        else:
            skipped[spec.checkpoint] = why
    result = PackResult({}, {}, skipped, 0.0)
    if not todo:
        return result

    started = time.perf_counter()
    module = PackModule(todo)
    for index in range(len(todo)):
        _restore(module, index)
    logger = MemberLogger(todo, module.roster, tensorboard)
    logger.started()
    saver = ResumeSaver(module, logger, save_every_steps, started, deadline)
    printer = PackProgress(todo, module.roster, log_interval_seconds)
    steps = int(
        max((module.roster.total_steps - module.roster.step)[module.roster.active], default=0)
    )
    previous = _install_signal_handlers(saver)
    try:
        saver.check_deadline()
        if steps > 0 and saver.signum is None:
            module.to(device)
            _fit(module, device, steps, progress, [saver, logger, printer, *(callbacks or [])])
    except BaseException as error:
        if saver.signum is None:  # a failure, not a signal: keep the last consistent saves
            raise
        saver.save_all(True)  # Lightning ends a SIGTERM with its own exception, after the step
        raise TrainingInterrupted(saver.signum, saver.reason) from error
    finally:
        _restore_signal_handlers(previous)
        logger.close()
    if saver.signum is not None:
        saver.save_all(True)
        if log_interval_seconds > 0:
            printer.member_lines()
        raise TrainingInterrupted(saver.signum, saver.reason)

    saver.update_wall()
    roster = module.roster
    for index, spec in enumerate(todo):
        if roster.active[index]:  # the loop ended early: only a signal may do that
            raise RuntimeError(f"{spec.name} stopped at step {roster.step[index]} without a reason")
        outcome = roster.outcome(index)
        save_model(
            spec.checkpoint,
            module.member_weights(index),
            model_hparams(spec.config, spec.seed),
            outcome,
            stamp=spec.stamp,
        )
        logger.write(index, f"done: {outcome}")
        result.checkpoints[spec.model_dir] = spec.checkpoint
        result.outcomes[spec.checkpoint] = outcome
    for spec in todo:
        resume_path(spec.model_dir).unlink(missing_ok=True)
    if log_interval_seconds > 0:
        printer.member_lines()
    result.wall_seconds = time.perf_counter() - started
    return result


def train_block(
    config: TrainConfig,
    seeds: list[int],
    model_dirs: list[Path] | None = None,
    output_dir: Path | None = None,
    accelerator: str = "auto",
    threads: int | None = 1,
    existing: str = "skip",
    progress: bool = False,
    save_every_steps: int = 1000,
    tensorboard: bool = True,
    configs: list[TrainConfig] | None = None,
    checkpoint_files: list[Path] | None = None,
    log_interval_seconds: float = 60.0,
) -> BlockResult:
    """:func:`train_pack` for distinct ``seeds`` of one ``config`` (or of ``configs``, one per seed), keyed by seed.

    ``model_dirs`` default to ``output_dir/model-{seed}``; ``checkpoint_files`` to ``model_dir/checkpoint/model.pt``.
    """
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if model_dirs is None:
        if output_dir is None:
            raise ValueError("give model_dirs or output_dir")
        model_dirs = [Path(output_dir) / model_dirname(seed) for seed in seeds]
    configs = list(configs) if configs is not None else [config] * len(seeds)
    files = list(checkpoint_files) if checkpoint_files is not None else [None] * len(seeds)
    if not len(model_dirs) == len(configs) == len(files) == len(seeds):
        raise ValueError(
            "seeds, model_dirs, configs and checkpoint_files must have the same length"
        )
    specs = [
        MemberSpec(cfg, seed, Path(d), None if f is None else Path(f))
        for seed, d, cfg, f in zip(seeds, model_dirs, configs, files, strict=True)
    ]
    pack = train_pack(
        specs,
        accelerator=accelerator,
        threads=threads,
        existing=existing,
        save_every_steps=save_every_steps,
        progress=progress,
        tensorboard=tensorboard,
        log_interval_seconds=log_interval_seconds,
    )
    by_file = {spec.checkpoint: spec.seed for spec in specs}
    return BlockResult(
        {by_file[f]: f for f in pack.checkpoints.values()},
        {by_file[f]: outcome for f, outcome in pack.outcomes.items()},
        {by_file[f]: why for f, why in pack.skipped.items()},
        pack.wall_seconds,
    )


def training_deadline() -> float | None:
    """The wall-clock deadline of :data:`DEADLINE_ENV` (seconds since the epoch), or None when unset. ``+S``
    means S seconds from now (the start of the pack's training): a rehearsal's deadline that a slow start-up
    cannot use up."""
    text = os.environ.get(DEADLINE_ENV, "").strip()
    if not text:
        return None
    relative = text.startswith("+")
    try:
        value = float(text[1:] if relative else text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not relative):
        raise VbpipeError(
            f"{DEADLINE_ENV} must be an absolute time in seconds since the epoch, or +SECONDS after "
            f"training starts, got {text!r}"
        )
    return time.time() + value if relative else value


def _check_pack(members: list[MemberSpec], existing: str) -> None:
    if not members:
        raise ValueError("a pack needs at least one member")
    if existing not in ("skip", "error", "overwrite"):
        raise ValueError(f"existing must be skip, error or overwrite, got {existing!r}")
    shapes = pack_key(members[0].config)
    for spec in members[1:]:
        if pack_key(spec.config) != shapes:
            raise ValueError(
                "members of one pack must share input_dim, seq_length, use_eos, hidden_dim, bias, "
                f"batch_size and activation: {spec.name} has {pack_key(spec.config)}, {members[0].name} has {shapes}"
            )
    for what, values in (
        ("model_dir", [s.model_dir.resolve() for s in members]),
        ("checkpoint file", [s.checkpoint.resolve() for s in members]),
    ):
        if len(set(values)) != len(values):
            raise ValueError(f"two members of a pack share a {what}")


def _existing(path: Path, existing: str) -> str | None:
    """Why the member with checkpoint ``path`` is not trained, or None to train it."""
    if not path.exists() or existing == "overwrite":
        return None
    if existing == "error":
        raise FileExistsError(f"{path} already exists; refusing to overwrite it")
    try:
        load_model(path)
    except CheckpointError:
        return None
    return f"{path} exists (use existing='overwrite' to retrain)"


def _restore(module: PackModule, index: int) -> None:
    """Continue member ``index`` from its ``resume.pt``; set aside one that does not belong to it."""
    path = resume_path(module.specs[index].model_dir)
    if not path.exists():
        return
    try:
        module.load_member_state(index, torch.load(path, map_location="cpu", weights_only=True))
        log.info("%s: resuming at step %s", module.specs[index].name, module.roster.step[index])
    except Exception as error:  # a stale or corrupt state is set aside, never reused silently
        stale = path.with_name("resume.pt.stale")
        os.replace(path, stale)
        warnings.warn(
            f"{path}: not usable for this configuration ({error}); moved to {stale.name}",
            stacklevel=3,
        )


class ResumeSaver(pl.Callback):
    """Writes ``resume.pt`` files: of a member when it stops (a rerun will not train it again), of every active
    member each ``every`` steps, and ends the run after the step in which a signal arrived or the ``deadline``
    (seconds since the epoch) passed."""

    def __init__(
        self,
        module: PackModule,
        logger: MemberLogger,
        every: int,
        started: float,
        deadline: float | None = None,
    ):
        self.module, self.logger, self.every, self.started = module, logger, every, started
        self.deadline = deadline
        self.base_wall = module.roster.wall_seconds.copy()
        self.stop_times: dict[int, float] = {}
        self.signum: int | None = None
        self.reason: str | None = None

    def check_deadline(self) -> None:
        """Stop as on SIGUSR1 (Slurm's "time is nearly up") once the deadline has passed."""
        if self.signum is None and self.deadline is not None and time.time() >= self.deadline:
            self.signum, self.reason = int(signal.SIGUSR1), f"the deadline ({DEADLINE_ENV})"

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        now = time.perf_counter()
        for k in self.module.last.events.stopped:
            self.stop_times[int(k)] = now
            self.save(int(k))
        self.check_deadline()
        if self.signum is not None:
            trainer.should_stop = True
        elif self.every and (batch_idx + 1) % self.every == 0:
            self.save_all(True)

    def update_wall(self) -> None:
        now = time.perf_counter()
        for k in range(len(self.module.specs)):
            end = self.stop_times.get(k, now)
            self.module.roster.wall_seconds[k] = self.base_wall[k] + end - self.started

    def save(self, index: int, note: bool = False) -> None:
        self.update_wall()
        path = resume_path(self.module.specs[index].model_dir)
        atomic_torch_save(self.module.member_state(index), path)
        if note:
            self.logger.write(
                index, f"step {self.module.roster.step[index]}: state saved to {path}"
            )

    def save_all(self, note: bool) -> None:
        """The state of every member still active (a stopped one's was saved when it stopped)."""
        for k in range(len(self.module.specs)):
            if self.module.roster.active[k]:
                self.save(k, note)


def loader_options(device: torch.device) -> dict:
    """On a GPU, worker processes draw ahead into pinned memory; on a CPU the job's one thread draws."""
    gpu = device.type == "cuda"
    return {"workers": gpu, "pin_memory": gpu}


def _fit(module: PackModule, device: torch.device, steps: int, progress: bool, callbacks) -> None:
    roster = module.roster
    budget = [int(b) for b in (roster.total_steps - roster.step) * roster.active]
    tasks = [spec.config.task for spec in module.specs]
    options = loader_options(device)
    shards = [
        DrawnBatches(
            first,
            tasks[first:end],
            module.batch_size,
            [module.member_streams(k) for k in range(first, end)],
            budget[first:end],
            module.stopped,
            steps,
        )
        for first, end in shard_bounds(len(tasks), options["workers"], os.cpu_count() or 1)
    ]
    trainer = _make_trainer(device, steps, progress, callbacks)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(pytorch_)?lightning.*")
        warnings.filterwarnings("ignore", message=".*(does not have many workers|srun|LeafSpec).*")
        trainer.fit(module, make_loader(shards, **options))


def _make_trainer(device: torch.device, steps: int, progress: bool, callbacks) -> pl.Trainer:
    from pytorch_lightning.plugins.environments import LightningEnvironment

    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    return pl.Trainer(
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        max_steps=steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=progress,
        num_sanity_val_steps=0,
        callbacks=callbacks,
        plugins=[LightningEnvironment()],  # no SLURM auto-requeue: see the module docstring
    )


def _install_signal_handlers(saver: ResumeSaver) -> dict:
    def handler(signum, frame):
        saver.signum = signum

    previous = {}
    for name in SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave signals alone
            pass
    return previous


def _restore_signal_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
