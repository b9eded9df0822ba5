"""From the workflow config to experiments, variants (sweep points), seeds and training blocks.

A *variant* is one point of an experiment's sweep: the product of the values listed under ``sweep:``, each
applied on top of the experiment's ``training:`` keys, themselves on top of ``defaults.training``. Its
directory name is readable and stable (``T1-L8-h128-l2_0-thr0.9``, plus ``-key value`` for any other swept key),
so adding a value to a sweep adds variants and renames none.

Seeds are explicit: ``seeds: [1, 2, 3]`` or ``seeds: {first: 1, count: 20}`` (seeds first..first+count-1). A
*block* is a run of at most ``models_per_job`` consecutive seeds of one variant, trained as one ensemble; its
name (``s1-20``) is derived from its seeds.

Every error names the config key at fault, e.g. ``experiments.paper.sweep.hidden_dim[2]``.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field, fields

from .config import ConfigError, TrainConfig
from .taskspec import seq_length_bounds, task_label

TRAINING_KEYS = tuple(f.name for f in fields(TrainConfig) if f.name != "extra")
NAMED_KEYS = ("task_id", "seq_length", "hidden_dim", "l2_penalty", "curriculum_threshold")
SHORT = {
    "learning_rate": "lr",
    "input_dim": "d",
    "epochs": "ep",
    "steps_per_epoch": "spe",
    "batch_size": "b",
    "gradient_clip": "clip",
    "curriculum_window": "win",
    "bias": "bias",
    "use_eos": "eos",
    "curriculum": "cur",
    "fixed_horizon": "H",
    "curriculum_horizons": "hor",
}
EXECUTION_DEFAULTS = {"models_per_job": 1, "accelerator": "auto", "threads": 1}
EVALUATION_DEFAULTS = {
    "test_horizon": 200,
    "n_batches": 10,
    "batch_size": 64,
    "unit_threshold": 0.9,
    "magnitude_threshold": 0.0,
    "figures": True,
    "seq_lengths": None,
}


@dataclass(frozen=True)
class Variant:
    experiment: str
    name: str
    config: TrainConfig
    seeds: tuple[int, ...]
    models_per_job: int

    @property
    def blocks(self) -> list[tuple[str, tuple[int, ...]]]:
        """``(block name, seeds)`` for each block of consecutive seeds."""
        size = self.models_per_job
        return [
            (block_name(chunk), chunk)
            for chunk in (self.seeds[i : i + size] for i in range(0, len(self.seeds), size))
        ]

    def block_of(self, seed: int) -> str:
        for name, seeds in self.blocks:
            if seed in seeds:
                return name
        raise KeyError(f"seed {seed} is not a seed of {self.experiment}/{self.name}")

    @property
    def params(self) -> dict:
        """The variant's parameters as JSON (for config.json, summaries and Table 1)."""
        return self.config.to_dict()


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[Variant, ...]
    execution: dict
    evaluation: dict
    analysis: dict = field(default_factory=dict)

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"no variant {name!r} in experiment {self.name!r}")


def block_name(seeds: tuple[int, ...]) -> str:
    """``s{first}-{last}`` for consecutive seeds, else the seeds joined by ``_``."""
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"s{seeds[0]}-{seeds[-1]}"
    return "s" + "_".join(str(s) for s in seeds)


def _fmt(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, (list, tuple)):
        return "-".join(_fmt(v) for v in value)
    return str(value)


def variant_name(config: TrainConfig, swept: list[str]) -> str:
    """``{task}-L{L}-h{hidden}-l2_{l2}-thr{threshold}`` plus ``-{key}{value}`` for other swept keys."""
    low, high = seq_length_bounds(config.seq_length)
    length = f"{low}" if low == high else f"{low}-{high}"
    parts = [
        task_label(config.task_id, config.input_dim),
        f"L{length}",
        f"h{config.hidden_dim}",
        f"l2_{_fmt(float(config.l2_penalty))}",
        f"thr{_fmt(float(config.curriculum_threshold))}",
    ]
    for key in swept:
        if key not in NAMED_KEYS:
            parts.append(f"{SHORT.get(key, key)}{_fmt(getattr(config, key))}")
    return "-".join(parts)


def resolve_seeds(value, where: str) -> tuple[int, ...]:
    if isinstance(value, dict):
        unknown = set(value) - {"first", "count"}
        if unknown or not {"first", "count"} <= set(value):
            raise ConfigError(
                f"{where}: give a list of seeds or {{first: N, count: M}}, got {value!r}"
            )
        first, count = value["first"], value["count"]
        if not (isinstance(first, int) and isinstance(count, int)) or first < 0 or count < 1:
            raise ConfigError(f"{where}: first must be >= 0 and count >= 1, got {value!r}")
        return tuple(range(first, first + count))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
    ):
        if len(set(value)) != len(value):
            raise ConfigError(f"{where}: seeds must be distinct, got {value!r}")
        return tuple(value)
    raise ConfigError(
        f"{where}: give a non-empty list of seeds >= 0 or {{first: N, count: M}}, got {value!r}"
    )


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _training_config(values: dict, where: str) -> TrainConfig:
    unknown = sorted(set(values) - set(TRAINING_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown training key(s) {unknown}; known: {sorted(TRAINING_KEYS)}"
        )
    try:
        return TrainConfig.from_dict(values)
    except ConfigError as error:
        raise ConfigError(f"{where}.{error}") from error


def resolve_experiment(name: str, spec: dict, defaults: dict) -> Experiment:
    where = f"experiments.{name}"
    merged = _merge(defaults, spec)
    training = merged.get("training", {}) or {}
    sweep = merged.get("sweep", {}) or {}
    for key, values in sweep.items():
        if key not in TRAINING_KEYS:
            raise ConfigError(
                f"{where}.sweep.{key}: not a training key; known: {sorted(TRAINING_KEYS)}"
            )
        if not isinstance(values, list) or not values:
            raise ConfigError(
                f"{where}.sweep.{key}: must be a non-empty list of values, got {values!r}"
            )
        if key in (spec.get("training") or {}):
            raise ConfigError(f"{where}: {key} is both swept and fixed under training; keep one")
    execution = {**EXECUTION_DEFAULTS, **(merged.get("execution") or {})}
    per_job = execution["models_per_job"]
    if not isinstance(per_job, int) or isinstance(per_job, bool) or per_job < 1:
        raise ConfigError(
            f"{where}.execution.models_per_job: must be an integer >= 1, got {per_job!r}"
        )
    if execution["accelerator"] not in ("auto", "cpu", "gpu"):
        raise ConfigError(
            f"{where}.execution.accelerator: must be auto, cpu or gpu, got "
            f"{execution['accelerator']!r}"
        )
    evaluation = {**EVALUATION_DEFAULTS, **(merged.get("evaluation") or {})}
    seeds = resolve_seeds(merged.get("seeds"), f"{where}.seeds")
    analysis = merged.get("analysis") or {}
    swept = list(sweep)
    variants, names = [], {}
    for combo in itertools.product(*(enumerate(sweep[k]) for k in swept)):
        values = dict(training)
        for key, (_, value) in zip(swept, combo, strict=False):
            values[key] = value
        label = (
            ", ".join(f"sweep.{k}[{i}]" for k, (i, _) in zip(swept, combo, strict=False))
            or "training"
        )
        config = _training_config(values, f"{where} ({label})")
        if analysis.get("require_memory_capacity") and config.hidden_dim < config.memory_dim:
            raise ConfigError(
                f"{where} ({label}).hidden_dim: {config.hidden_dim} < L*d = {config.memory_dim}; the analysis "
                "needs a hidden size that can hold the task's memory (or set analysis.require_memory_capacity: "
                "false to keep and flag such models)"
            )
        vname = variant_name(config, swept)
        if vname in names:
            raise ConfigError(
                f"{where}: sweep points {names[vname]} and {label} share the name {vname!r}"
            )
        names[vname] = label
        variants.append(Variant(name, vname, config, seeds, per_job))
    return Experiment(name, tuple(variants), execution, evaluation, analysis)


def resolve_workflow(config: dict) -> dict[str, Experiment]:
    """All experiments of the workflow config (validated), keyed by name, in config order."""
    experiments = config.get("experiments") or {}
    if not experiments:
        raise ConfigError("experiments: at least one experiment is needed")
    defaults = config.get("defaults") or {}
    resolved = {}
    for name, spec in experiments.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"experiments.{name}: must be a mapping, got {spec!r}")
        resolved[name] = resolve_experiment(name, spec, defaults)
    return resolved


def selected_experiments(config: dict) -> dict[str, Experiment]:
    """The experiments listed under ``run`` (all when absent), validated."""
    everything = resolve_workflow(config)
    chosen = config.get("run") or list(everything)
    missing = [name for name in chosen if name not in everything]
    if missing:
        raise ConfigError(f"run: unknown experiment(s) {missing}; defined: {sorted(everything)}")
    return {name: everything[name] for name in chosen}
