"""``vbpipe check``, ``vbpipe retrain`` and ``vbpipe orphans``: looking after a results folder.

Each reads the workflow's config the way the workflow does (``--configfile`` files merged in order,
or the ``configfile:`` of a ``--profile``, else ``config/config.yaml``), so that it sees the same
experiments, variants and seeds. ``check`` names a bad config file (an empty one, a YAML syntax
error) with its line, which Snakemake's own messages do not. Nothing is moved or deleted without
``--yes`` (or a "y" at the prompt), and never while a live Snakemake run holds this directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import yaml

from .config import ConfigError
from .config.experiments import load_workflow_config
from .errors import VbpipeError
from .results import layout

DEFAULT_CONFIG = "config/config.yaml"
PROFILE_FILES = ("config.v9+.yaml", "config.v8+.yaml", "profile.yaml", "config.yaml")


class MaintenanceError(VbpipeError):
    """A refused or unconfirmed change to the results folder."""


def profile_configfiles(profile: str) -> list[str]:
    """The ``configfile:`` of a Snakemake profile folder, resolved as Snakemake resolves it (next to
    the profile when it exists there)."""
    folder = Path(profile)
    for name in PROFILE_FILES:
        if (folder / name).is_file():
            settings = yaml.safe_load((folder / name).read_text(encoding="utf-8")) or {}
            break
    else:
        raise ConfigError(f"--profile {profile}: no {' or '.join(PROFILE_FILES)} in that folder")
    value = settings.get("configfile") or settings.get("configfiles")
    if not value:
        return [DEFAULT_CONFIG]
    values = value if isinstance(value, list) else [value]
    return [os.path.normpath(folder / v) if (folder / v).exists() else str(v) for v in values]


def configfiles_of(args) -> list[str]:
    if args.configfile:
        return list(args.configfile)
    if args.profile:
        return profile_configfiles(args.profile)
    return [DEFAULT_CONFIG]


def _load(args):
    return load_workflow_config(configfiles_of(args))


def _refuse_while_running(what: str) -> None:
    from .runlock import live_lock_message

    message = live_lock_message((), unlocking=True)
    if message is not None:
        raise MaintenanceError(f"{what} refused: " + message.split(": ", 1)[1])


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise MaintenanceError(f"{question} Nothing changed: add --yes to do it")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise MaintenanceError("nothing changed")


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--configfile",
        nargs="+",
        metavar="FILE",
        help=f"the run's config files, merged in order (default: --profile's, else {DEFAULT_CONFIG})",
    )
    p.add_argument(
        "--profile", metavar="DIR", help="take the config files from this Snakemake profile"
    )
    p.add_argument(
        "--results", default=layout.RESULTS_ROOT, help="the results folder (default: results)"
    )


def run_check(args) -> int:
    config = _load(args)
    n_variants = len(config.variants)
    n_models = sum(len(v.seeds) for v in config.variants)
    print(
        f"{' '.join(configfiles_of(args))}: valid; {len(config.experiments)} experiment(s) "
        f"({', '.join(config.experiments)}), {n_variants} variant(s), {n_models} model(s), "
        f"{len(config.comparisons)} comparison(s)"
    )
    for note in config.notes:
        print(f"  note: {note}")
    return 0


def run_retrain(args) -> int:
    from .retrain import choose_models, retire_checkpoints

    config = _load(args)
    models = choose_models(config, args.experiment, args.variant, args.seed)
    present = [m for m in models if m.checkpoint_dir(args.results).is_dir()]
    if not present:
        print(
            f"vbpipe retrain: none of the {len(models)} chosen model(s) has a checkpoint; the next "
            "run trains them anyway"
        )
        return 0
    _refuse_while_running("retrain")
    _confirm(
        f"Move the checkpoints of {len(present)} model(s) ({present[0].experiment}/"
        f"{present[0].variant}/model-{present[0].seed}"
        f"{' ...' if len(present) > 1 else ''}) to {args.results}/.retired/, so that the next "
        "run retrains them?",
        args.yes,
    )
    retired, moved = retire_checkpoints(present, args.results)
    for path in moved:
        print(f"retired {path}")
    print(
        f"{len(moved)} checkpoint folder(s) moved to {retired}; run the workflow again (e.g. "
        "`snakemake --profile profiles/local`) to retrain them; delete that folder when no longer "
        "wanted"
    )
    return 0


def run_orphans(args) -> int:
    from .orphans import find_orphans

    config = _load(args)
    orphans = find_orphans(config, args.results)
    if not orphans:
        print(f"no orphans: every folder under {args.results}/ of {list(config.experiments)} "
              "belongs to a current variant and seed")  # fmt: skip
        return 0
    for path in orphans:
        print(path)
    if not args.remove:
        print(
            f"{len(orphans)} folder(s) belong to no current variant or seed of "
            f"{' '.join(configfiles_of(args))}; kept (delete them with --remove)"
        )
        return 0
    _refuse_while_running("orphans --remove")
    _confirm(f"Delete these {len(orphans)} folder(s) and everything in them?", args.yes)
    for path in orphans:
        shutil.rmtree(path)
    print(f"deleted {len(orphans)} folder(s)")
    return 0


def add_maintenance_parsers(subparsers) -> None:
    p = subparsers.add_parser(
        "check",
        help="check the workflow's config files (names the file and line of any error)",
        description="Read and check the config as the workflow does; print what it selects.",
    )
    _add_config_args(p)
    p.set_defaults(func=run_check)

    p = subparsers.add_parser(
        "retrain",
        help="set chosen models' checkpoints aside so that the next run retrains them",
        description=(
            "Move the checkpoint folders of the chosen models (all filters must match) to "
            "results/.retired/TIME/; the next snakemake run retrains them from scratch and redoes "
            "everything downstream. Asks first (or --yes)."
        ),
    )
    _add_config_args(p)
    p.add_argument("--experiment", nargs="+", help="experiment name(s) (default: all selected)")
    p.add_argument("--variant", nargs="+", help="variant name(s) or shell patterns (default: all)")
    p.add_argument("--seed", nargs="+", type=int, help="seed(s) (default: all)")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run_retrain)

    p = subparsers.add_parser(
        "orphans",
        help="list result folders that no current variant or seed produces",
        description=(
            "List the variant and model folders under results/ of the selected experiments that "
            "the config no longer produces; --remove deletes them (asks first, or --yes)."
        ),
    )
    _add_config_args(p)
    p.add_argument("--remove", action="store_true", help="delete the listed folders")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.set_defaults(func=run_orphans)
