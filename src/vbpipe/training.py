"""Seed-exact ensemble training: ``K`` seeds trained as one batched computation, each as if alone.

Every member (one seed) owns its data streams, initial weights, curriculum level, gradient clipping, Adam state
and stop. At each step the active members are grouped by the shape of their batch (sequence length, horizon):
a member never pays for a longer horizon than its own level. Each group runs one batched recurrence; the loss
is the sum of the members' losses, so each member's gradient is exactly its own. Clipping and Adam are applied
per member in vectorised form (``torch.optim.Adam`` would move frozen members through their momentum).

A member whose loss or gradient is not finite is marked diverged and frozen at its last finite weights; the
others are unaffected.

:class:`EnsembleModule` is a ``LightningModule`` (manual optimisation) so the Lightning ``Trainer`` drives the
loop, device placement and the progress bar; :meth:`EnsembleModule.train_step` also runs without a Trainer.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import pytorch_lightning as pl
import torch

from .checkpoint import CheckpointError, atomic_torch_save, load_model, save_model
from .config import TrainConfig, model_hparams
from .model import bit_accuracy, init_weights, rnn_forward
from .tasks import build_batch, draw_inputs, draw_seq_length, make_generator

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
RECENT = 50  # batches averaged for the logged and final training accuracy
RESUME_FORMAT = "vbpipe-resume"

log = logging.getLogger("vbpipe.training")


class TrainingInterrupted(RuntimeError):
    """Raised after a SIGTERM/SIGINT once every member's resume state is saved."""

    def __init__(self, signum: int):
        super().__init__(f"training interrupted by signal {signum}; state saved, rerun to resume")
        self.signum = signum


def checkpoint_path(model_dir: Path) -> Path:
    return Path(model_dir) / "checkpoint" / "model.pt"


def resume_path(model_dir: Path) -> Path:
    return Path(model_dir) / "checkpoint" / "resume.pt"


@dataclass
class Member:
    """The Python-side state of one seed: curriculum, counters, status and logs."""

    seed: int
    config: TrainConfig
    model_dir: Path
    step: int = 0
    level: int = 0
    window: list = field(default_factory=list)
    recent_acc: deque = field(default_factory=lambda: deque(maxlen=RECENT))
    recent_loss: deque = field(default_factory=lambda: deque(maxlen=RECENT))
    status: str = "active"  # active | finished | diverged | early_stopped
    diverged_at_step: int | None = None
    streak: int = 0
    history: list = field(default_factory=list)
    wall_seconds: float = 0.0
    checkpoint_file: Path | None = None

    def __post_init__(self):
        self.model_dir = Path(self.model_dir)
        self.train_gen = make_generator(self.seed, "train")
        self.length_gen = make_generator(self.seed, "length")
        self.horizons = self.config.horizons()

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def horizon(self) -> int:
        return self.horizons[self.level]

    @property
    def train_accuracy(self) -> float | None:
        return sum(self.recent_acc) / len(self.recent_acc) if self.recent_acc else None

    @property
    def train_loss(self) -> float | None:
        return sum(self.recent_loss) / len(self.recent_loss) if self.recent_loss else None

    def record(self, loss: float, accuracy: float) -> list[str]:
        """Book one finished step: curriculum, early stop, end of budget. Returns log messages."""
        messages = []
        self.step += 1
        self.recent_acc.append(accuracy)
        self.recent_loss.append(loss)
        cfg = self.config
        last = len(self.horizons) - 1
        if cfg.curriculum and self.level < last:
            self.window.append(accuracy)
            if len(self.window) > cfg.curriculum_window:
                self.window.pop(0)
            full = len(self.window) == cfg.curriculum_window
            if full and sum(self.window) / len(self.window) > cfg.curriculum_threshold:
                self.level += 1
                self.window.clear()
                self.recent_acc.clear()
                self.recent_loss.clear()
                self.history.append([self.step, self.level])
                messages.append(
                    f"step {self.step}: curriculum difficulty increased to {self.level + 1}/{last + 1} "
                    f"(horizon {self.horizon})"
                )
        if cfg.early_stop and self.level == last:
            self.streak = self.streak + 1 if accuracy >= cfg.early_stop_accuracy else 0
            if self.streak >= cfg.early_stop_patience:
                self.status = "early_stopped"
                messages.append(
                    f"step {self.step}: early stop, accuracy >= {cfg.early_stop_accuracy} for "
                    f"{self.streak} steps at the last level"
                )
        if self.active and self.step >= cfg.total_steps:
            self.status = "finished"
        return messages

    def outcome(self) -> dict:
        held = (
            self.train_accuracy is not None
            and self.train_accuracy >= self.config.curriculum_threshold
        )
        converged = (
            self.status != "diverged"
            and self.level == len(self.horizons) - 1
            and (held or self.status == "early_stopped")
        )
        return {
            "steps": self.step,
            "status": self.status,
            "curriculum_level": self.level,
            "horizon": self.horizon,
            "train_accuracy": self.train_accuracy,
            "train_loss": self.train_loss,
            "converged": bool(converged),
            "diverged": self.status == "diverged",
            "diverged_at_step": self.diverged_at_step,
            "early_stopped": self.status == "early_stopped",
            "curriculum_history": [list(item) for item in self.history],
            "wall_seconds": round(self.wall_seconds, 3),
        }


class EnsembleModule(pl.LightningModule):
    """``K`` stacked RNNs and their per-member Adam states; one :meth:`train_step` advances every member."""

    def __init__(self, members: list[Member]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        shape = _shape_key(members[0].config)
        for member in members[1:]:
            if _shape_key(member.config) != shape:
                raise ValueError(
                    "members of one ensemble must share input_dim, seq_length, use_eos, hidden_dim, bias "
                    f"and batch_size; seed {member.seed} differs from seed {members[0].seed}"
                )
        self.members = members
        self.automatic_optimization = False
        cfg = members[0].config
        initial = [
            init_weights(m.seed, cfg.task.model_input_dim, cfg.hidden_dim, cfg.input_dim, cfg.bias)
            for m in members
        ]
        self.weights = torch.nn.ParameterDict(
            {
                name: torch.nn.Parameter(torch.stack([w[name] for w in initial]))
                for name in initial[0]
            }
        )
        for name, param in self.weights.items():
            self.register_buffer(f"adam_m_{name}", torch.zeros_like(param))
            self.register_buffer(f"adam_v_{name}", torch.zeros_like(param))
        self.register_buffer("adam_steps", torch.zeros(len(members)))
        self.register_buffer("lr", torch.tensor([m.config.learning_rate for m in members]))
        self.register_buffer("l2", torch.tensor([m.config.l2_penalty for m in members]))
        self.register_buffer("clip", torch.tensor([m.config.gradient_clip for m in members]))
        self.interrupt_signal: int | None = None
        self.on_member_done = None  # callback(index) when a member reaches a final status
        self.writers: dict[int, object] = {}
        self.log_files: dict[int, object] = {}

    # -- state of one member -------------------------------------------------------------------------------
    def member_weights(self, index: int) -> dict[str, torch.Tensor]:
        return {name: param[index].detach().clone() for name, param in self.weights.items()}

    def member_state(self, index: int) -> dict:
        """Everything needed to continue member ``index`` exactly (``weights_only``-loadable)."""
        m = self.members[index]
        return {
            "format": RESUME_FORMAT,
            "fingerprint": m.config.fingerprint(m.seed),
            "seed": m.seed,
            "step": m.step,
            "level": m.level,
            "window": list(m.window),
            "recent_acc": list(m.recent_acc),
            "recent_loss": list(m.recent_loss),
            "status": m.status,
            "diverged_at_step": m.diverged_at_step,
            "streak": m.streak,
            "history": [list(item) for item in m.history],
            "wall_seconds": m.wall_seconds,
            "weights": {k: v.cpu() for k, v in self.member_weights(index).items()},
            "adam_m": {k: getattr(self, f"adam_m_{k}")[index].cpu().clone() for k in self.weights},
            "adam_v": {k: getattr(self, f"adam_v_{k}")[index].cpu().clone() for k in self.weights},
            "adam_step": float(self.adam_steps[index]),
            "train_gen": m.train_gen.get_state(),
            "length_gen": m.length_gen.get_state(),
        }

    def load_member_state(self, index: int, state: dict) -> None:
        m = self.members[index]
        if state.get("format") != RESUME_FORMAT or state.get("fingerprint") != m.config.fingerprint(
            m.seed
        ):
            raise ValueError("resume state does not belong to this configuration and seed")
        with torch.no_grad():
            for name, param in self.weights.items():
                param[index] = state["weights"][name].to(param)
                getattr(self, f"adam_m_{name}")[index] = state["adam_m"][name].to(param)
                getattr(self, f"adam_v_{name}")[index] = state["adam_v"][name].to(param)
            self.adam_steps[index] = state["adam_step"]
        m.step, m.level, m.status = state["step"], state["level"], state["status"]
        m.window = list(state["window"])
        m.recent_acc = deque(state["recent_acc"], maxlen=RECENT)
        m.recent_loss = deque(state["recent_loss"], maxlen=RECENT)
        m.diverged_at_step, m.streak = state["diverged_at_step"], state["streak"]
        m.history = [list(item) for item in state["history"]]
        m.wall_seconds = state["wall_seconds"]
        m.train_gen.set_state(state["train_gen"])
        m.length_gen.set_state(state["length_gen"])

    # -- one step of every active member ------------------------------------------------------------------
    def train_step(self) -> dict[int, tuple[float, float]]:
        """Advance every active member by one step; returns ``{index: (loss, accuracy)}``."""
        active = [i for i, m in enumerate(self.members) if m.active]
        if not active:
            return {}
        device = self.weights["W_hh"].device
        groups: dict[tuple, list[int]] = defaultdict(list)
        drawn: dict[int, torch.Tensor] = {}
        for i in active:
            m = self.members[i]
            length = draw_seq_length(m.length_gen, m.config.task)
            drawn[i] = draw_inputs(m.train_gen, length, m.config.batch_size, m.config.input_dim)
            groups[(m.config.task, length, m.horizon)].append(i)

        count = len(self.members)
        losses = torch.full((count,), float("nan"), device=device)
        accuracies = torch.full((count,), float("nan"), device=device)
        for (task, length, horizon), idx in groups.items():
            inputs = torch.stack([drawn[i] for i in idx], dim=1).to(device)  # (L, g, B, d)
            x, y, _ = build_batch(task, inputs, horizon)
            if len(idx) == count:
                weights = dict(self.weights.items())
            else:
                index = torch.tensor(idx, device=device)
                weights = {
                    name: param.index_select(0, index) for name, param in self.weights.items()
                }
            y_hat = rnn_forward(x, weights)[length:]
            target = y[length:]
            member_loss = (y_hat - target).pow(2).mean(dim=(0, 2, 3))
            member_loss.sum().backward()
            where = torch.tensor(idx, device=device)
            losses[where] = member_loss.detach()
            accuracies[where] = bit_accuracy(y_hat.detach(), target).mean(dim=(0, 2, 3))

        updated = self._adam_update(active, losses)
        values = torch.stack([losses, accuracies, updated.float()]).cpu().tolist()
        results = {}
        for i in active:
            loss, accuracy, ok = values[0][i], values[1][i], values[2][i]
            m = self.members[i]
            if not ok:
                m.status = "diverged"
                m.diverged_at_step = m.step + 1
                self._log_member(
                    i,
                    f"step {m.step + 1}: loss or gradient not finite (loss={loss}); "
                    "member frozen at its last finite weights",
                )
                self._member_done(i)
                continue
            for message in m.record(loss, accuracy):
                self._log_member(i, message)
            results[i] = (loss, accuracy)
            self._tensorboard(i)
            if m.step % m.config.steps_per_epoch == 0:
                self._end_of_epoch(i)
            if not m.active:
                self._member_done(i)
        return results

    @torch.no_grad()
    def _adam_update(self, active: list[int], losses: torch.Tensor) -> torch.Tensor:
        """Per-member global-norm clipping, coupled L2 and Adam; returns the mask of updated members."""
        params = dict(self.weights.items())
        grads = {
            n: (p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in params.items()
        }
        squared = sum(g.pow(2).flatten(1).sum(1) for g in grads.values())
        norm = squared.sqrt()
        mask = torch.zeros_like(norm, dtype=torch.bool)
        mask[active] = True
        mask &= torch.isfinite(norm) & torch.isfinite(losses)
        coef = (self.clip / (norm + 1e-6)).clamp(max=1.0)
        coef = torch.where(mask, coef, torch.zeros_like(coef))
        self.adam_steps += mask.float()
        beta1, beta2 = ADAM_BETAS
        steps = self.adam_steps.clamp(min=1)
        step_size = self.lr / (1 - beta1**steps)
        correction2_sqrt = (1 - beta2**steps).sqrt()
        for name, param in params.items():
            shape = (-1,) + (1,) * (param.dim() - 1)
            keep = mask.view(shape)
            grad = torch.nan_to_num(grads[name]) * coef.view(shape) + self.l2.view(shape) * param
            exp_avg, exp_avg_sq = getattr(self, f"adam_m_{name}"), getattr(self, f"adam_v_{name}")
            exp_avg.copy_(torch.where(keep, exp_avg.lerp(grad, 1 - beta1), exp_avg))
            exp_avg_sq.copy_(
                torch.where(keep, exp_avg_sq * beta2 + (1 - beta2) * grad * grad, exp_avg_sq)
            )
            denom = exp_avg_sq.sqrt() / correction2_sqrt.view(shape) + ADAM_EPS
            update = step_size.view(shape) * exp_avg / denom
            param.sub_(torch.where(keep, update, torch.zeros_like(update)))
            param.grad = None
        return mask

    # -- logging --------------------------------------------------------------------------------------------
    def _log_member(self, index: int, message: str) -> None:
        handle = self.log_files.get(index)
        if handle is not None:
            handle.write(message + "\n")
            handle.flush()

    def _tensorboard(self, index: int) -> None:
        m = self.members[index]
        writer = self.writers.get(index)
        if writer is None or m.step % m.config.log_every or not m.recent_acc:
            return
        writer.add_scalar("train_loss", m.train_loss, m.step)
        writer.add_scalar("train_acc", m.train_accuracy, m.step)
        writer.add_scalar("curriculum_level", m.level, m.step)
        writer.add_scalar("horizon", m.horizon, m.step)

    @torch.no_grad()
    def validate_member(self, index: int) -> tuple[float, float] | None:
        """Loss and accuracy on the member's fixed validation set at its current horizon."""
        m = self.members[index]
        if m.config.validation_batches == 0:
            return None
        generator = make_generator(m.seed, "validation")
        weights = {name: param[index : index + 1].detach() for name, param in self.weights.items()}
        total_loss = total_acc = 0.0
        for _ in range(m.config.validation_batches):
            length = draw_seq_length(generator, m.config.task)
            inputs = draw_inputs(generator, length, m.config.batch_size, m.config.input_dim)
            x, y, _ = build_batch(
                m.config.task, inputs[:, None].to(weights["W_hh"].device), m.horizon
            )
            y_hat = rnn_forward(x, weights)[length:]
            total_loss += float((y_hat - y[length:]).pow(2).mean())
            total_acc += float(bit_accuracy(y_hat, y[length:]).mean())
        return total_loss / m.config.validation_batches, total_acc / m.config.validation_batches

    def _end_of_epoch(self, index: int) -> None:
        m = self.members[index]
        epoch = m.step // m.config.steps_per_epoch
        validation = self.validate_member(index)
        text = f"epoch {epoch}/{m.config.epochs}: train_loss {_fmt(m.train_loss)} train_acc {_fmt(m.train_accuracy)}"
        if validation is not None:
            text += (
                f" val_loss {validation[0]:.4f} val_acc {validation[1]:.4f} (horizon {m.horizon})"
            )
            writer = self.writers.get(index)
            if writer is not None:
                writer.add_scalar("val_loss", validation[0], m.step)
                writer.add_scalar("val_acc", validation[1], m.step)
        self._log_member(index, text)

    def _member_done(self, index: int) -> None:
        if self.on_member_done is not None:
            self.on_member_done(index)

    # -- Lightning hooks --------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        self.train_step()
        if self.interrupt_signal is not None or not any(m.active for m in self.members):
            self.trainer.should_stop = True
        elif batch_idx % 50 == 0:
            levels = [m.level for m in self.members if m.active]
            accs = [
                m.train_accuracy for m in self.members if m.active and m.train_accuracy is not None
            ]
            self.log("active", float(len(levels)), prog_bar=True, logger=False)
            if levels:
                self.log("level", sum(levels) / len(levels) + 1, prog_bar=True, logger=False)
            if accs:
                self.log("acc", sum(accs) / len(accs), prog_bar=True, logger=False)
        return None

    def configure_optimizers(self):
        return None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _shape_key(config: TrainConfig) -> tuple:
    return (
        config.input_dim,
        config.seq_length,
        config.use_eos,
        config.hidden_dim,
        config.bias,
        config.batch_size,
    )


def resolve_device(accelerator: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; ``gpu`` without CUDA is an error naming the problem."""
    if accelerator not in ("auto", "cpu", "gpu", "cuda"):
        raise ValueError(f"accelerator must be one of auto, cpu, gpu; got {accelerator!r}")
    if accelerator in ("gpu", "cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                "accelerator 'gpu' requested but torch sees no CUDA device "
                f"(torch {torch.__version__}); use --accelerator cpu or auto"
            )
        return torch.device("cuda")
    if accelerator == "auto" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


class _StepIndices(torch.utils.data.IterableDataset):
    def __init__(self, count: int):
        self.count = count

    def __iter__(self):
        return iter(range(self.count))


@dataclass
class BlockResult:
    """What :func:`train_block` did: per seed, the checkpoint path and outcome (or why it was skipped)."""

    checkpoints: dict[int, Path]
    outcomes: dict[int, dict]
    skipped: dict[int, str]
    wall_seconds: float


def train_block(
    config: TrainConfig,
    seeds: list[int],
    model_dirs: list[Path] | None = None,
    output_dir: Path | None = None,
    accelerator: str = "auto",
    threads: int | None = None,
    existing: str = "skip",
    progress: bool = False,
    save_every_steps: int = 1000,
    tensorboard: bool = True,
    configs: list[TrainConfig] | None = None,
    checkpoint_files: list[Path] | None = None,
) -> BlockResult:
    """Train ``seeds`` as one ensemble and write ``model-{seed}/checkpoint/model.pt`` for each.

    ``model_dirs`` (one per seed) default to ``output_dir/model-{seed}``. A seed whose checkpoint already
    exists and validates is skipped (``existing="skip"``), refused (``"error"``) or retrained (``"overwrite"``).
    A ``resume.pt`` left by an interrupted run of the same configuration and seed is continued exactly; one
    from another configuration is set aside (renamed ``resume.pt.stale``), never silently reused. State is
    saved every ``save_every_steps`` steps and on SIGTERM/SIGINT, after which :class:`TrainingInterrupted`
    is raised. ``configs`` (one per seed) may give members different learning rates, L2, tasks or curriculum
    thresholds as long as their shapes agree. ``checkpoint_files`` (one per seed) put the final
    ``model.pt`` elsewhere than ``model_dir/checkpoint/model.pt`` (the workflow writes into a block
    directory); logs and resume states stay in ``model_dir/checkpoint/``.
    """
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if model_dirs is None:
        if output_dir is None:
            raise ValueError("give model_dirs or output_dir")
        model_dirs = [Path(output_dir) / f"model-{seed}" for seed in seeds]
    model_dirs = [Path(p) for p in model_dirs]
    configs = list(configs) if configs is not None else [config] * len(seeds)
    targets = (
        [Path(p) for p in checkpoint_files]
        if checkpoint_files is not None
        else [checkpoint_path(d) for d in model_dirs]
    )
    if not len(model_dirs) == len(configs) == len(targets) == len(seeds):
        raise ValueError(
            "seeds, model_dirs, configs and checkpoint_files must have the same length"
        )
    if existing not in ("skip", "error", "overwrite"):
        raise ValueError(f"existing must be skip, error or overwrite, got {existing!r}")
    device = resolve_device(accelerator)
    if threads is not None and device.type == "cpu":
        torch.set_num_threads(threads)

    skipped, todo = {}, []
    for seed, model_dir, cfg, target in zip(seeds, model_dirs, configs, targets, strict=False):
        if target.exists() and existing != "overwrite":
            try:
                load_model(target)
                valid = True
            except CheckpointError:
                valid = False
            if existing == "error":
                raise FileExistsError(f"{target} already exists; refusing to overwrite it")
            if valid:
                skipped[seed] = f"{target} exists (use existing='overwrite' to retrain)"
                continue
        todo.append(Member(seed, cfg, model_dir, checkpoint_file=target))

    result = BlockResult({}, {}, skipped, 0.0)
    if not todo:
        return result
    started = time.perf_counter()
    module = EnsembleModule(todo)
    for index in range(len(todo)):
        _restore(module, index)
    _open_logs(module, tensorboard)

    def finish(index: int) -> None:
        member = module.members[index]
        atomic_torch_save(module.member_state(index), resume_path(member.model_dir))

    module.on_member_done = finish
    remaining = (
        max((m.config.total_steps - m.step) for m in todo if m.active)
        if any(m.active for m in todo)
        else 0
    )

    try:
        return _run_and_save(module, result, device, remaining, progress, save_every_steps, started)
    finally:
        _close_logs(module)


def _run_and_save(
    module, result, device, remaining, progress, save_every_steps, started
) -> BlockResult:
    saver = _PeriodicSaver(module, save_every_steps)
    previous = _install_signal_handlers(module)
    try:
        if remaining > 0:
            module.to(device)
            _fit(module, device, remaining, progress, saver)
            module.to("cpu")
    except BaseException as error:
        # Lightning turns a SIGTERM into its own exception once the step is over: save and say so.
        module.to("cpu")
        _save_all(module, time.perf_counter() - started)
        if module.interrupt_signal is not None:
            raise TrainingInterrupted(module.interrupt_signal) from error
        raise
    finally:
        _restore_signal_handlers(previous)
    elapsed = time.perf_counter() - started
    if module.interrupt_signal is not None:
        _save_all(module, elapsed)
        raise TrainingInterrupted(module.interrupt_signal)
    for index, member in enumerate(module.members):
        member.wall_seconds += elapsed
        if member.active:  # the loop ended early (cannot happen without a signal)
            raise RuntimeError(f"seed {member.seed} stopped at step {member.step} without a reason")
        outcome = member.outcome()
        target = member.checkpoint_file or checkpoint_path(member.model_dir)
        save_model(
            target, module.member_weights(index), model_hparams(member.config, member.seed), outcome
        )
        module._log_member(index, f"done: {outcome}")
        result.checkpoints[member.seed] = target
        result.outcomes[member.seed] = outcome
    for member in module.members:
        resume_path(member.model_dir).unlink(missing_ok=True)
    result.wall_seconds = elapsed
    return result


def _fit(module: EnsembleModule, device: torch.device, steps: int, progress: bool, saver) -> None:
    trainer = _make_trainer(device, steps, progress, saver)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(pytorch_)?lightning.*")
        warnings.filterwarnings("ignore", message=".*(does not have many workers|srun|LeafSpec).*")
        loader = torch.utils.data.DataLoader(_StepIndices(steps), batch_size=None)
        trainer.fit(module, loader)


def _restore(module: EnsembleModule, index: int) -> None:
    member = module.members[index]
    path = resume_path(member.model_dir)
    if not path.exists():
        return
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        module.load_member_state(index, state)
        log.info("seed %s: resuming at step %s", member.seed, member.step)
    except Exception as error:  # a stale or corrupt state is set aside, never reused silently
        stale = path.with_name("resume.pt.stale")
        os.replace(path, stale)
        warnings.warn(
            f"{path}: not usable for this configuration ({error}); moved to {stale.name}",
            stacklevel=2,
        )


def _save_all(module: EnsembleModule, elapsed: float) -> None:
    for index, member in enumerate(module.members):
        saved = member.wall_seconds
        member.wall_seconds = saved + elapsed
        atomic_torch_save(module.member_state(index), resume_path(member.model_dir))
        member.wall_seconds = saved
        module._log_member(
            index, f"step {member.step}: state saved to {resume_path(member.model_dir)}"
        )


class _PeriodicSaver(pl.Callback):
    """Saves every member's resume state every ``every`` steps and handles a pending signal."""

    def __init__(self, module: EnsembleModule, every: int):
        self.module, self.every, self.started = module, every, time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (
            self.every
            and (batch_idx + 1) % self.every == 0
            and self.module.interrupt_signal is None
        ):
            _save_all(self.module, time.perf_counter() - self.started)


def _make_trainer(
    device: torch.device, steps: int, progress: bool, saver: pl.Callback
) -> pl.Trainer:
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
        callbacks=[saver],
        plugins=[
            LightningEnvironment()
        ],  # no SLURM auto-requeue: our own SIGTERM handler saves state
    )


def _install_signal_handlers(module: EnsembleModule):
    def handler(signum, frame):
        module.interrupt_signal = signum

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave signals alone
            pass
    return previous


def _restore_signal_handlers(previous) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _open_logs(module: EnsembleModule, tensorboard: bool) -> None:
    for index, member in enumerate(module.members):
        folder = checkpoint_path(member.model_dir).parent
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / "training.log", "a", encoding="utf-8")
        module.log_files[index] = handle
        verb = "resuming" if member.step else "starting"
        handle.write(
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} {verb} seed {member.seed} at step "
            f"{member.step}/{member.config.total_steps}, level {member.level + 1}, "
            f"config {member.config.to_dict()}\n"
        )
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            module.writers[index] = SummaryWriter(
                log_dir=str(folder), purge_step=member.step or None
            )


def _close_logs(module: EnsembleModule) -> None:
    for handle in module.log_files.values():
        handle.close()
    for writer in module.writers.values():
        writer.close()
    module.log_files.clear()
    module.writers.clear()
