"""``vbpipe sweep``: a sweep from the command line in Hydra's syntax, recorded as a config overlay.

``vbpipe sweep wide --from paper hidden_dim=96,160 l2_penalty=0,0.001 seeds=1-5`` writes
``config/sweeps/wide.yaml``: the experiment ``wide``, a copy of ``paper`` with those keys swept
(a key given one value is fixed under ``training:``), and ``run: [wide]``. That file is the single
record of what was asked: ``snakemake --profile P --configfile BASE config/sweeps/wide.yaml`` runs
it again, and the command prints that line. Asking again extends the file (more values, more
seeds: the existing variants keep their names and trained models); a request that would drop or
change values already recorded is refused unless ``--force``.

Values are checked by the same config model as the workflow's (:mod:`vbpipe.config`) before the
file is written; the plan (:func:`vbpipe.plan.plan_training`: what trains, what is reused) and
Snakemake's own dry run are shown; then Snakemake runs it. No second scheduler.

Syntax of ``KEY=VALUES``: comma-separated values, each read as a YAML scalar (``0.001``, ``true``,
``T1``); brackets for a list value (``curriculum_horizons=[10,20],[10,20,40]``); quotes keep a comma
(``task_id='"1,2,3"'``); ``seeds=A-B`` is the inclusive range A..B, ``seeds=1,4,9`` a list;
``evaluation.KEY=V`` and ``analysis.KEY=V`` set one value of those sections.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config.base import ConfigError
from .config.training import TRAINING_KEYS
from .config.yamlfile import Located, load_config, merge
from .fileio import write_text

SWEEPS_DIR = Path("config") / "sweeps"
DEFAULT_BASE = ("config/config.yaml",)
SECTIONS = ("evaluation", "analysis")
_NAME = re.compile(r"[A-Za-z0-9_]+")
_RANGE = re.compile(r"\s*(-?\d+)\s*-\s*(-?\d+)\s*")


class SweepError(ConfigError):
    """A malformed sweep request (the message names the argument and the key)."""


@dataclass(frozen=True)
class Override:
    """One ``KEY=VALUES`` argument, parsed."""

    text: str
    path: tuple[str, ...]  # ("hidden_dim",), ("seeds",), ("evaluation", "test_horizon")
    values: tuple

    @property
    def key(self) -> str:
        return ".".join(self.path)


def split_values(text: str) -> list[str]:
    """``a,b,[c,d],"e,f"`` -> ``["a", "b", "[c,d]", '"e,f"']``: commas outside brackets and quotes."""
    items, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        current += char
    items.append(current)
    return [item.strip() for item in items]


def _scalar(item: str, where: str):
    if item == "":
        raise SweepError(f"{where}: an empty value")
    try:
        return yaml.safe_load(item)
    except yaml.YAMLError:
        raise SweepError(f"{where}: cannot read the value {item!r}") from None


def parse_seeds(text: str, where: str):
    """``A-B`` -> ``{first: A, count: B-A+1}``; ``1,4,9`` -> ``[1, 4, 9]``."""
    match = _RANGE.fullmatch(text)
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        if first < 0:
            raise SweepError(f"{where}: seeds are >= 0, got {first}")
        if last < first:
            raise SweepError(f"{where}: the range {first}-{last} goes down; write {last}-{first}")
        return {"first": first, "count": last - first + 1}
    values = [_scalar(item, where) for item in split_values(text)]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise SweepError(f"{where}: seeds are integers >= 0 or a range A-B, got {text!r}")
    if len(set(values)) != len(values):
        raise SweepError(f"{where}: a seed is given twice in {text!r}")
    return values


def parse_override(text: str) -> Override:
    """One ``KEY=VALUES`` argument; :class:`SweepError` names it and the problem."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    where = f"{text!r}"
    if not sep or not key:
        raise SweepError(f"{where}: expected KEY=VALUES, e.g. hidden_dim=96,160")
    path = tuple(key.split("."))
    if path == ("seeds",):
        return Override(text, path, (parse_seeds(raw, f"{where}: seeds"),))
    if len(path) == 1:
        if key not in TRAINING_KEYS:
            raise SweepError(
                f"{where}: {key!r} is not a training key; known: {', '.join(TRAINING_KEYS)}, "
                "seeds, evaluation.KEY, analysis.KEY"
            )
    elif len(path) != 2 or path[0] not in SECTIONS:
        raise SweepError(
            f"{where}: {key!r}: give a training key, seeds, evaluation.KEY or analysis.KEY"
        )
    values = tuple(_scalar(item, f"{where}: {key}") for item in split_values(raw))
    if len(set(map(repr, values))) != len(values):
        raise SweepError(f"{where}: {key}: a value is given twice")
    if len(path) == 2 and len(values) != 1:
        raise SweepError(f"{where}: {key}: one value (only training keys are swept)")
    return Override(text, path, values)


# ------------------------------------------------------------------------------ the overlay


def _seed_set(value) -> set[int] | None:
    from .config.sections import Seeds

    try:
        return set(Seeds.resolve(value))
    except ConfigError:
        return None


def _union(old: list, new: list) -> list:
    return [*old, *(v for v in new if v not in old)]


def apply_overrides(spec: dict, overrides: list[Override], force: bool) -> tuple[dict, list[str]]:
    """The experiment ``spec`` with the overrides applied; refused changes raise SweepError
    unless ``force``. Returns the new spec and what changed, for the summary."""
    spec = copy.deepcopy(spec)
    training = spec.setdefault("training", {}) or {}
    spec["training"] = training
    sweep = spec.get("sweep") or {}
    changes = []
    for item in overrides:
        if item.path == ("seeds",):
            new = item.values[0]
            old = spec.get("seeds")
            old_set, new_set = _seed_set(old), _seed_set(new)
            if old is not None and old_set is not None and not force and not old_set <= new_set:
                raise SweepError(
                    f"{item.text!r}: seeds: the overlay has {sorted(old_set)}; this would drop "
                    f"{sorted(old_set - new_set)} (use --force to replace)"
                )
            spec["seeds"] = new
            changes.append(f"seeds = {new}")
            continue
        if len(item.path) == 2:
            section = spec.setdefault(item.path[0], {}) or {}
            spec[item.path[0]] = section
            old, new = section.get(item.path[1]), item.values[0]
            if item.path[1] in section and old != new and not force and spec.get("_recorded"):
                raise SweepError(
                    f"{item.text!r}: {item.key}: the overlay has {old!r} (use --force to replace)"
                )
            section[item.path[1]] = new
            changes.append(f"{item.key} = {new!r}")
            continue
        key = item.path[0]
        new = list(item.values)
        if key in sweep:
            old = list(sweep[key])
        elif key in training:
            old = [training[key]]
        else:
            old = None
        if old is not None and spec.get("_recorded") and not force:
            new = _union(old, new)  # extend; build_overlay refuses a change of a variant
        training.pop(key, None)
        sweep.pop(key, None)
        if len(new) == 1:
            training[key] = new[0]
        else:
            sweep[key] = new
        changes.append(f"{key} = {new[0]!r}" if len(new) == 1 else f"{key} in {new}")
    if sweep:
        spec["sweep"] = sweep
    else:
        spec.pop("sweep", None)
    spec.pop("_recorded", None)
    return spec, changes


def overlay_path(name: str, directory: str | os.PathLike = SWEEPS_DIR) -> Path:
    return Path(directory) / f"{name}.yaml"


def overlay_text(name: str, spec: dict, base: list[str], source: str, command: str) -> str:
    header = (
        f"# Sweep {name!r}, written by `vbpipe sweep` (from experiment {source!r}): the record of\n"
        f"# what was asked. Last request: {command}\n"
        f"# Run it again: snakemake --profile PROFILE --configfile {' '.join(base)} "
        "THIS_FILE\n"
        "# base: " + " ".join(base) + "\n"
    )
    body = {"run": [name], "experiments": {name: spec}}
    return header + yaml.safe_dump(body, sort_keys=False, default_flow_style=None)


def _located(data: dict, label: str) -> Located:
    """The overlay as a :class:`Located` whose every key path is attributed to ``label``."""
    where = {}

    def walk(node, path):
        where[path] = label
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))

    for key, value in data.items():
        walk(value, (key,))
    return Located(data, where)


def _name_arguments(located: Located, name: str, overrides: list[Override]) -> None:
    """Attribute each key path an argument set to that argument (``hidden_dim=0,16: ...``)."""
    for item in overrides:
        if item.path == ("seeds",):
            prefixes = [("experiments", name, "seeds")]
        elif len(item.path) == 2:
            prefixes = [("experiments", name, *item.path)]
        else:
            prefixes = [("experiments", name, part, item.path[0]) for part in ("training", "sweep")]
        for path in list(located.where):
            if any(path[: len(p)] == p for p in prefixes):
                located.where[path] = f"vbpipe sweep {item.text}"


@dataclass(frozen=True)
class SweepRequest:
    name: str
    source: str | None
    overrides: list[Override]
    base: list[str]
    directory: Path = SWEEPS_DIR
    force: bool = False


def build_overlay(request: SweepRequest):
    """``(path, text, workflow_config, changes)``: the overlay to write and its resolved config.
    Everything is checked here, before any file is written."""
    from .config.experiments import resolve

    if not _NAME.fullmatch(request.name):
        raise SweepError(
            f"experiment name {request.name!r}: letters, digits and '_' only (a directory name)"
        )
    base = load_config(request.base)
    path = overlay_path(request.name, request.directory)
    experiments = base.data.get("experiments") or {}
    if path.exists():
        recorded = load_config([path]).data.get("experiments", {}).get(request.name)
        if not isinstance(recorded, dict):
            raise SweepError(f"{path}: does not define experiment {request.name!r}; move it away")
        spec = {**recorded, "_recorded": True}
        source = request.source or request.name
        if request.force and request.source:
            spec = copy.deepcopy(experiments.get(request.source, spec))
    else:
        if request.source is None:
            raise SweepError(f"{path} does not exist yet: give --from EXPERIMENT to start from")
        if request.name in experiments:
            raise SweepError(
                f"experiment {request.name!r} already exists in {', '.join(request.base)}; "
                "choose a new name"
            )
        if request.source not in experiments:
            raise SweepError(
                f"--from {request.source!r}: no such experiment; defined: {', '.join(experiments)}"
            )
        spec = copy.deepcopy(experiments[request.source])
        source = request.source
    spec, changes = apply_overrides(spec, request.overrides, request.force)
    data = {"run": [request.name], "experiments": {request.name: spec}}
    label = f"vbpipe sweep {request.name}"
    if path.exists() and not request.force:
        _check_extends(path, request, config_of=lambda: resolve(merge(base, _located(data, label))))
    overlay = _located(data, label)
    _name_arguments(overlay, request.name, request.overrides)
    try:
        config = resolve(merge(base, overlay))
    except ConfigError as error:
        raise SweepError(str(error)) from None
    command = " ".join(["vbpipe sweep", request.name]
                       + ([f"--from {request.source}"] if request.source else [])
                       + [o.text for o in request.overrides])  # fmt: skip
    text = overlay_text(request.name, spec, request.base, source, command)
    return path, text, config, changes


def _variants(config, name: str) -> dict[str, tuple[dict, set[int]]]:
    return {v.name: (v.config.to_dict(), set(v.seeds)) for v in config.experiments[name].variants}


def _check_extends(path: Path, request: SweepRequest, config_of) -> None:
    """Refuse (unless ``--force``) a request that changes, renames or drops a variant the overlay
    already records, or drops one of its seeds: its trained models would be orphaned."""
    from .config.experiments import load_workflow_config

    try:
        old = _variants(load_workflow_config([*request.base, path]), request.name)
        new = _variants(config_of(), request.name)
    except ConfigError:
        return  # the new request's own error is reported by the caller
    changed = [n for n, (config, _) in old.items() if n not in new or new[n][0] != config]
    dropped = [n for n, (_, seeds) in old.items() if n in new and not seeds <= new[n][1]]
    if changed or dropped:
        what = changed or dropped
        raise SweepError(
            f"{' '.join(o.text for o in request.overrides)}: {path} records variant(s) "
            f"{', '.join(what[:3])}{' ...' if len(what) > 3 else ''} that this would "
            + ("change or rename" if changed else "drop seeds of")
            + "; extend with new values and seeds, or use --force to replace"
        )


# ------------------------------------------------------------------------------ plan and run


def plan_summary(config, name: str) -> str:
    """What the sweep trains and what it reuses, per variant (:func:`vbpipe.plan.plan_training`)."""
    from .plan import plan_training

    plan = plan_training(config)
    todo: dict[str, int] = {}
    for pack in plan.packs:
        for member in pack.members:
            todo[member.variant.name] = todo.get(member.variant.name, 0) + 1
    experiment = config.experiments[name]
    lines = [f"plan: {len(experiment.variants)} variant(s), {experiment.n_models} model(s)"]
    for variant in experiment.variants:
        n = len(variant.seeds)
        train = todo.get(variant.name, 0)
        lines.append(f"  {variant.name}: {train} to train, {n - train} reused")
    lines.append(
        f"  total: {len(plan.models) - plan.n_current} to train in {len(plan.packs)} job(s), "
        f"{plan.n_current} reused"
    )
    return "\n".join(lines)


def snakemake_command(profile: str, base: list[str], overlay: Path, dry_run: bool) -> list[str]:
    command = [sys.executable, "-m", "snakemake", "--profile", profile, "--configfile",
               *base, str(overlay)]  # fmt: skip
    return [*command, "--dry-run", "--quiet", "rules"] if dry_run else command


def run_snakemake(command: list[str]) -> int:
    """Run Snakemake in the foreground (its output goes straight to the terminal)."""
    return subprocess.call(command)


def run_sweep(args) -> int:
    request = SweepRequest(
        name=args.name,
        source=args.source,
        overrides=[parse_override(text) for text in args.overrides],
        base=list(args.configfile or DEFAULT_BASE),
        directory=Path(args.sweeps_dir),
        force=args.force,
    )
    path, text, config, changes = build_overlay(request)
    if not Path(args.profile).is_dir():
        raise SweepError(f"--profile {args.profile}: no such profile directory")
    old = path.read_text(encoding="utf-8") if path.exists() else None
    print(f"sweep {request.name}: " + ("; ".join(changes) or "no change"), file=sys.stderr)
    print(plan_summary(config, request.name), file=sys.stderr)
    if args.dry_run:
        print(f"dry run: {path} {'would change' if old != text else 'is unchanged'}; "
              "Snakemake's plan:", file=sys.stderr)  # fmt: skip
        with _preview(text) as preview:
            return run_snakemake(snakemake_command(args.profile, request.base, preview, True))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)
    command = snakemake_command(args.profile, request.base, path, False)
    print(f"wrote {path}; running: {' '.join(command[2:])}", file=sys.stderr)
    return run_snakemake(command)


@contextmanager
def _preview(text: str):
    """The overlay for a dry run, in a temporary file (the real one is not written)."""
    handle, name = tempfile.mkstemp(prefix="vbpipe-sweep-", suffix=".yaml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        yield Path(name)
    finally:
        os.unlink(name)


def add_sweep_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="sweep from the command line (Hydra syntax), recorded as a config overlay",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    p.add_argument("name", help="the sweep's experiment name (its results/NAME directory)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUES",
                   help="hidden_dim=96,160 l2_penalty=0,0.001 seeds=1-5 evaluation.test_horizon=100")  # fmt: skip
    p.add_argument("--from", dest="source", metavar="EXPERIMENT",
                   help="the experiment of the base config to start from")  # fmt: skip
    p.add_argument("--configfile", action="append", metavar="FILE",
                   help="a base config file, repeatable (default: config/config.yaml)")  # fmt: skip
    p.add_argument("--profile", default="profiles/local", help="Snakemake profile to run with")
    p.add_argument("--sweeps-dir", default=str(SWEEPS_DIR), help="where overlays are written")
    p.add_argument("--dry-run", "-n", action="store_true",
                   help="show the plan and Snakemake's dry run; write nothing")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="replace values the overlay already records instead of refusing")  # fmt: skip
    p.set_defaults(func=run_sweep)
