"""The training data as a ``DataLoader``: each item is one step's random inputs of every member, drawn from the
member's own streams (``make_generator(seed, "train")`` and, for a variable length, ``"length"``).

Inputs do not depend on the training state (the horizon only changes the targets, which the module builds on its
device), so batches can be drawn ahead: by Lightning's one-batch prefetch, and on a GPU by worker processes. Exact
resume still holds because every batch carries each member's generator states *after* its draw: the module saves
the states of the batch it last trained on, never the loader's, which may be ahead. A member that has stopped is
marked in a shared-memory flag and no longer drawn for (a prefetched batch may still hold it; it is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..tasks import Task, draw_bits, draw_seq_length, make_generator

MEMBERS_PER_WORKER = 64  # ~1 ms of drawing per step on one core


@dataclass
class DrawnBatch:
    """One step's inputs. ``members``: pack indices of the members drawn (ascending); ``lengths``: their
    sequence lengths; ``bits[L]``: ``(n_L, L, B, d)`` uint8 bits of the members of length ``L``, in order;
    ``train_states``: ``(n, S)`` uint8 train-stream states after the draw; ``length_states``: the same for the
    length stream of variable-length members, by pack index."""

    members: np.ndarray
    lengths: np.ndarray
    bits: dict[int, torch.Tensor]
    train_states: torch.Tensor
    length_states: dict[int, torch.Tensor]

    def to(self, device: torch.device) -> DrawnBatch:
        """The bits on ``device`` (asynchronously from pinned memory); streams and indices stay on the CPU."""
        bits = {length: b.to(device, non_blocking=True) for length, b in self.bits.items()}
        return DrawnBatch(self.members, self.lengths, bits, self.train_states, self.length_states)

    def pin_memory(self) -> DrawnBatch:
        bits = {length: b.pin_memory() for length, b in self.bits.items()}
        return DrawnBatch(self.members, self.lengths, bits, self.train_states, self.length_states)

    def blocks(self):
        """``(L, pack indices, bits)`` per sequence length, shortest first."""
        for length in sorted(self.bits):
            yield length, self.members[self.lengths == length], self.bits[length]

    def streams(self, member: int) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """The member's (train, length) generator states after this batch's draw, or None if not drawn."""
        at = int(np.searchsorted(self.members, member))
        if at == len(self.members) or self.members[at] != member:
            return None
        return self.train_states[at].clone(), self.length_states.get(member)

    @staticmethod
    def merge(batches: list[DrawnBatch]) -> DrawnBatch:
        """One batch from the batches of disjoint shards of members given in ascending order of members."""
        if len(batches) == 1:
            return batches[0]
        members = np.concatenate([b.members for b in batches])
        lengths = np.concatenate([b.lengths for b in batches])
        bits = {
            length: torch.cat([b.bits[length] for b in batches if length in b.bits])
            for length in sorted({length for b in batches for length in b.bits})
        }
        states = torch.cat([b.train_states for b in batches])
        length_states = {k: v for b in batches for k, v in b.length_states.items()}
        return DrawnBatch(members, lengths, bits, states, length_states)


class DrawnBatches(IterableDataset):
    """``steps`` batches of the members ``first .. first + len(tasks) - 1`` of a pack.

    ``streams[i]``: member's (train, length) generator states to continue from; ``budget[i]``: how many more
    batches it may need; ``stopped``: the pack's shared ``(K,)`` bool flags of members that stopped early.
    """

    def __init__(
        self,
        first: int,
        tasks: list[Task],
        batch_size: int,
        streams: list[tuple[torch.Tensor, torch.Tensor]],
        budget: list[int],
        stopped: torch.Tensor,
        steps: int,
    ):
        self.first, self.tasks, self.batch_size = first, tasks, batch_size
        self.streams, self.budget, self.stopped, self.steps = streams, budget, stopped, steps

    def __iter__(self):
        info = get_worker_info()
        if info is not None and info.num_workers > 1:
            raise RuntimeError("a shard of member streams must be drawn by one process")
        train, length = [], []
        for train_state, length_state in self.streams:
            train.append(torch.Generator().set_state(train_state))
            length.append(torch.Generator().set_state(length_state))
        variable = [task.lengths[0] != task.lengths[1] for task in self.tasks]
        budget = np.array(self.budget)
        stopped = self.stopped.numpy()
        count = len(self.tasks)
        for _ in range(self.steps):
            drawn = np.flatnonzero((budget > 0) & ~stopped[self.first : self.first + count])
            budget[drawn] -= 1
            lengths = np.array([draw_seq_length(length[i], self.tasks[i]) for i in drawn], int)
            bits, length_states = {}, {}
            states = torch.empty((len(drawn), self.streams[0][0].numel()), dtype=torch.uint8)
            for seq_length in np.unique(lengths):
                rows = drawn[lengths == seq_length]
                block = torch.empty(
                    (len(rows), int(seq_length), self.batch_size, self.tasks[0].input_dim),
                    dtype=torch.uint8,
                )
                for i, row in enumerate(rows):
                    draw_bits(train[row], *block.shape[1:], out=block[i])
                bits[int(seq_length)] = block
            for i, row in enumerate(drawn):
                states[i] = train[row].get_state()
                if variable[row]:
                    length_states[self.first + int(row)] = length[row].get_state()
            yield DrawnBatch(drawn + self.first, lengths, bits, states, length_states)


def initial_streams(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fresh member's (train, length) generator states."""
    return make_generator(seed, "train").get_state(), make_generator(seed, "length").get_state()


def make_loader(shards: list[DrawnBatches], workers: bool, pin_memory: bool):
    """Without ``workers``, one in-process loader (on a CPU drawing shares the job's one thread). With them, one
    loader with one worker process per shard, combined by Lightning's ``CombinedLoader``, so that drawing
    overlaps the device's work."""
    if not workers:
        return DataLoader(shards[0], batch_size=None, num_workers=0)
    from pytorch_lightning.utilities import CombinedLoader

    loaders = [
        DataLoader(shard, batch_size=None, num_workers=1, pin_memory=pin_memory, prefetch_factor=4)
        for shard in shards
    ]
    return loaders[0] if len(loaders) == 1 else CombinedLoader(loaders, mode="min_size")


def shard_bounds(count: int, workers: bool, cpus: int) -> list[tuple[int, int]]:
    """Contiguous ranges of members, each drawn by one process: one range without workers; with them about
    ``MEMBERS_PER_WORKER`` members per worker, at most one worker per two CPU cores and at most eight."""
    shards = max(1, min(8, cpus // 2, -(-count // MEMBERS_PER_WORKER))) if workers else 1
    edges = np.linspace(0, count, shards + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
