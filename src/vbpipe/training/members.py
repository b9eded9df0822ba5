"""Who is in a pack and where each member stands: specs, file paths, and the per-member training state.

:class:`Roster` keeps the state of every member (step, curriculum level and window, recent accuracies, early-stop
streak, status) as numpy arrays, so one step of a 640-member pack is a few dozen array operations rather than
640 Python updates. Every decision reads only the member's own row, in the order the original's per-model code
used (the curriculum window is summed oldest first, as Python's ``sum`` over a list), so it is the same alone or in
any pack. :meth:`Roster.resume_fields` and :meth:`Roster.load` move one member's row to and from its
``resume.pt``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from ..results.layout import CHECKPOINT_DIRNAME, CHECKPOINT_NAME, RESUME_NAME

RECENT = 50  # batches averaged for the logged and final training accuracy
ACTIVE, FINISHED, DIVERGED, EARLY_STOPPED = 0, 1, 2, 3
STATUS_NAMES = ("active", "finished", "diverged", "early_stopped")


def checkpoint_path(model_dir: Path) -> Path:
    return Path(model_dir) / CHECKPOINT_DIRNAME / CHECKPOINT_NAME


def resume_path(model_dir: Path) -> Path:
    return Path(model_dir) / CHECKPOINT_DIRNAME / RESUME_NAME


def pack_key(config: TrainConfig) -> tuple:
    """What members of one pack must share: the shapes of their tensors and the activation (the
    kernel runs one recurrence per pack; everything else may differ)."""
    return config.shapes


@dataclass(frozen=True)
class MemberSpec:
    """One model to train: its configuration and seed, where its logs and resume state go (``model_dir``),
    where its ``model.pt`` goes (default ``model_dir/checkpoint/model.pt``) and the stamp recorded in it."""

    config: TrainConfig
    seed: int
    model_dir: Path
    checkpoint_file: Path | None = None
    stamp: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "model_dir", Path(self.model_dir))
        if self.checkpoint_file is not None:
            object.__setattr__(self, "checkpoint_file", Path(self.checkpoint_file))

    @property
    def checkpoint(self) -> Path:
        return self.checkpoint_file or checkpoint_path(self.model_dir)

    @property
    def name(self) -> str:
        """A short readable name for logs: the model directory and its parent (the variant)."""
        return "/".join(self.model_dir.parts[-2:])


@dataclass
class StepEvents:
    """Indices of the members to which something happened in one step (all int arrays)."""

    diverged: np.ndarray
    level_up: np.ndarray
    early_stopped: np.ndarray
    stopped: np.ndarray  # every member that left the active set this step, whatever the reason
    epoch_end: np.ndarray
    log_due: np.ndarray
    messages: list[tuple[int, str]] = field(default_factory=list)


class Roster:
    """The training state of every member of a pack as arrays, updated once per step by :meth:`record`."""

    def __init__(self, specs: list[MemberSpec]):
        self.specs = specs
        configs = [s.config for s in specs]
        count = len(specs)
        levels = [c.horizons() for c in configs]
        self.n_levels = np.array([len(h) for h in levels])
        self.horizons = np.array([h + (h[-1],) * (self.n_levels.max() - len(h)) for h in levels])
        self.total_steps = np.array([c.total_steps for c in configs])
        self.steps_per_epoch = np.array([c.steps_per_epoch for c in configs])
        self.log_every = np.array([c.log_every for c in configs])
        self.threshold = np.array([c.curriculum_threshold for c in configs], dtype=np.float64)
        self.window = np.array([c.curriculum_window for c in configs])
        self.early_stop = np.array([c.early_stop for c in configs])
        self.early_accuracy = np.array([c.early_stop_accuracy for c in configs], dtype=np.float64)
        self.patience = np.array([c.early_stop_patience for c in configs])

        self.step = np.zeros(count, dtype=np.int64)
        self.level = np.zeros(count, dtype=np.int64)
        self.status = np.zeros(count, dtype=np.int8)
        self.diverged_at = np.full(count, -1, dtype=np.int64)
        self.streak = np.zeros(count, dtype=np.int64)
        self.wall_seconds = np.zeros(count, dtype=np.float64)
        # ring buffers: the curriculum window (next slot ``win_pos``, the oldest once full) and the recent
        # accuracies and losses (``recent_len`` values pushed since the last level change)
        self.win_values = np.zeros((count, int(self.window.max())), dtype=np.float64)
        self.win_len = np.zeros(count, dtype=np.int64)
        self.win_pos = np.zeros(count, dtype=np.int64)
        self.recent_acc = np.zeros((count, RECENT), dtype=np.float64)
        self.recent_loss = np.zeros((count, RECENT), dtype=np.float64)
        self.recent_len = np.zeros(count, dtype=np.int64)
        self.history: list[list[list[int]]] = [[] for _ in range(count)]

    def __len__(self) -> int:
        return len(self.specs)

    # -- views -------------------------------------------------------------------------------------------
    @property
    def active(self) -> np.ndarray:
        return self.status == ACTIVE

    def current_horizons(self) -> np.ndarray:
        return self.horizons[np.arange(len(self)), self.level]

    def train_accuracy(self, index: int) -> float | None:
        return _ring_mean(self.recent_acc[index], self.recent_len[index])

    def train_loss(self, index: int) -> float | None:
        return _ring_mean(self.recent_loss[index], self.recent_len[index])

    # -- one step ----------------------------------------------------------------------------------------
    def record(
        self, trained: np.ndarray, updated: np.ndarray, loss: np.ndarray, accuracy: np.ndarray
    ) -> StepEvents:
        """Book one step. ``trained``: members that ran it; ``updated``: those whose update was finite (the
        others diverged and keep their weights); ``loss`` and ``accuracy`` per member (float64)."""
        diverged = trained & ~updated
        self.status[diverged] = DIVERGED
        self.diverged_at[diverged] = self.step[diverged] + 1
        ok = trained & updated
        self.step[ok] += 1
        slot = self.recent_len[ok] % RECENT
        self.recent_acc[ok, slot] = accuracy[ok]
        self.recent_loss[ok, slot] = loss[ok]
        self.recent_len[ok] += 1

        last = self.n_levels - 1
        climbing = ok & (self.level < last)
        slot = self.win_pos % self.window
        self.win_values[climbing, slot[climbing]] = accuracy[climbing]
        self.win_pos[climbing] = (self.win_pos[climbing] + 1) % self.window[climbing]
        self.win_len[climbing] = np.minimum(self.win_len[climbing] + 1, self.window[climbing])
        full = climbing & (self.win_len == self.window)
        level_up = full & (self._window_mean(full) > self.threshold)
        self.level[level_up] += 1
        self.win_len[level_up] = 0
        self.win_pos[level_up] = 0
        self.recent_len[level_up] = 0

        holding = ok & self.early_stop & (self.level == last)
        if holding.any():
            self.streak[holding] = np.where(
                accuracy[holding] >= self.early_accuracy[holding], self.streak[holding] + 1, 0
            )
        early = holding & (self.streak >= self.patience)
        self.status[early] = EARLY_STOPPED
        finished = ok & (self.status == ACTIVE) & (self.step >= self.total_steps)
        self.status[finished] = FINISHED

        events = StepEvents(
            diverged=np.flatnonzero(diverged),
            level_up=np.flatnonzero(level_up),
            early_stopped=np.flatnonzero(early),
            stopped=np.flatnonzero(diverged | early | finished),
            epoch_end=np.flatnonzero(ok & (self.step % self.steps_per_epoch == 0)),
            log_due=np.flatnonzero(ok & (self.step % self.log_every == 0) & (self.recent_len > 0)),
        )
        for k in events.level_up:
            self.history[k].append([int(self.step[k]), int(self.level[k])])
            events.messages.append(
                (
                    int(k),
                    f"step {self.step[k]}: curriculum difficulty increased to "
                    f"{self.level[k] + 1}/{self.n_levels[k]} (horizon {self.current_horizons()[k]})",
                )
            )
        for k in events.early_stopped:
            events.messages.append(
                (
                    int(k),
                    f"step {self.step[k]}: early stop, accuracy >= {self.early_accuracy[k]} for "
                    f"{self.streak[k]} steps at the last level",
                )
            )
        for k in events.diverged:
            events.messages.append(
                (
                    int(k),
                    f"step {self.diverged_at[k]}: loss, gradient or updated weights not finite "
                    f"(loss={loss[k]}); member frozen at its last finite weights",
                )
            )
        return events

    def _window_mean(self, full: np.ndarray) -> np.ndarray:
        """Mean of each full curriculum window, summed oldest first like ``sum()`` over the original's list."""
        total = np.zeros(len(self))
        if self.win_values.shape[1] == 1:  # the original's window of one batch
            total[full] = self.win_values[full, 0]
            return total
        for age in range(self.win_values.shape[1]):
            take = full & (age < self.window)
            where = (self.win_pos + age) % self.window
            total[take] += self.win_values[take, where[take]]
        return total / self.window

    # -- outcome and resume ------------------------------------------------------------------------------
    def outcome(self, index: int) -> dict:
        """The training outcome stored in ``model.pt`` (same keys as before packs existed)."""
        accuracy = self.train_accuracy(index)
        status = STATUS_NAMES[self.status[index]]
        last = self.n_levels[index] - 1
        held = accuracy is not None and accuracy >= self.threshold[index]
        converged = (
            status != "diverged"
            and self.level[index] == last
            and (held or status == "early_stopped")
        )
        return {
            "steps": int(self.step[index]),
            "status": status,
            "curriculum_level": int(self.level[index]),
            "horizon": int(self.current_horizons()[index]),
            "train_accuracy": accuracy,
            "train_loss": self.train_loss(index),
            "converged": bool(converged),
            "diverged": status == "diverged",
            "diverged_at_step": None
            if self.diverged_at[index] < 0
            else int(self.diverged_at[index]),
            "early_stopped": status == "early_stopped",
            "curriculum_history": [list(item) for item in self.history[index]],
            "wall_seconds": round(float(self.wall_seconds[index]), 3),
        }

    def resume_fields(self, index: int) -> dict:
        """The member's row as plain Python values (lists oldest first), for its ``resume.pt``."""
        window = int(self.window[index])
        start = self.win_pos[index] if self.win_len[index] == window else 0
        win = [
            float(self.win_values[index, (start + i) % window]) for i in range(self.win_len[index])
        ]
        return {
            "step": int(self.step[index]),
            "level": int(self.level[index]),
            "window": win,
            "recent_acc": _ring_list(self.recent_acc[index], self.recent_len[index]),
            "recent_loss": _ring_list(self.recent_loss[index], self.recent_len[index]),
            "status": STATUS_NAMES[self.status[index]],
            "diverged_at_step": None
            if self.diverged_at[index] < 0
            else int(self.diverged_at[index]),
            "streak": int(self.streak[index]),
            "history": [list(item) for item in self.history[index]],
            "wall_seconds": float(self.wall_seconds[index]),
        }

    def load(self, index: int, state: dict) -> None:
        """Set the member's row from :meth:`resume_fields` output."""
        self.step[index] = state["step"]
        self.level[index] = state["level"]
        self.status[index] = STATUS_NAMES.index(state["status"])
        self.diverged_at[index] = (
            -1 if state["diverged_at_step"] is None else state["diverged_at_step"]
        )
        self.streak[index] = state["streak"]
        self.history[index] = [list(item) for item in state["history"]]
        self.wall_seconds[index] = state["wall_seconds"]
        window = list(state["window"])[-int(self.window[index]) :]
        self.win_values[index, : len(window)] = window
        self.win_len[index] = len(window)
        self.win_pos[index] = len(window) % self.window[index]
        for ring, values in (
            (self.recent_acc, state["recent_acc"]),
            (self.recent_loss, state["recent_loss"]),
        ):
            values = list(values)[-RECENT:]
            ring[index, : len(values)] = values
        self.recent_len[index] = len(list(state["recent_acc"])[-RECENT:])


def _ring_list(ring: np.ndarray, pushed: int) -> list[float]:
    """A ring's values, oldest first (``pushed`` values went in; the last ``RECENT`` are kept)."""
    size = ring.shape[0]
    if pushed <= size:
        return [float(v) for v in ring[:pushed]]
    start = pushed % size
    return [float(ring[(start + i) % size]) for i in range(size)]


def _ring_mean(ring: np.ndarray, pushed: int) -> float | None:
    values = _ring_list(ring, int(pushed))
    return sum(values) / len(values) if values else None
