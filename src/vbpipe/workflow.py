"""What the Snakemake workflow needs from the package: code fingerprints, plans and job entry points.

The workflow's scripts are thin shims over the ``run_*_job`` functions here, so every job is also a plain
Python call that the tests can make without Snakemake.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from .config import ConfigError, experiment_config_json
from .fileio import write_json
from .sweep import Experiment, Variant

PACKAGE = Path(__file__).resolve().parent

#: The package files each stage runs: editing one reruns that stage (and only the stages that use it).
STAGE_FILES = {
    "train": ["tasks.py", "model.py", "config.py", "training.py", "checkpoint.py"],
    "evaluate": [
        "tasks.py",
        "model.py",
        "checkpoint.py",
        "evaluation/accuracy.py",
        "evaluation/emt.py",
        "evaluation/evaluate.py",
        "evaluation/spectra.py",
    ],
    "model_figures": ["evaluation/figures.py"],
    "aggregate": [
        "evaluation/summary.py",
        "evaluation/table1.py",
        "schemas/evaluation_summary.schema.json",
    ],
    "global_figures": ["evaluation/figures.py"],
    "analysis": ["analysis/*.py"],
}


def _code_text(path: Path) -> bytes:
    """What a file computes: a Python file's syntax tree without docstrings (so reformatting or editing
    comments and docs reruns nothing), any other file's bytes."""
    if path.suffix != ".py":
        return path.read_bytes()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def code_fingerprint(stage: str) -> str:
    """A short hash of the code of one stage's source files (see :data:`STAGE_FILES`)."""
    digest = hashlib.sha256()
    for pattern in STAGE_FILES[stage]:
        for path in sorted(PACKAGE.glob(pattern)):
            digest.update(path.relative_to(PACKAGE).as_posix().encode())
            digest.update(_code_text(path))
    return digest.hexdigest()[:12]


def variant_config_json(experiment: Experiment, variant: Variant) -> dict:
    """The variant's ``config.json`` (the original schema), without a timestamp so it only changes with
    the configuration."""
    content = experiment_config_json(
        experiment.name,
        variant.config,
        list(variant.seeds),
        experiment.execution["accelerator"],
        "snakemake",
        variant.models_per_job,
        variant.name,
    )
    content["metadata"].pop("created_at")
    content["evaluation"] = dict(experiment.evaluation)
    return content


ANALYSIS_DEFAULTS = {
    "eigenvalue": True,
    "embedding": ["pca", "tsne", "mds"],
    "signature_type": "combined",
    "distance_metric": "euclidean",
    "color_by": "accuracy",
    "persistence": True,
    "persistence_metric": "bottleneck",
    "persistence_max_models": None,
    "seq_length": None,
    "eigenvalues": "subspace",
    "require_memory_capacity": False,
}


def analysis_options(experiment: Experiment) -> dict:
    """The experiment's analysis settings with defaults; ``seq_length`` defaults to the longest trained
    length of its first variant."""
    unknown = sorted(set(experiment.analysis) - set(ANALYSIS_DEFAULTS))
    if unknown:
        raise ConfigError(f"experiments.{experiment.name}.analysis: unknown key(s) {unknown}")
    options = {**ANALYSIS_DEFAULTS, **experiment.analysis}
    if options["seq_length"] is None:
        options["seq_length"] = experiment.variants[0].config.task.lengths[1]
    if isinstance(options["embedding"], str):
        options["embedding"] = [options["embedding"]]
    options["embedding"] = [m for m in options["embedding"] if m]
    bad = [m for m in options["embedding"] if m not in ("pca", "tsne", "mds", "isomap")]
    if bad:
        raise ConfigError(
            f"experiments.{experiment.name}.analysis.embedding: unknown method(s) {bad}"
        )
    if options["eigenvalues"] not in ("subspace", "full"):
        raise ConfigError(
            f"experiments.{experiment.name}.analysis.eigenvalues: subspace or full, got "
            f"{options['eigenvalues']!r}"
        )
    n_models = sum(len(v.seeds) for v in experiment.variants)
    if "tsne" in options["embedding"] and n_models < 5:
        options["embedding"].remove(
            "tsne"
        )  # t-SNE needs at least 5 models (see vbpipe.analysis.embedding)
    return options


def comparison_plan(config: dict, experiments: dict[str, Experiment]) -> dict[str, dict]:
    """The comparisons whose experiments are all selected: ``{name: {experiments, by}}``."""
    plan = {}
    for name, spec in (config.get("comparisons") or {}).items():
        where = f"comparisons.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(
                f"{where}: must be a mapping with `experiments:` or `experiment:` and `by:`"
            )
        if "experiments" in spec:
            names = spec["experiments"]
            if not isinstance(names, list) or len(names) < 2:
                raise ConfigError(
                    f"{where}.experiments: list at least two experiments, got {names!r}"
                )
            by = None
        elif "experiment" in spec and "by" in spec:
            names, by = [spec["experiment"]], spec["by"]
        else:
            raise ConfigError(
                f"{where}: give `experiments: [a, b]` or `experiment: a` with `by: KEY`"
            )
        known = set(config.get("experiments") or {})
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigError(f"{where}: unknown experiment(s) {missing}")
        if all(n in experiments for n in names):
            seq_length = analysis_options(experiments[names[0]])["seq_length"]
            if by is not None:
                values = {repr(getattr(v.config, by, None)) for v in experiments[names[0]].variants}
                if by not in Variant.__annotations__ and len(values) < 2:
                    raise ConfigError(
                        f"{where}.by: {by!r} does not vary across the variants of {names[0]}"
                    )
            plan[name] = {"experiments": list(names), "by": by, "seq_length": seq_length}
    return plan


@contextlib.contextmanager
def log_to(path: str | os.PathLike | None):
    """Send this job's stdout, stderr and Python logging to its Snakemake log file."""
    if path is None:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = handle
        logging.basicConfig(stream=handle, level=logging.INFO, force=True)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = old_out, old_err


def run_train_job(
    spec: dict, execution: dict, models_dir: str, block_dir: str, threads: int
) -> None:
    """Train one block of seeds; write ``block_dir/model-{seed}.pt`` (logs and resume states go to
    ``models_dir/model-{seed}/checkpoint/``)."""
    from .config import TrainConfig
    from .training import train_block

    config = TrainConfig.from_dict(spec["config"])
    seeds = list(spec["seeds"])
    block = Path(block_dir)
    result = train_block(
        config,
        seeds,
        model_dirs=[Path(models_dir) / f"model-{seed}" for seed in seeds],
        checkpoint_files=[block / f"model-{seed}.pt" for seed in seeds],
        accelerator=execution["accelerator"],
        threads=threads,
        existing="overwrite",
    )
    for seed, outcome in result.outcomes.items():
        print(f"seed {seed}: {json.dumps(outcome)}")


def split_summary_by(
    summary_path: str | os.PathLike, key: str, out_dir: Path
) -> tuple[list[Path], list[str]]:
    """Split one evaluation summary into one summary per value of a variant parameter (for compare)."""
    summary = json.loads(Path(summary_path).read_text())
    groups: dict[str, list] = {}
    for record in summary["metrics"]:
        params = record.get("params") or record.get("hparams") or {}
        value = params.get(key, record.get(key))
        groups.setdefault(f"{key}={value}", []).append(record)
    paths, labels = [], []
    out_dir.mkdir(parents=True, exist_ok=True)
    for label in sorted(groups, key=_natural):
        path = out_dir / f"summary_{label.replace('=', '_').replace('/', '-')}.json"
        part = {**summary, "metrics": groups[label], "n_models": len(groups[label])}
        write_json(path, part, indent=None)
        paths.append(path)
        labels.append(label)
    return paths, labels


def _natural(text: str):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def eigenvalue_key(options: dict) -> str | None:
    """``None`` (the analysis default: eigenvalues of the rank-L*d subspace, ``eigenvalues_rnn_seq{L}``)
    or the full W_hh spectrum."""
    return "eigenvalues_whh" if options.get("eigenvalues") == "full" else None


def run_compare_job(summaries: list[str], spec: dict, statistics_path: str) -> None:
    """Compare whole experiments, or split one experiment's summary by ``spec['by']`` first."""
    from .analysis.run import run_compare

    out_dir = Path(statistics_path).parent
    if spec["by"] is None:
        paths, labels = list(summaries), list(spec["experiments"])
    else:
        paths, labels = split_summary_by(summaries[0], spec["by"], out_dir / "parts")
        if len(paths) < 2:
            raise ConfigError(
                f"comparison by {spec['by']!r}: the summary has only the group(s) {labels}"
            )
    run_compare(paths, labels, out_dir, seq_length=spec["seq_length"])


def run_global_figures_job(summary_path: str, global_dir: str, magnitude_threshold: float) -> None:
    """The experiment's global eigenvalue figures, drawn from its evaluation summary alone."""
    from .evaluation.run import run_global_figures

    run_global_figures([summary_path], Path(global_dir), magnitude_threshold)
