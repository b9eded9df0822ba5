"""From config files to experiments, variants (sweep points), seeds and comparisons, fully checked.

A *variant* is one point of an experiment's sweep: the product of the values listed under ``sweep:``,
each applied on top of the experiment's ``training:`` keys, themselves on top of ``defaults.training``.
Its directory name is readable and stable (``T1-L8-h128-l2_0-thr0.9``, plus ``-{key}{value}`` for any
other swept key), so adding a value to a sweep adds variants and renames none.

Every check that involves more than one key lives here, and runs at parse time, before any job: an
error names the file and line, the key path and the value (see :class:`~.yamlfile.Located`).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..taskspec import PAPER_TASKS, Task, TaskIdError, seq_length_bounds, task_label
from .base import ConfigError
from .sections import (
    AnalysisSettings,
    ComparisonSpec,
    EvaluationSection,
    ExecutionSettings,
    OriginalRuns,
    Seeds,
)
from .training import TRAINING_KEYS, TrainConfig
from .yamlfile import Located, format_path, load_config

if TYPE_CHECKING:
    from ..original_experiment import OriginalModel

log = logging.getLogger("vbpipe.config")

TOP_KEYS = ("run", "defaults", "experiments", "comparisons", "execution")
DEFAULT_KEYS = ("training", "seeds", "evaluation", "analysis")
EXPERIMENT_KEYS = ("training", "sweep", "seeds", "evaluation", "analysis", "original_runs")
#: Keys always in a variant's name, in this order; any other swept key is appended.
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
    "model_type": "",  # "-circuit_naive" reads better than "-model_typecircuit_naive"
    "activation": "",  # "-linear"
    "init": "init_",  # "-init_circuit_gated"
}


@dataclass(frozen=True)
class Variant:
    """One sweep point of an experiment and its seeds.

    A variant of original runs (``experiments.NAME.original_runs``) holds models trained
    elsewhere: ``original`` lists them, and ``seeds`` holds their numbers ``i`` (``model-<i>``,
    the name of each one's directory here too), their seeds being ``training_seeds``."""

    experiment: str
    name: str
    config: TrainConfig
    seeds: tuple[int, ...]
    original: tuple[OriginalModel, ...] | None = None

    @property
    def training_seeds(self) -> tuple[int, ...]:
        """The seed each model was trained with, in the order of ``seeds``."""
        if self.original is None:
            return self.seeds
        return tuple(model.seed for model in self.original)

    def original_model(self, number: int) -> OriginalModel:
        """The original run ``model-<number>`` of this variant."""
        for model in self.original or ():
            if model.number == number:
                return model
        raise KeyError(f"no original model-{number} in variant {self.name!r}")

    @property
    def params(self) -> dict:
        """The variant's training parameters as JSON (config.json, summaries, Table 1)."""
        return self.config.to_dict()

    @property
    def task_label(self) -> str:
        return task_label(self.config.task_id, self.config.input_dim)


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[Variant, ...]
    evaluation: EvaluationSection
    analysis: AnalysisSettings
    swept: tuple[str, ...]
    #: The evaluated length the analyses read (None: each model at its longest evaluated length).
    analysis_length: int | None
    #: The original project's experiment directory the models come from (None: trained here).
    original_runs: str | None = None

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(f"no variant {name!r} in experiment {self.name!r}")

    @property
    def n_models(self) -> int:
        return sum(len(v.seeds) for v in self.variants)

    def lengths(self, variant: Variant) -> tuple[int, ...]:
        """The lengths a variant's models are evaluated at."""
        if self.evaluation.seq_lengths is not None:
            return self.evaluation.seq_lengths
        low, high = seq_length_bounds(variant.config.seq_length)
        return tuple(range(low, high + 1))

    @property
    def task_labels(self) -> tuple[str, ...]:
        return tuple(sorted({v.task_label for v in self.variants}))

    @property
    def has_variable_length(self) -> bool:
        """Whether some variant draws its sequence length per batch."""
        return any(isinstance(v.config.seq_length, tuple) for v in self.variants)

    @property
    def has_controls(self) -> bool:
        """Whether some variant is a control (a linear RNN, or a tanh RNN started from a circuit):
        its models are then compared with their starts (:mod:`vbpipe.jobs.controls`)."""
        return any(
            v.config.model_type == "rnn"
            and (v.config.activation != "tanh" or v.config.init != "random")
            for v in self.variants
        )

    @property
    def reproduces_paper(self) -> bool:
        """Whether some variant trains one of the paper's Table 1 settings (T1-T4, d = L = 8);
        analytic circuits and the controls (a linear RNN, a circuit start) are not set beside the
        paper's trained models."""
        return any(
            v.task_label in PAPER_TASKS
            and v.config.input_dim == 8
            and v.config.seq_length == 8
            and v.config.model_type == "rnn"
            and v.config.activation == "tanh"
            and v.config.init == "random"
            for v in self.variants
        )


@dataclass(frozen=True)
class Comparison:
    name: str
    experiments: tuple[str, ...]
    by: str | None
    seq_length: int | None


@dataclass(frozen=True)
class WorkflowConfig:
    """The selected experiments, their comparisons and the execution settings."""

    experiments: dict[str, Experiment]
    comparisons: dict[str, Comparison]
    execution: ExecutionSettings
    notes: tuple[str, ...] = ()

    @cached_property
    def variants(self) -> list[Variant]:
        return [v for e in self.experiments.values() for v in e.variants]


def _fmt(value) -> str:
    """A value as it appears in a variant name: letters, digits, '.', '_' and '-' only."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        text = format(value, "g")
        mantissa, _, exponent = text.partition("e")
        return f"{mantissa}e{int(exponent)}" if exponent else text
    if isinstance(value, (list, tuple)):
        return "-".join(_fmt(v) for v in value)
    return str(value)


def variant_name(config: TrainConfig, swept) -> str:
    """``{task}-L{L}-h{hidden}-l2_{l2}-thr{threshold}`` plus ``-{key}{value}`` for other swept keys."""
    low, high = seq_length_bounds(config.seq_length)
    parts = [
        task_label(config.task_id, config.input_dim),
        f"L{low}" if low == high else f"L{low}-{high}",
        f"h{config.hidden_dim}",
        f"l2_{_fmt(float(config.l2_penalty))}",
        f"thr{_fmt(float(config.curriculum_threshold))}",
    ]
    for key in swept:
        if key not in NAMED_KEYS:
            parts.append(f"{SHORT.get(key, key)}{_fmt(getattr(config, key))}")
    return "-".join(parts)


def _section(located: Located, name: str, experiment: str, spec: dict, defaults: dict):
    """An experiment's section merged over the defaults, and where each key came from."""
    base = defaults.get(name) or {}
    own = spec.get(name) or {}
    for where, value in ((("defaults", name), base), (("experiments", experiment, name), own)):
        if not isinstance(value, dict):
            raise located.error(where, f"must be a mapping of keys, got {value!r}")
    merged = {**base, **own}
    origin = {k: ("experiments", experiment, name, k) if k in own else ("defaults", name, k)
              for k in merged}  # fmt: skip
    return merged, origin


def _checked(located: Located, build, values: dict, origin: dict, fallback: tuple):
    """``build(values)``, with an error re-pointed at the file, line and key path of the culprit."""
    try:
        return build(values)
    except ConfigError as error:
        first = (error.key or "").split(".")[0].split("[")[0]
        message = str(error)
        if error.key and message.startswith(f"{error.key}: "):
            message = message[len(error.key) + 2 :]
        raise located.error(origin.get(first, fallback), message) from None


def _resolve_experiment(
    located: Located, name: str, spec, defaults: dict, selected: bool = True
) -> Experiment:
    """One experiment, checked and expanded (``selected=False``: an experiment that ``run:``
    leaves out, whose original runs, if any, are not looked for)."""
    where = ("experiments", name)
    if not isinstance(spec, dict):
        raise located.error(where, f"must be a mapping, got {spec!r}")
    for key in spec:
        if key == "execution":
            raise located.error(
                (*where, key),
                "execution is set once, at the top level (models of several experiments share "
                "training jobs)",
            )
        if key not in EXPERIMENT_KEYS:
            raise located.error((*where, key), f"unknown key; known: {', '.join(EXPERIMENT_KEYS)}")
    if "original_runs" in spec:
        return _resolve_original_runs(located, name, spec, defaults, selected)
    training, t_origin = _section(located, "training", name, spec, defaults)
    for key in training:
        if key not in TRAINING_KEYS:
            raise located.error(
                t_origin[key], f"unknown training key; known: {', '.join(TRAINING_KEYS)}"
            )
    evaluation, analysis, e_origin, a_origin = _evaluation_and_analysis(
        located, name, spec, defaults
    )
    seeds_value = spec.get("seeds", defaults.get("seeds"))
    seeds_path = (*where, "seeds") if "seeds" in spec else ("defaults", "seeds")
    if seeds_value is None:
        raise located.error(where, "no seeds: give seeds: here or under defaults")
    try:
        seeds = Seeds.resolve(seeds_value)
    except ConfigError as error:
        raise located.error(seeds_path, str(error)) from None

    sweep = spec.get("sweep") or {}
    if not isinstance(sweep, dict):
        raise located.error((*where, "sweep"), f"must be a mapping KEY: [values], got {sweep!r}")
    for key, values in sweep.items():
        path = (*where, "sweep", key)
        if key not in TRAINING_KEYS:
            raise located.error(path, f"not a training key; known: {', '.join(TRAINING_KEYS)}")
        if not isinstance(values, list) or not values:
            raise located.error(path, f"must be a non-empty list of values, got {values!r}")
        if key in (spec.get("training") or {}):
            raise located.error(path, "is both swept and fixed under training; keep one")

    swept = tuple(sweep)
    variants, names = [], {}
    for combo in itertools.product(*(enumerate(sweep[k]) for k in swept)):
        values = dict(training)
        origin = dict(t_origin)
        for key, (i, value) in zip(swept, combo, strict=True):
            values[key] = value
            origin[key] = (*where, "sweep", key, i)
        config = _checked(located, TrainConfig.from_dict, values, origin, where)
        label = " x ".join(format_path(origin[k]) for k in swept) or format_path(where)
        _check_capacity(located, analysis, config, origin.get("hidden_dim", where), label)
        vname = variant_name(config, swept)
        if vname in names:
            raise located.error(
                (*where, "sweep"),
                f"sweep points {names[vname]} and {label} share the name {vname!r}",
            )
        names[vname] = label
        variants.append(Variant(name, vname, config, seeds))

    experiment = Experiment(name, tuple(variants), evaluation, analysis, swept, None)
    return _finished(located, experiment, e_origin, a_origin)


def _evaluation_and_analysis(located: Located, name: str, spec: dict, defaults: dict):
    """An experiment's evaluation and analysis sections, checked, and where each key came from."""
    where = ("experiments", name)
    evaluation, e_origin = _section(located, "evaluation", name, spec, defaults)
    analysis, a_origin = _section(located, "analysis", name, spec, defaults)
    evaluation = _checked(
        located, EvaluationSection.from_dict, evaluation, e_origin, (*where, "evaluation")
    )
    analysis = _checked(
        located, AnalysisSettings.from_dict, analysis, a_origin, (*where, "analysis")
    )
    return evaluation, analysis, e_origin, a_origin


def _check_capacity(located: Located, analysis, config: TrainConfig, where, label: str) -> None:
    if analysis.require_memory_capacity and config.hidden_dim < config.memory_dim:
        raise located.error(
            where,
            f"hidden_dim {config.hidden_dim} < L*d = {config.memory_dim} ({label}); the "
            "analysis needs a hidden size that can hold the task's memory (or set "
            "analysis.require_memory_capacity: false to keep and flag such models)",
        )


def _finished(located: Located, experiment: Experiment, e_origin: dict, a_origin: dict):
    """The experiment with its lengths checked and its analysis length chosen."""
    _check_lengths(located, experiment, e_origin)
    length = _analysis_length(located, experiment, a_origin)
    return dataclasses.replace(experiment, analysis_length=length)


def _resolve_original_runs(
    located: Located, name: str, spec: dict, defaults: dict, selected: bool
) -> Experiment:
    """An experiment of models the original project trained (``original_runs: DIR``): one variant,
    described by the directory's ``config.json``, whose models are its ``model-<i>`` directories.
    Read and checked now, so that a wrong directory stops the run before any job; not looked for
    when ``run:`` leaves the experiment out (it may live on another machine)."""
    from ..original_experiment import CONFIG_NAME, OriginalRunsError, discover_experiment
    from ..results.layout import RESULTS_ROOT

    where = ("experiments", name)
    at = (*where, "original_runs")
    for key in OriginalRuns.EXCLUDES:
        if key in spec:
            raise located.error(
                (*where, key),
                f"does not apply to original runs ({format_path(at)}: the models were trained "
                "elsewhere and their config.json says how); remove it",
            )
    try:
        root = OriginalRuns(original_runs=spec["original_runs"]).original_runs
    except ConfigError as error:
        raise located.error(at, str(error).removeprefix("original_runs: ")) from None
    results = Path(RESULTS_ROOT).resolve()
    resolved = Path(root).expanduser().resolve()
    if resolved == results or results in resolved.parents:
        message = f"{root} lies inside {RESULTS_ROOT}/, which vbpipe writes; give the original "
        raise located.error(at, message + "experiment's own directory")
    evaluation, analysis, e_origin, a_origin = _evaluation_and_analysis(
        located, name, spec, defaults
    )
    if not selected:
        return Experiment(name, (), evaluation, analysis, (), None, root)
    try:
        found = discover_experiment(root)
    except OriginalRunsError as error:
        raise located.error(at, str(error)) from None
    try:
        config = TrainConfig.from_dict(found.training)
    except ConfigError as error:
        raise located.error(
            at, f"{Path(found.root) / CONFIG_NAME}: {error} (vbpipe cannot evaluate this run)"
        ) from None
    _check_capacity(located, analysis, config, at, format_path(at))
    numbers = tuple(model.number for model in found.models)
    variant = Variant(name, variant_name(config, ()), config, numbers, found.models)
    experiment = Experiment(name, (variant,), evaluation, analysis, (), None, found.root)
    return _finished(located, experiment, e_origin, a_origin)


def _check_lengths(located: Located, experiment: Experiment, origin: dict) -> None:
    """Every evaluated length must hold the task's window (a too-short one fails after training)."""
    if experiment.evaluation.seq_lengths is None:
        return
    for variant in experiment.variants:
        c = variant.config
        for length in experiment.evaluation.seq_lengths:
            try:
                Task(c.task_id, c.input_dim, length, c.use_eos)
            except TaskIdError as error:
                raise located.error(
                    origin["seq_lengths"],
                    f"cannot evaluate variant {variant.name} at length {length}: {error}",
                ) from None


def _analysis_length(located: Located, experiment: Experiment, origin: dict) -> int | None:
    requested = experiment.analysis.seq_length
    per_variant = {v.name: experiment.lengths(v) for v in experiment.variants}
    if requested is None:
        longest = {lengths[-1] for lengths in per_variant.values()}
        return longest.pop() if len(longest) == 1 else None
    missing = [name for name, lengths in per_variant.items() if requested not in lengths]
    if missing:
        raise located.error(
            origin["seq_length"],
            f"{requested} is not an evaluated length of {', '.join(missing[:3])}"
            + (f" (and {len(missing) - 3} more)" if len(missing) > 3 else "")
            + "; choose one of evaluation.seq_lengths or leave it null",
        )
    return requested


def _resolve_comparisons(located: Located, config: dict, experiments: dict, selected: dict):
    comparisons, notes = {}, []
    raw = config.get("comparisons") or {}
    if not isinstance(raw, dict):
        raise located.error(("comparisons",), f"must be a mapping NAME: {{...}}, got {raw!r}")
    for name, spec in raw.items():
        where = ("comparisons", name)
        if spec is None:  # an overlay drops a comparison with `comparisons: {NAME: null}`
            continue
        if not isinstance(spec, dict):
            raise located.error(where, f"must be a mapping, got {spec!r}")
        try:
            comparison = ComparisonSpec.from_dict(spec)
        except ConfigError as error:
            raise located.error(where, str(error)) from None
        unknown = [n for n in comparison.names if n not in experiments]
        if unknown:
            raise located.error(
                where, f"unknown experiment(s) {unknown}; defined: {list(experiments)}"
            )
        if comparison.by is not None:
            experiment = experiments[comparison.experiment]
            if comparison.by not in experiment.swept:
                raise located.error(
                    (*where, "by"),
                    f"{comparison.by!r} is not swept in experiment {comparison.experiment!r} "
                    f"(swept: {list(experiment.swept) or 'nothing'})",
                )
        outside = [n for n in comparison.names if n not in selected]
        if outside:
            notes.append(
                f"comparison {name!r} skipped: experiment(s) {outside} are not selected by `run:`"
            )
            continue
        lengths = {selected[n].analysis_length for n in comparison.names}
        length = lengths.pop() if len(lengths) == 1 else None
        if comparison.by is not None:
            groups = comparison_groups(selected[comparison.experiment], comparison.by, length)
            if len(groups) < 2:
                at = f" at seq_length {length}" if length is not None else ""
                notes.append(
                    f"comparison {name!r} skipped: experiment {comparison.experiment!r} has only "
                    f"{', '.join(groups) or 'no models'}{at}, and a comparison by "
                    f"{comparison.by!r} needs two values (drop it in your overlay with "
                    f"`comparisons: {{{name}: null}}`)"
                )
                continue
        comparisons[name] = Comparison(name, comparison.names, comparison.by, length)
    return comparisons, notes


def comparison_groups(experiment: Experiment, by: str, length: int | None) -> list[str]:
    """The groups ``by=value`` that a comparison of ``experiment`` by ``by`` finds among the models
    evaluated at ``length`` (all models when ``None``), as the compare job splits them."""
    values = {
        getattr(v.config, by)
        for v in experiment.variants
        if length is None or length in experiment.lengths(v)
    }
    return sorted(f"{by}={value}" for value in values)


def memory_notes(experiments: dict[str, Experiment], located: Located | None = None) -> list[str]:
    """One warning per experiment whose variants have a hidden size below L*d: such a model cannot
    hold the task's memory; it is trained, evaluated and flagged (``analysis.require_memory_capacity:
    true`` refuses it instead). Silent where the config sets that key explicitly (``false``: the
    choice is deliberate, as in the paper's grid, which has hidden 32 < 64)."""
    notes = []
    key = ("analysis", "require_memory_capacity")
    for name, experiment in experiments.items():
        if located is not None and (
            (("defaults", *key)) in located.where or ("experiments", name, *key) in located.where
        ):
            continue
        small = [v for v in experiment.variants if v.config.hidden_dim < v.config.memory_dim]
        if small:
            shown = ", ".join(
                f"{v.name} (hidden_dim {v.config.hidden_dim} < L*d = {v.config.memory_dim})"
                for v in small[:3]
            )
            more = f" and {len(small) - 3} more" if len(small) > 3 else ""
            notes.append(
                f"experiment {name!r}: {shown}{more} cannot hold the task's memory; trained, "
                "evaluated and flagged (analysis.require_memory_capacity: true refuses them, false "
                "keeps them silently)"
            )
    return notes


def resolve(located: Located) -> WorkflowConfig:
    """Check everything and expand the sweeps of the experiments selected by ``run``."""
    config = located.data
    for key in config:
        if key not in TOP_KEYS:
            raise located.error((key,), f"unknown top-level key; known: {', '.join(TOP_KEYS)}")
    defaults = config.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise located.error(("defaults",), f"must be a mapping, got {defaults!r}")
    for key in defaults:
        if key not in DEFAULT_KEYS:
            hint = " (execution is a top-level section)" if key == "execution" else ""
            raise located.error(
                ("defaults", key), f"unknown key; known: {', '.join(DEFAULT_KEYS)}{hint}"
            )
    raw = config.get("experiments")
    if not isinstance(raw, dict) or not raw:
        raise located.error(("experiments",), "at least one experiment is needed")
    run = config.get("run")
    if run is not None:
        if not isinstance(run, list) or not run or not all(isinstance(n, str) for n in run):
            raise located.error(
                ("run",),
                f"give a non-empty list of experiment names (or no run: for all), got {run!r}",
            )
        if len(set(run)) != len(run):
            raise located.error(("run",), f"names an experiment twice: {run!r}")
        unknown = [n for n in run if n not in raw]
        if unknown:
            raise located.error(("run",), f"unknown experiment(s) {unknown}; defined: {list(raw)}")
    chosen = run or list(raw)
    every = {
        name: _resolve_experiment(located, name, spec, defaults, name in chosen)
        for name, spec in raw.items()
    }
    selected = {name: every[name] for name in chosen}
    comparisons, notes = _resolve_comparisons(located, config, every, selected)
    notes = memory_notes(selected, located) + notes
    raw_execution = config.get("execution") or {}
    origin = {k: ("execution", k) for k in raw_execution} if isinstance(raw_execution, dict) else {}
    execution = _checked(
        located, ExecutionSettings.from_dict, config.get("execution"), origin, ("execution",)
    )
    for note in notes:
        log.warning(note)
    return WorkflowConfig(selected, comparisons, execution, tuple(notes))


def load_workflow_config(files, cli_values: dict | None = None) -> WorkflowConfig:
    """Read, merge and resolve the config files (plus ``--config`` values)."""
    return resolve(load_config(files, cli_values))
