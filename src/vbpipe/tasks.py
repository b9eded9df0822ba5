"""Batches of a linear variable-binding task (torch): seeded streams, inputs and targets.

Batches are time-major ``(T, B, D)`` with ``T = L + H``: an input phase of ``L`` random +-1 vectors, then an
autonomous output phase of ``H`` steps whose targets follow the recursion on earlier *outputs*. Because every
output is a signed copy of one input element, targets are computed by one gather through a precomputed
index map (:func:`target_index_map`), checked against the plain recursion in the tests.

What a task is (ids, F, Φ) lives in the torch-free :mod:`vbpipe.taskspec`; its names are re-exported here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .taskspec import (  # noqa: F401  (re-exported: tasks is the one import for code that runs models)
    PAPER_TASKS,
    SPLITS,
    Task,
    TaskIdError,
    decode_task_id,
    index_map,
    parse_task_id,
    repeat_copy_id,
    selection_operator,
    seq_length_bounds,
    stream_seed,
    task_label,
    theory_phi,
)


def target_index_map(task_id, input_dim: int, seq_length: int, horizon: int):
    """Where each target comes from: ``y[L+k, :, j] = sign[k, j] * x[src_time[k, j], :, src_dim[k, j]]``.

    Returns three cached ``(horizon, d)`` int64 tensors (do not modify). Exact because signed selections compose.
    """
    return _torch_index_map(parse_task_id(task_id, input_dim), input_dim, seq_length, horizon)


@lru_cache(maxsize=256)
def _torch_index_map(task_id, input_dim: int, seq_length: int, horizon: int):
    return tuple(
        torch.from_numpy(a.copy()) for a in index_map(task_id, input_dim, seq_length, horizon)
    )


def make_generator(seed: int, split: str) -> torch.Generator:
    """A CPU ``torch.Generator`` for one stream of one model (see :func:`stream_seed`)."""
    return torch.Generator().manual_seed(stream_seed(seed, split))


def draw_bits(
    generator: torch.Generator,
    seq_length: int,
    batch_size: int,
    input_dim: int,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(L, B, d)`` uniform {0, 1} bits (uint8) from ``generator``, written into ``out`` when given.

    The stream of :func:`draw_inputs` (bit ``b`` is input ``2b - 1``) at an eighth of the memory: training
    draws bits on the CPU, stacks them and moves them to the model's device before turning them into +-1.
    """
    if out is None:
        out = torch.empty((seq_length, batch_size, input_dim), dtype=torch.uint8)
    return torch.randint(0, 2, (seq_length, batch_size, input_dim), generator=generator, out=out)


def draw_inputs(
    generator: torch.Generator, seq_length: int, batch_size: int, input_dim: int
) -> torch.Tensor:
    """``(L, B, d)`` i.i.d. uniform +-1 inputs (float32) from ``generator``."""
    return bits_to_inputs(draw_bits(generator, seq_length, batch_size, input_dim))


def bits_to_inputs(bits: torch.Tensor) -> torch.Tensor:
    """{0, 1} bits of any integer dtype to +-1 float32 inputs (exact)."""
    return bits.float().mul_(2).sub_(1)


def draw_seq_length(generator: torch.Generator, task: Task) -> int:
    """One sequence length for a batch: fixed, or uniform over the task's inclusive range."""
    low, high = task.lengths
    if low == high:
        return low
    return int(torch.randint(low, high + 1, (1,), generator=generator).item())


def build_batch(task: Task, inputs: torch.Tensor, horizon: int):
    """Assemble ``(x, y, mask)`` from drawn inputs ``(L, ..., d)``; leading batch dims are kept.

    ``x``: ``(L+H, ..., d[+1])`` with zeros in the output phase (and the EOS flag ``-1`` at step ``L`` when the
    task uses one); ``y``: targets, zero in the input phase; ``mask``: ``(L+H,)`` bool, true on the output phase.
    """
    length, d = inputs.shape[0], task.input_dim
    src_time, src_dim, sign = (
        a.to(inputs.device) for a in target_index_map(task.task_id, d, length, horizon)
    )
    flat = inputs.reshape(length, -1, d)
    picked = flat[src_time, :, src_dim]  # (H, d, batch)
    outputs = (picked * sign.to(inputs.dtype)[..., None]).permute(0, 2, 1)
    outputs = outputs.reshape(horizon, *inputs.shape[1:])
    total = length + horizon
    x = inputs.new_zeros((total, *inputs.shape[1:-1], task.model_input_dim))
    x[:length, ..., :d] = inputs
    if task.use_eos:
        x[length, ..., d] = -1.0
    y = inputs.new_zeros((total, *inputs.shape[1:]))
    y[length:] = outputs
    mask = torch.zeros(total, dtype=torch.bool)
    mask[length:] = True
    return x, y, mask


def generate_batch(
    task: Task,
    generator: torch.Generator,
    horizon: int,
    batch_size: int = 64,
    length_generator: torch.Generator | None = None,
):
    """One batch ``(x, y, mask, L)``; ``L`` is drawn from ``length_generator`` for a variable-length task."""
    length = draw_seq_length(length_generator if length_generator is not None else generator, task)
    inputs = draw_inputs(generator, length, batch_size, task.input_dim)
    x, y, mask = build_batch(task, inputs, horizon)
    return x, y, mask, length


def recursive_targets(inputs: np.ndarray, operator: np.ndarray, horizon: int) -> np.ndarray:
    """The plain recursion ``y_t = [y_{t-L}, ..., y_{t-1}] @ F`` over ``(L, d)`` inputs (slow; for checks)."""
    length, d = inputs.shape
    seq = list(inputs.astype(float))
    for _ in range(horizon):
        window = np.concatenate(seq[-length:])
        seq.append(window @ operator)
    return np.array(seq[length:]).reshape(horizon, d)


def stacked_index_maps(tasks, seq_length: int, horizon: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The target index maps of several tasks at one ``(L, H)``, flattened for :func:`stacked_targets`.

    Returns ``source`` ``(n, H*d)`` int64, the flat index ``time * d + dim`` into one sequence's ``(L, d)``
    inputs, and ``sign`` ``(n, H*d)`` float32, one row per task (all tasks share ``input_dim``).
    """
    sources, signs = [], []
    for task in tasks:
        d = task.input_dim
        src_time, src_dim, sign = target_index_map(task.task_id, d, seq_length, horizon)
        sources.append((src_time * d + src_dim).reshape(-1))
        signs.append(sign.reshape(-1).float())
    return torch.stack(sources), torch.stack(signs)


def stacked_targets(inputs: torch.Tensor, source: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    """Targets of ``K`` members, each with its own task: ``inputs`` ``(K, L, B, d)`` +-1, ``source`` and
    ``sign`` ``(K, H*d)`` (rows of :func:`stacked_index_maps`); returns ``(K, H, B, d)``.

    One gather for all members, so members of different tasks share a batch; exact (signed copies).
    """
    members, length, batch, d = inputs.shape
    horizon = source.shape[1] // d
    flat = inputs.permute(0, 2, 1, 3).reshape(members, batch, length * d)
    picked = flat.gather(2, source[:, None, :].expand(members, batch, horizon * d))
    picked.mul_(sign[:, None, :])
    return picked.view(members, batch, horizon, d).transpose(1, 2).contiguous()


def stacked_model_inputs(inputs: torch.Tensor, use_eos: bool) -> torch.Tensor:
    """The input phase the model reads: ``inputs`` ``(K, L, B, d)``, plus, with ``use_eos``, one more step whose
    only nonzero entry is the EOS flag ``-1`` on an extra channel: ``(K, L[+1], B, d[+1])``.

    Later steps of the output phase have zero input, so the model never needs them materialised.
    """
    if not use_eos:
        return inputs
    members, length, batch, d = inputs.shape
    x = inputs.new_zeros((members, length + 1, batch, d + 1))
    x[:, :length, :, :d] = inputs
    x[:, length, :, d] = -1.0
    return x
