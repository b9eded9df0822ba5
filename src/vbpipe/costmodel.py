"""What a training step costs, from measured tables: the planner sizes packs by it to fit a job's runtime.

One step of a pack of ``K`` members costs ``overhead + K * model_step(hidden, T)`` seconds, where ``T`` is the
number of recurrent time steps of a training sequence (input phase + horizon, + 1 with an end-of-sequence
symbol) and ``overhead`` what a step costs however many members it holds (the ``Trainer``'s loop; on a GPU the
kernel launches of the recurrence). ``model_step`` comes from a :class:`CostTable` of measured seconds per
model-step of a large pack (batch 64), per hidden size at a few ``T``: linear in ``T`` between and beyond the
measured points (never below the smallest one's), linear in ``hidden**2`` between measured hidden sizes,
``hidden**2``-proportional above the largest and the smallest's cost below it (erring on the slow side), and
proportional to the batch size. A member is costed at its *last* curriculum horizon (an upper bound: models
spend their first steps at shorter horizons); an analytic circuit is built, not trained, but is costed like a
trained member of its pack, so a pack's estimate is never low.

No torch here: the workflow's parse step imports this module.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import VbpipeError
from .taskspec import seq_length_bounds

if TYPE_CHECKING:
    from .config import TrainConfig

#: Batch size the tables were measured at (model-step costs scale linearly with it).
TABLE_BATCH = 64


class CostModelError(VbpipeError):
    """A cost table or a job runtime that cannot be used."""


@dataclass(frozen=True)
class CostTable:
    """Measured cost of training on one kind of device.

    ``points``: hidden size -> ((time steps T, seconds per model-step), ...), measured in packs large enough
    that the per-step overhead is negligible; ``overhead_s``: seconds per pack step whatever its size;
    ``source``: how the numbers were obtained (the command, or "estimate" when nothing was measured).
    """

    device: str
    overhead_s: float
    points: dict[int, tuple[tuple[int, float], ...]]
    source: str

    def __post_init__(self):
        if self.device not in ("cpu", "gpu"):
            raise CostModelError(f"cost table: device must be cpu or gpu, got {self.device!r}")
        if not (math.isfinite(self.overhead_s) and self.overhead_s >= 0):
            raise CostModelError(f"cost table: overhead_s must be >= 0, got {self.overhead_s!r}")
        if not self.points:
            raise CostModelError("cost table: no measured points")
        for hidden, row in self.points.items():
            if hidden < 1 or not row:
                raise CostModelError(f"cost table: hidden {hidden} has no measured points")
            if len({t for t, _ in row}) != len(row):
                raise CostModelError(f"cost table: hidden {hidden} repeats a time-step count")
            for steps, seconds in row:
                if steps < 1 or not (math.isfinite(seconds) and seconds > 0):
                    raise CostModelError(
                        f"cost table: hidden {hidden}: need T >= 1 and seconds > 0, got "
                        f"({steps}, {seconds})"
                    )

    def to_dict(self) -> dict:
        return {
            "device": self.device,
            "overhead_s": self.overhead_s,
            "source": self.source,
            "points": {str(h): [list(p) for p in row] for h, row in sorted(self.points.items())},
        }

    @classmethod
    def from_dict(cls, values: dict) -> CostTable:
        try:
            points = {
                int(h): tuple(sorted((int(t), float(s)) for t, s in row))
                for h, row in values["points"].items()
            }
            return cls(
                str(values["device"]),
                float(values.get("overhead_s", 0.0)),
                points,
                str(values.get("source", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CostModelError(f"cost table: not a table ({error})") from None


def load_table(path: str | Path) -> CostTable:
    """A table written by :meth:`CostTable.to_dict`, alone or as the ``cost_table`` of a measurements file
    (``benchmarks/gpu_train_check.py --json``, ``throughput.json`` of ``benchmarks/paper_on_gpu.py``)."""
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CostModelError(f"cost table {path}: cannot be read ({error})") from None
    if isinstance(values, dict) and isinstance(values.get("cost_table"), dict):
        values = values["cost_table"]
    if not isinstance(values, dict):
        raise CostModelError(f"cost table {path}: not a table")
    return CostTable.from_dict(values)


# Measured on this project's 2-core CPU machine, one torch thread, d = L = 8, batch 64, a 64-member pack; T = 18 is
# horizon 10, T = 108 horizon 100. Hidden 128: 1.59 and 9.4 ms per model-step on a quiet machine (issue 19's
# figures, `benchmarks/train_throughput.py`). Hidden 64 and 32: those times scaled by the ratios measured
# interleaved in one process (`python benchmarks/train_throughput.py --cost-table 32 64 128 --ks 64 --rounds 2
# --model-steps 320`, load 3.6-5.9: 0.547 and 0.258 of hidden 128 at T = 18, 0.353 and 0.171 at T = 108), since
# the absolute times of a loaded machine are several times too slow (benchmarks/README.md, "Cost model").
CPU_TABLE = CostTable(
    device="cpu",
    overhead_s=0.0005,  # Lightning's loop with a trivial module: 0.32 ms; rounded up
    points={
        128: ((18, 0.00159), (108, 0.0094)),
        64: ((18, 0.00087), (108, 0.0033)),
        32: ((18, 0.00041), (108, 0.0016)),
    },
    source="measured: benchmarks/train_throughput.py (hidden 128) and --cost-table ratios (64, 32)",
)

# Not measured (no GPU run has happened yet): the arithmetic (6 * batch * hidden**2 FLOP per time step at
# 20 TFLOP/s, a third of an H200's FP32 peak) and ~10 ms of launches per pack step. benchmarks/paper_on_gpu.py
# measures the real table (costmodel_gpu.json); point `execution.cost_table` at it.
GPU_TABLE = CostTable(
    device="gpu",
    overhead_s=0.010,
    points={128: ((18, 6.0e-6), (108, 3.4e-5))},
    source="estimate (arithmetic at 20 TFLOP/s + 10 ms launches per step); not measured",
)

TABLES = {"cpu": CPU_TABLE, "gpu": GPU_TABLE}


def device_kind(accelerator: str, resources: dict) -> str:
    """``cpu`` or ``gpu``: the device a training job will use (``auto`` means a GPU when the job asks for one)."""
    if accelerator in ("cpu", "gpu"):
        return accelerator
    gpus = resources.get("gpu", resources.get("gpus", 0))
    try:
        return "gpu" if int(gpus) > 0 else "cpu"
    except (TypeError, ValueError):
        return "gpu"  # a GPU model name such as "a100:1"


def time_steps(config: TrainConfig) -> int:
    """Recurrent time steps of one training sequence at the member's last curriculum horizon."""
    return seq_length_bounds(config.seq_length)[1] + max(config.horizons()) + int(config.use_eos)


def _along_t(row: tuple[tuple[int, float], ...], steps: int) -> float:
    row = tuple(sorted(row))
    if len(row) == 1:
        ((t0, s0),) = row
        return s0 * max(steps, t0) / t0
    if steps <= row[0][0]:
        return row[0][1]
    index = next((i for i in range(1, len(row)) if steps <= row[i][0]), len(row) - 1)
    (t0, s0), (t1, s1) = row[index - 1], row[index]
    return s0 + (s1 - s0) * (steps - t0) / (t1 - t0)


def model_step_seconds(
    table: CostTable, hidden: int, steps: int, batch: int = TABLE_BATCH
) -> float:
    """Seconds per model-step of a large pack (see the module docstring for the interpolation)."""
    hiddens = sorted(table.points)
    if hidden <= hiddens[0]:
        seconds = _along_t(table.points[hiddens[0]], steps)
    elif hidden >= hiddens[-1]:
        seconds = _along_t(table.points[hiddens[-1]], steps) * (hidden / hiddens[-1]) ** 2
    else:
        upper = next(h for h in hiddens if h >= hidden)
        lower = max(h for h in hiddens if h <= hidden)
        low, high = _along_t(table.points[lower], steps), _along_t(table.points[upper], steps)
        share = 0.0 if upper == lower else (hidden**2 - lower**2) / (upper**2 - lower**2)
        seconds = low + share * (high - low)
    return seconds * batch / TABLE_BATCH


def pack_seconds(table: CostTable, configs: list[TrainConfig]) -> float:
    """Expected wall seconds of training ``configs`` as one pack (every member costed as the costliest)."""
    if not configs:
        return 0.0
    steps = max(c.total_steps for c in configs)
    per_model = max(
        model_step_seconds(table, c.hidden_dim, time_steps(c), c.batch_size) for c in configs
    )
    return steps * (table.overhead_s + len(configs) * per_model)


def members_that_fit(table: CostTable, configs: list[TrainConfig], budget_seconds: float) -> int:
    """The most members of these configurations (each costed as the costliest) one job trains within
    ``budget_seconds``; at least 1 (a model that alone overruns the budget still gets its job, and resumes
    on the retry)."""
    steps = max(c.total_steps for c in configs)
    per_model = max(
        model_step_seconds(table, c.hidden_dim, time_steps(c), c.batch_size) for c in configs
    )
    room = budget_seconds / steps - table.overhead_s
    return max(1, math.floor(room / per_model * (1 + 1e-9)))


_UNITS = {"s": 1 / 60, "m": 1, "min": 1, "h": 60, "d": 1440}


def runtime_minutes(value) -> float | None:
    """A Snakemake ``runtime`` resource in minutes: an integer, or a string such as ``"90m"``, ``"4h"``,
    ``"1d"``, ``"2h30m"``; None when not given."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CostModelError(f"train_resources.runtime: not a duration: {value!r}")
    if isinstance(value, int | float):
        minutes = float(value)
    else:
        text = str(value).strip().lower()
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*(min|d|h|m|s)", text)
        if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*(min|d|h|m|s)", "", text).strip():
            if re.fullmatch(r"\d+(\.\d+)?", text):
                return runtime_minutes(float(text))
            raise CostModelError(
                f"train_resources.runtime: not a duration (minutes, or e.g. '4h', '90m'): {value!r}"
            )
        minutes = sum(float(n) * _UNITS[u] for n, u in parts)
    if not (math.isfinite(minutes) and minutes > 0):
        raise CostModelError(f"train_resources.runtime: must be positive, got {value!r}")
    return minutes


def table_for(kind: str, path: str | None = None) -> CostTable:
    """The measured table at ``path`` (must be of device ``kind``), else the built-in one."""
    if path is None:
        return TABLES[kind]
    table = load_table(path)
    if table.device != kind:
        raise CostModelError(
            f"cost table {path} is for device {table.device}, but training jobs run on {kind}"
        )
    return table


__all__ = [
    "CPU_TABLE",
    "GPU_TABLE",
    "CostModelError",
    "CostTable",
    "device_kind",
    "load_table",
    "members_that_fit",
    "model_step_seconds",
    "pack_seconds",
    "runtime_minutes",
    "table_for",
    "time_steps",
]
