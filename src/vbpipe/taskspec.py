"""What a linear variable-binding task *is*: exact task ids, their decoding, the operator F and EMT's Φ.

Pure Python and numpy (no torch), so that the configuration, the workflow's parse step and the
analyses can use task ids without paying for a torch import. The batches a task generates live in
:mod:`vbpipe.tasks`.

A task id ``(t1, t2, t3)`` names a signed selection ``F`` of shape ``(L*d, d)``: output dimension ``j`` copies,
with sign ``sign_j``, one element of the window ``[y_{t-L}, ..., y_{t-1}]`` (oldest slot first, flat index
``slot*d + dim``). Ids are exact Python integers: ``t1`` exceeds 64 bits for the paper's tasks.

Decoding (the original project's rule):

- ``t1``: the positions of its one-bits, in increasing order, are the chosen window indices; exactly ``d`` bits.
- ``t2``: base-``d`` digits ``a_0, a_1, ...`` (least significant first); digit ``a_i > 0`` swaps choice ``i``
  with choice ``i + a_i`` and must satisfy ``a_i < d - i``.
- ``t3``: bit ``j`` set means output dimension ``j`` is negated; ``t3 < 2**d``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import VbpipeError

#: The paper's four tasks (d = L = 8), labelled in the order the paper notebook's Table 1 lists them.
PAPER_TASKS: dict[str, tuple[int, int, int]] = {
    "T1": (255, 0, 0),
    "T2": (9241421688590303745, 0, 0),
    "T3": (9241421688590303745, 262676, 189),
    "T4": (9241421688590303745, 38637, 145),
}

#: Streams of random data; each has its own generator seeded from (model seed, split).
SPLITS = ("init", "train", "validation", "test", "length")


class TaskIdError(VbpipeError, ValueError):
    """A task id that does not name a valid signed selection for the given shape."""


def repeat_copy_id(input_dim: int) -> tuple[int, int, int]:
    """The task id of repeat copy ``y_t = y_{t-L}`` for ``input_dim`` dimensions."""
    return (2**input_dim - 1, 0, 0)


def _as_exact_int(value, part: str) -> int:
    if isinstance(value, bool):
        raise TaskIdError(f"task_id {part} must be a non-negative integer, got {value!r}")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        result = int(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        result = int(value)
    else:
        raise TaskIdError(f"task_id {part} must be a non-negative integer, got {value!r}")
    if result < 0:
        raise TaskIdError(f"task_id {part} must be non-negative, got {result}")
    return result


def parse_task_id(value, input_dim: int = 8) -> tuple[int, int, int]:
    """Turn a task id as written by a user into exact integers ``(t1, t2, t3)``.

    Accepts ``"repeat_copy"``, the paper names ``"T1"``..``"T4"``, a string ``"t1,t2,t3"`` (or space separated),
    or a sequence of three integers / digit strings. Only the syntax is checked here; :func:`decode_task_id`
    checks the id against a shape.
    """
    if isinstance(value, str):
        name = value.strip()
        if name == "repeat_copy":
            return repeat_copy_id(input_dim)
        if name.upper() in PAPER_TASKS:
            return PAPER_TASKS[name.upper()]
        parts = [p for p in re.split(r"[\s,()\[\]]+", name) if p]
        if len(parts) != 3:
            raise TaskIdError(
                f"task_id {value!r} is neither a name (repeat_copy, T1-T4) nor three integers 't1,t2,t3'"
            )
        value = parts
    if not isinstance(value, Sequence) or len(value) != 3:
        raise TaskIdError(f"task_id must have three parts (t1, t2, t3), got {value!r}")
    return tuple(_as_exact_int(v, f"t{i + 1}") for i, v in enumerate(value))  # type: ignore[return-value]


def task_label(task_id: Sequence[int], input_dim: int = 8) -> str:
    """A short readable label: the paper name (T1-T4) when the id is one of them, else ``t1_t2_t3``."""
    ids = tuple(int(t) for t in task_id)
    if ids == repeat_copy_id(input_dim) and input_dim != 8:
        return "copy"
    for name, known in PAPER_TASKS.items():
        if ids == known:
            return name
    return "_".join(str(t) for t in ids)


def seq_length_bounds(seq_length) -> tuple[int, int]:
    """``(min, max)`` of a sequence length given as an int or an inclusive ``[min, max]`` range."""
    if isinstance(seq_length, bool):
        raise ValueError(f"seq_length must be an integer or [min, max], got {seq_length!r}")
    if isinstance(seq_length, int):
        low = high = seq_length
    elif (
        isinstance(seq_length, Sequence)
        and not isinstance(seq_length, str)
        and len(seq_length) in (1, 2)
    ):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in seq_length):
            raise ValueError(f"seq_length must hold integers, got {seq_length!r}")
        low, high = seq_length[0], seq_length[-1]
    else:
        raise ValueError(f"seq_length must be an integer or [min, max], got {seq_length!r}")
    if low < 1 or high < low:
        raise ValueError(f"seq_length must satisfy 1 <= min <= max, got {seq_length!r}")
    return low, high


def decode_task_id(task_id, input_dim: int, seq_length) -> tuple[list[int], list[int]]:
    """Decode a task id into ``(choice, signs)``: output ``j`` reads flat window index ``choice[j]``.

    For a variable length ``[min, max]`` every chosen index must lie in the shortest window (``< min*d``).
    Raises :class:`TaskIdError` naming the part of the id that is wrong.
    """
    t1, t2, t3 = parse_task_id(task_id, input_dim)
    if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
        raise TaskIdError(f"input_dim must be a positive integer, got {input_dim!r}")
    d = input_dim
    low, high = seq_length_bounds(seq_length)
    window = low * d

    choice = [k for k in range(t1.bit_length()) if (t1 >> k) & 1]
    if len(choice) != d:
        raise TaskIdError(
            f"task_id t1={t1} has {len(choice)} one-bits; it must choose exactly input_dim={d} positions"
        )
    if choice[-1] >= window:
        where = "the window" if low == high else "the shortest window"
        raise TaskIdError(
            f"task_id t1={t1} chooses position {choice[-1]}, outside {where} of {low}x{d}={window} "
            f"positions (seq_length={seq_length!r})"
        )

    digits, rest = [], t2
    while rest:
        rest, digit = divmod(rest, d)
        digits.append(digit)
    if len(digits) > d:
        raise TaskIdError(
            f"task_id t2={t2} has {len(digits)} base-{d} digits; at most input_dim={d} allowed"
        )
    for i, digit in enumerate(digits):
        if digit == 0:
            continue
        if digit >= d - i:
            raise TaskIdError(
                f"task_id t2={t2}: base-{d} digit {i} is {digit}, it must be < {d - i} "
                f"(a swap of choice {i} with choice {i}+{digit} is out of range)"
            )
        choice[i], choice[i + digit] = choice[i + digit], choice[i]

    if t3 >= 2**d:
        raise TaskIdError(
            f"task_id t3={t3} sets a sign bit beyond input_dim={d} (must be < {2**d})"
        )
    signs = [-1 if (t3 >> j) & 1 else 1 for j in range(d)]
    return choice, signs


def selection_operator(task_id, input_dim: int, seq_length: int) -> np.ndarray:
    """The task's operator ``F`` (``(L*d, d)``, float64): ``y_t = w_t @ F`` for the window ``w_t``."""
    choice, signs = decode_task_id(task_id, input_dim, seq_length)
    window = seq_length * input_dim
    op = np.zeros((window, input_dim))
    op[choice, np.arange(input_dim)] = signs
    return op


def theory_phi(operator: np.ndarray, input_dim: int, seq_length: int) -> np.ndarray:
    """EMT's Φ (``(L*d, L*d)``): shift every slot one step older, write ``F^T w`` into the newest slot.

    With ``h`` the window (oldest slot first), ``h_{t+1} = Φ h_t``.
    """
    d, window = input_dim, seq_length * input_dim
    if operator.shape != (window, d):
        raise ValueError(f"operator must have shape {(window, d)}, got {operator.shape}")
    phi = np.zeros((window, window))
    phi[np.arange(window - d), np.arange(d, window)] = 1.0
    phi[window - d :, :] = operator.T
    return phi


@dataclass(frozen=True)
class Task:
    """One linearVB task: its id, dimensions and (fixed or ``(min, max)``) sequence length."""

    task_id: tuple[int, int, int]
    input_dim: int = 8
    seq_length: int | tuple[int, int] = 8
    use_eos: bool = False

    def __post_init__(self):
        object.__setattr__(self, "task_id", parse_task_id(self.task_id, self.input_dim))
        low, high = seq_length_bounds(self.seq_length)
        object.__setattr__(self, "seq_length", low if low == high else (low, high))
        decode_task_id(self.task_id, self.input_dim, self.seq_length)

    @property
    def lengths(self) -> tuple[int, int]:
        """Inclusive ``(min, max)`` sequence length."""
        return seq_length_bounds(self.seq_length)

    @property
    def model_input_dim(self) -> int:
        """Width of the model input: ``d``, plus one end-of-sequence channel when ``use_eos``."""
        return self.input_dim + int(self.use_eos)

    def operator(self, seq_length: int) -> np.ndarray:
        return selection_operator(self.task_id, self.input_dim, seq_length)

    def phi(self, seq_length: int) -> np.ndarray:
        return theory_phi(self.operator(seq_length), self.input_dim, seq_length)


@lru_cache(maxsize=256)
def _index_map(task_id: tuple[int, int, int], input_dim: int, seq_length: int, horizon: int):
    choice, signs = decode_task_id(task_id, input_dim, seq_length)
    d, length = input_dim, seq_length
    slots = np.array(choice) // d
    dims = np.array(choice) % d
    total = length + horizon
    src_time = np.zeros((total, d), dtype=np.int64)
    src_dim = np.zeros((total, d), dtype=np.int64)
    sign = np.ones((total, d), dtype=np.int64)
    src_time[:length] = np.arange(length)[:, None]
    src_dim[:length] = np.arange(d)[None, :]
    for t in range(length, total):
        lag_time = t - length + slots
        src_time[t] = src_time[lag_time, dims]
        src_dim[t] = src_dim[lag_time, dims]
        sign[t] = np.array(signs) * sign[lag_time, dims]
    out = tuple(a[length:].copy() for a in (src_time, src_dim, sign))
    for array in out:
        array.flags.writeable = False
    return out


def index_map(task_id, input_dim: int, seq_length: int, horizon: int):
    """Where each target comes from: ``y[L+k, :, j] = sign[k, j] * x[src_time[k, j], :, src_dim[k, j]]``.

    Three cached, read-only ``(horizon, d)`` int64 arrays. Exact because signed selections compose.
    """
    return _index_map(parse_task_id(task_id, input_dim), input_dim, seq_length, horizon)


def numpy_stream(seed: int, split: str) -> np.random.Generator:
    """A numpy generator for one stream of one model, seeded by :func:`stream_seed`: what the
    torch-free evaluation draws its test sets from."""
    return np.random.Generator(np.random.PCG64(stream_seed(seed, split)))


def stream_seed(seed: int, split: str) -> int:
    """The seed of one random stream of a model: a documented function of (model seed, split).

    ``numpy.random.SeedSequence([seed, index of split in SPLITS])``'s first 63-bit word. Every stream of every
    model is distinct, and no stream touches a global RNG.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    word = np.random.SeedSequence([int(seed), SPLITS.index(split)]).generate_state(
        1, dtype=np.uint64
    )[0]
    return int(word) >> 1
