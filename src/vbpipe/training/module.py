"""The pack as a ``LightningModule``: ``K`` members as the rows of one flat parameter, trained by Lightning's loop
with automatic optimisation.

A step, as Lightning runs it: :meth:`PackModule.training_step` groups the active members by (sequence length drawn
this step, current horizon) only, builds each member's targets from its own task's index map (one gather, so
members of different tasks share a group), runs :class:`vbpipe.training.kernel.PackedRNN` and returns the sum of the
members' losses; Lightning runs backward; :meth:`PackModule.configure_gradient_clipping` clips each member's
gradient to its own norm and marks members with a non-finite loss or gradient; Lightning calls
:class:`~vbpipe.training.optim.StackedAdam`; :meth:`PackModule.optimizer_step` then books the step for every member
with one device-to-host copy (losses, accuracies, who moved), the only synchronisation of the step.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pytorch_lightning as pl
import torch

from ..tasks import (
    bits_to_inputs,
    draw_bits,
    draw_seq_length,
    make_generator,
    stacked_index_maps,
    stacked_model_inputs,
    stacked_targets,
)
from .data import DrawnBatch, initial_streams
from .initial import initial_weights
from .kernel import MemberGroup, PackedRNN, ParamLayout
from .members import ACTIVE, DIVERGED, MemberSpec, Roster, StepEvents
from .optim import StackedAdam, clip_per_member

RESUME_FORMAT = "vbpipe-resume"
# index tensors kept on the device, by content: group compositions repeat for long spells
INDEX_CACHE = 256


@dataclass
class LastStep:
    """What the last step left for the callbacks and the savers (a plain object: cheap to update)."""

    batch: DrawnBatch | None = None
    losses: torch.Tensor | None = None
    accuracy: torch.Tensor | None = None
    events: StepEvents | None = None
    validation: dict[int, tuple[float, float]] = field(default_factory=dict)


class PackModule(pl.LightningModule):
    """``K`` RNNs of equal shapes, each with its own task, hyper-parameters, data streams and state."""

    def __init__(self, specs: list[MemberSpec]):
        super().__init__()
        config = specs[0].config
        task = config.task
        self.specs = specs
        self.roster = Roster(specs)
        self.layout = ParamLayout(
            task.model_input_dim, config.hidden_dim, config.input_dim, config.bias
        )
        self.net = PackedRNN(self.layout, config.activation)
        initial = [initial_weights(s.config, s.seed) for s in specs]
        self.flat = torch.nn.Parameter(
            self.layout.flatten({n: torch.stack([w[n] for w in initial]) for n in initial[0]})
        )
        tasks = list(dict.fromkeys(s.config.task for s in specs))
        self.tasks, self.use_eos, self.batch_size = tasks, config.use_eos, config.batch_size
        self.register_buffer("lr", torch.tensor([s.config.learning_rate for s in specs]))
        self.register_buffer("l2", torch.tensor([s.config.l2_penalty for s in specs]))
        self.register_buffer("clip", torch.tensor([s.config.gradient_clip for s in specs]))
        self.register_buffer("active", torch.ones(len(specs), dtype=torch.bool))
        self.register_buffer(
            "task_index", torch.tensor([tasks.index(s.config.task) for s in specs])
        )
        # each member's (train, length) generator states, until a batch carries newer ones
        self.streams = [initial_streams(s.seed) for s in specs]
        # members that stopped, in shared memory: the loader's worker processes read it
        self.stopped = torch.zeros(len(specs), dtype=torch.bool).share_memory_()
        # resumed Adam moments and step counts, handed to the optimiser once it exists
        self.pending_moments: dict[int, tuple] = {}
        self.optimizer: StackedAdam | None = None
        self.last = LastStep()
        self._maps: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}
        self._indices: OrderedDict[bytes, torch.Tensor] = OrderedDict()

    def __setattr__(self, name, value):
        if name == "_current_fx_name":  # Lightning sets it around every hook call: a plain string
            object.__setattr__(self, name, value)  # (nn.Module's checks cost ~50 us per step)
        else:
            super().__setattr__(name, value)

    # -- Lightning hooks -------------------------------------------------------------------------------
    def configure_optimizers(self):
        self.optimizer = StackedAdam(
            [self.flat], lr=self.lr, weight_decay=self.l2, active=self.active
        )
        for index, (moments, steps) in self.pending_moments.items():
            self.optimizer.load_member(index, moments, steps)
        self.pending_moments.clear()
        return self.optimizer

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        """Only the bits go to the device (from pinned memory, asynchronously); generator states stay here.
        The shards' batches are merged on the device."""
        if isinstance(batch, list):
            return DrawnBatch.merge([b.to(device) for b in batch])
        return batch.to(device)

    def training_step(self, batch: DrawnBatch, batch_idx: int):
        losses, accuracy = self.net.loss(self.flat, self._groups(batch))
        self.last.batch, self.last.losses, self.last.accuracy = batch, losses.detach(), accuracy
        return losses.sum()

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ):
        """Each member's global-norm clipping at its own ``gradient_clip``; a member whose loss or gradient
        is not finite is marked so the optimiser leaves it alone."""
        norm = clip_per_member([self.flat.grad], self.clip)
        optimizer.param_groups[0]["valid"] = torch.isfinite(norm) & torch.isfinite(self.last.losses)

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        self._book(optimizer.param_groups[0]["updated"])

    # -- one step ----------------------------------------------------------------------------------------
    def _groups(self, batch: DrawnBatch) -> list[MemberGroup]:
        """The active members grouped by (sequence length, horizon), with their inputs and targets."""
        active, horizons = self.roster.active, self.roster.current_horizons()
        count = len(self.specs)
        groups = []
        for length, members, bits in batch.blocks():
            taking = active[members]
            for horizon in np.unique(horizons[members][taking]):
                where = np.flatnonzero(taking & (horizons[members] == horizon))
                rows = members[where]
                if len(where) < len(members):
                    bits_g = bits.index_select(0, self._index(where))
                else:
                    bits_g = bits
                every = len(rows) == count  # rows are ascending: every member in order
                rows_t = None if every else self._index(rows)
                x = bits_to_inputs(bits_g)
                source, sign = self._task_maps(length, int(horizon))
                if len(self.tasks) > 1:
                    tasks = self.task_index if every else self.task_index.index_select(0, rows_t)
                    source, sign = source.index_select(0, tasks), sign.index_select(0, tasks)
                else:
                    source, sign = source.expand(len(rows), -1), sign.expand(len(rows), -1)
                targets = stacked_targets(x, source, sign)
                groups.append(
                    MemberGroup(rows_t, stacked_model_inputs(x, self.use_eos), targets, length)
                )
        return groups

    def _index(self, values: np.ndarray) -> torch.Tensor:
        """``values`` as an int64 tensor on the module's device, cached by content."""
        key = values.astype(np.int64).tobytes()
        tensor = self._indices.get(key)
        if tensor is None:
            tensor = torch.from_numpy(values.astype(np.int64)).to(self.flat.device)
            self._indices[key] = tensor
            if len(self._indices) > INDEX_CACHE:
                self._indices.popitem(last=False)
        else:
            self._indices.move_to_end(key)
        return tensor

    def _task_maps(self, length: int, horizon: int) -> tuple[torch.Tensor, torch.Tensor]:
        key = (length, horizon)
        if key not in self._maps:
            source, sign = stacked_index_maps(self.tasks, length, horizon)
            self._maps[key] = (source.to(self.flat.device), sign.to(self.flat.device))
        return self._maps[key]

    def _book(self, updated: torch.Tensor) -> None:
        """Bring the step's numbers to the host (one copy) and advance every member's state."""
        trained = self.roster.active.copy()
        last = self.last
        values = torch.stack([last.losses, last.accuracy, updated.to(last.losses.dtype)])
        loss, accuracy, moved = values.cpu().double().numpy()
        events = self.roster.record(trained, moved > 0, loss, accuracy)
        if len(events.stopped):
            for k in events.stopped:
                self.streams[k] = self.member_streams_from(last.batch, int(k))
            self.active[self._index(events.stopped)] = False
            self.stopped[torch.from_numpy(events.stopped)] = True
        due = [int(k) for k in events.epoch_end if self.roster.status[k] != DIVERGED]
        last.validation = self.validate(due) if due else {}
        last.events = events
        if not self.roster.active.any():
            self.trainer.should_stop = True

    # -- validation --------------------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self, members: list[int]) -> dict[int, tuple[float, float]]:
        """Mean loss and accuracy of each member on its fixed validation batches at its current horizon."""
        members = [k for k in members if self.specs[k].config.validation_batches > 0]
        generators = {k: make_generator(self.specs[k].seed, "validation") for k in members}
        totals = {k: [0.0, 0.0] for k in members}
        horizons = self.roster.current_horizons()
        rounds = max((self.specs[k].config.validation_batches for k in members), default=0)
        for round_ in range(rounds):
            taking = [k for k in members if self.specs[k].config.validation_batches > round_]
            blocks: dict[tuple[int, int], list[tuple[int, torch.Tensor]]] = {}
            for k in taking:
                task = self.specs[k].config.task
                length = draw_seq_length(generators[k], task)
                bits = draw_bits(generators[k], length, self.batch_size, task.input_dim)
                blocks.setdefault((length, int(horizons[k])), []).append((k, bits))
            groups, order = [], []
            for (length, horizon), items in sorted(blocks.items()):
                rows = np.array([k for k, _ in items])
                x = bits_to_inputs(torch.stack([b for _, b in items]).to(self.flat.device))
                source, sign = self._task_maps(length, horizon)
                tasks = self.task_index.index_select(0, self._index(rows))
                targets = stacked_targets(x, source[tasks], sign[tasks])
                groups.append(
                    MemberGroup(
                        self._index(rows), stacked_model_inputs(x, self.use_eos), targets, length
                    )
                )
                order.extend(rows)
            losses, accuracy = self.net.loss(self.flat, groups)
            values = torch.stack([losses, accuracy]).cpu().double().numpy()
            for k in order:
                totals[k][0] += float(values[0, k])
                totals[k][1] += float(values[1, k])
        return {
            k: (
                totals[k][0] / self.specs[k].config.validation_batches,
                totals[k][1] / self.specs[k].config.validation_batches,
            )
            for k in members
        }

    # -- one member's state ------------------------------------------------------------------------------
    def member_weights(self, index: int) -> dict[str, torch.Tensor]:
        row = self.flat.detach()[index : index + 1].cpu()
        return {name: view[0].clone() for name, view in self.layout.views(row).items()}

    def member_streams(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The member's (train, length) generator states after its last trained step."""
        if self.roster.status[index] == ACTIVE and self.last.batch is not None:
            return self.member_streams_from(self.last.batch, index)
        return self.streams[index]

    def member_streams_from(
        self, batch: DrawnBatch, index: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        drawn = batch.streams(index)
        if drawn is None:
            return self.streams[index]
        train, length = drawn
        return train, self.streams[index][1] if length is None else length

    def member_state(self, index: int) -> dict:
        """Everything needed to continue member ``index`` exactly (``weights_only``-loadable)."""
        spec = self.specs[index]
        if self.optimizer is not None:
            moments, steps = self.optimizer.member_state(index)
        elif index in self.pending_moments:
            moments, steps = self.pending_moments[index]
        else:
            zeros = torch.zeros(1, self.layout.size)
            moments, steps = [(zeros[0], zeros[0])], 0
        [(m, v)] = moments
        names = self.layout.views
        train, length = self.member_streams(index)
        return {
            "format": RESUME_FORMAT,
            "fingerprint": spec.config.fingerprint(spec.seed),
            "seed": spec.seed,
            **self.roster.resume_fields(index),
            "weights": self.member_weights(index),
            "adam_m": {k: t[0].clone() for k, t in names(m[None]).items()},
            "adam_v": {k: t[0].clone() for k, t in names(v[None]).items()},
            "adam_step": float(steps),
            "train_gen": train,
            "length_gen": length,
        }

    def load_member_state(self, index: int, state: dict) -> None:
        """Continue member ``index`` from :meth:`member_state` output; refuses another config's or seed's."""
        spec = self.specs[index]
        if state.get("format") != RESUME_FORMAT or state.get(
            "fingerprint"
        ) != spec.config.fingerprint(spec.seed):
            raise ValueError("resume state does not belong to this configuration and seed")
        flatten = self.layout.flatten
        with torch.no_grad():
            self.flat[index] = flatten({k: v[None] for k, v in state["weights"].items()})[0]
        m = flatten({k: v[None] for k, v in state["adam_m"].items()})[0]
        v = flatten({k: t[None] for k, t in state["adam_v"].items()})[0]
        self.pending_moments[index] = ([(m, v)], int(state["adam_step"]))
        self.roster.load(index, state)
        self.streams[index] = (state["train_gen"], state["length_gen"])
        self.active[index] = bool(self.roster.status[index] == ACTIVE)
        self.stopped[index] = not self.active[index]
