# Every Python helper of the workflow lives here (no lambdas in rules). The config is read, checked and
# expanded once, at parse time, by vbpipe.config: a bad config stops the run before any job, naming the
# file, the line, the key and the value. Nothing imported here imports torch.
import json
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.io import report as report_item

from vbpipe.results import layout
from vbpipe.config import ConfigError, experiment_config_json
from vbpipe.config.experiments import load_workflow_config
from vbpipe.fingerprint import code_fingerprint
from vbpipe.plan import plan_training, quarantine_unreadable
from vbpipe.diskspace import (
    MIN_FREE_TO_START,
    DiskFullError,
    check_free_space,
    free_bytes,
    human_bytes,
)
from vbpipe.orphans import find_orphans, orphans_line, remove_stale_packs
from vbpipe.runlock import has_locks, live_lock_message, release_stale_lock
from vbpipe.sidecar import sidecar_path

ENV = "../../envs/vbpipe.yaml"
SCRIPTS_DIR = Path(workflow.current_basedir).parent / "scripts"
PACKS_DIR = Path(".snakemake") / "vbpipe" / "packs"


def default_configfile():
    """config/config.yaml of the working directory, else the workflow's own (`snakemake -s
    /path/Snakefile` from another folder)."""
    here = Path("config") / "config.yaml"
    return here if here.exists() else Path(workflow.basedir) / here


try:
    CONFIG = load_workflow_config(
        workflow.overwrite_configfiles or [default_configfile()],
        dict(workflow.config_settings.config),
    )
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None
EXPERIMENTS = CONFIG.experiments
EXECUTION = CONFIG.execution

# Each stage's fingerprint: the package code its script imports (vbpipe.fingerprint).
FINGERPRINT = {
    path.stem: code_fingerprint(path) for path in sorted(SCRIPTS_DIR.glob("*.py"))
}
# Models trained elsewhere (experiments.NAME.original_runs) are read by the original project's
# checkpoint reader, which vbpipe.checkpoint imports by name and so no stage's fingerprint covers:
# the stages that read their checkpoints add its fingerprint for those experiments only.
ORIGINAL_READER = code_fingerprint(module="vbpipe.original_runs")


def stage_code(stage, experiment):
    """A stage's code fingerprint for the jobs of one experiment."""
    if experiment.original_runs is None:
        return FINGERPRINT[stage]
    return f"{FINGERPRINT[stage]}+{ORIGINAL_READER}"


def checkpoint_stage_code(stage):
    """``params: code=`` of a per-experiment wildcard rule that reads checkpoints."""

    def code(wildcards):
        return stage_code(stage, EXPERIMENTS[wildcards.experiment])

    return code


wildcard_constraints:
    experiment=r"[A-Za-z0-9_]+",
    variant=r"[A-Za-z0-9_.\-]+",
    seed=r"\d+",
    task=r"[A-Za-z0-9_]+",
    method=r"pca|tsne|mds|isomap",
    comparison=r"[A-Za-z0-9_]+",


def rule_name(stage, *parts):
    """A readable, valid rule name, e.g. evaluate_paper_T1_L8_h128_l2_0_thr0_9."""
    return "_".join([stage, *(re.sub(r"[^A-Za-z0-9]+", "_", str(p)) for p in parts)])


# ---- training --------------------------------------------------------------------------------------
# The main process plans which models to train (vbpipe.plan) and saves each pack's record; a job
# process (Slurm) re-parses this file later, when other packs may have finished, so it defines its own
# pack from that record instead of planning again.
def target_jobs_of(argv):
    """The --target-jobs of a job process's command line (Snakemake sets its DAG settings only after
    parsing this file)."""
    jobs, taking = [], False
    for arg in argv:
        if arg == "--target-jobs":
            taking = True
        elif taking and arg.startswith("--"):
            taking = False
        elif taking:
            jobs.append(arg)
    return jobs


def pack_records():
    if workflow.is_main_process:
        # stamped with vbpipe.plan.training_code(), as `vbpipe train` stamps: not with this
        # script's closure, which holds file names and records that cannot change a model
        plan = plan_training(CONFIG)
        records = [
            {
                "name": p.name,
                "members": p.spec(),
                "states": list(p.states),
                "expectation": p.expectation(),
            }
            for p in plan.packs
        ]
        PACKS_DIR.mkdir(parents=True, exist_ok=True)
        for (
            record
        ) in records:  # what each training job is expected to take (vbpipe.costmodel)
            print(
                f"vbpipe: train_{record['name']}: {record['expectation']}",
                file=sys.stderr,
            )
            path = PACKS_DIR / f"{record['name']}.json"
            if not path.exists():
                path.write_text(json.dumps(record))
        if TAKES_LOCK and not has_locks():
            remove_stale_packs(PACKS_DIR, {r["name"] for r in records})
        return records
    wanted = [spec.split(":", 1)[0] for spec in target_jobs_of(sys.argv)]
    return [
        json.loads((PACKS_DIR / f"{name[len('train_'):]}.json").read_text())
        for name in wanted
        if name.startswith("train_")
        and (PACKS_DIR / f"{name[len('train_'):]}.json").exists()
    ]


def command_line():
    """Snakemake's parsed command line (it knows some settings only after parsing this file), or
    None when not started from the command line (the API)."""
    try:
        from snakemake.cli import parse_args

        return parse_args(sys.argv[1:])[1]
    except (Exception, SystemExit):
        return None


ARGS = command_line()


def is_dry_run():
    """Whether this is a dry run, read from the command line the way Snakemake reads it."""
    return bool(ARGS.dryrun) if ARGS is not None else bool(workflow.dryrun)


DRY_RUN = is_dry_run()
REPORT = ARGS is not None and bool(getattr(ARGS, "report", None))
UNLOCK = ARGS is not None and bool(getattr(ARGS, "unlock", False))
TAKES_LOCK = not (
    DRY_RUN or REPORT or UNLOCK or (ARGS is not None and getattr(ARGS, "nolock", False))
)


def quarantine_results():
    """Finished per-model and per-experiment results that cannot be read back are set aside, so that
    their jobs rerun (vbpipe.plan.quarantine_unreadable)."""
    files = [
        layout.model_file(e.name, v.name, seed, name)
        for e in EXPERIMENTS.values()
        for v in e.variants
        for seed in v.seeds
        for name in ("metrics", "arrays")
    ]
    files += [
        layout.experiment_file(e, name)
        for e in EXPERIMENTS
        for name in ("table", "arrays")
    ]
    for path in quarantine_unreadable(files, DRY_RUN):
        action = (
            "would be redone" if DRY_RUN else f"moved to {path.name}.corrupt; redone"
        )
        print(f"vbpipe: {path} cannot be read back: {action}", file=sys.stderr)


def refuse_live_lock(targets, unlocking=False):
    """Stop at once when a live run holds this directory (Snakemake's own LockException would
    suggest --unlock, which would break that run)."""
    message = live_lock_message(targets, unlocking=unlocking)
    if message is not None:
        raise WorkflowError(message)


if workflow.is_main_process:
    if UNLOCK:
        refuse_live_lock((), unlocking=True)
    elif TAKES_LOCK:
        release_stale_lock()
        try:
            check_free_space([layout.RESULTS_ROOT, ".snakemake"])
        except DiskFullError as error:
            raise WorkflowError(str(error)) from None
    quarantine_results()
PACKS = pack_records()


def variant_config(experiment, variant):
    """The variant's config.json: the original schema, without a timestamp and without the speed-only
    execution settings (which must not rerun anything); for original runs, where they come from.
    """
    content = experiment_config_json(
        experiment.name,
        variant.config,
        list(variant.training_seeds),
        accelerator=None,
        script="snakemake",
        models_per_job=None,
        variant=variant.name,
        timestamp=False,
    )
    content["evaluation"] = experiment.evaluation.computed()
    if variant.original is not None:
        content["original_runs"] = {
            "directory": experiment.original_runs,
            "models": [
                {"model": m.name, "seed": m.seed, "checkpoint": m.checkpoint}
                for m in variant.original
            ],
        }
    return content


# ---- evaluation --------------------------------------------------------------------------------------
def model_files(experiment, variant, name):
    """One file per model of a variant, e.g. name="metrics" -> [.../model-1/results/metrics.json, ...].
    An original run's checkpoint is its .ckpt in its own directory (read, never written), and it
    has no sidecar."""
    if variant.original is not None and name in ("checkpoint", "sidecar"):
        return [m.checkpoint for m in variant.original] if name == "checkpoint" else []
    return [
        layout.model_file(experiment.name, variant.name, seed, name)
        for seed in variant.seeds
    ]


def checkpoint_file(experiment, variant, seed):
    """One model's checkpoint (``seed``: an original run's number, for an original run)."""
    if variant.original is not None:
        return variant.original_model(seed).checkpoint
    return layout.model_file(experiment.name, variant.name, seed, "checkpoint")


def identities(experiment, variant):
    """Who each model is: its seed, and its directory's name (an original run keeps its
    ``model-<i>``, its seed coming from its checkpoint)."""
    return [
        {
            "experiment": experiment.name,
            "variant": variant.name,
            "seed": seed,
            "model_name": layout.model_dirname(number),
        }
        for number, seed in zip(variant.seeds, variant.training_seeds, strict=True)
    ]


def model_figure_outputs(experiment, variant):
    """Every per-model figure of a variant, as report items."""
    lengths = experiment.lengths(variant)
    outputs = []
    for seed in variant.seeds:
        for figure in layout.model_figures(lengths):
            outputs.append(
                report_item(
                    layout.model_file(experiment.name, variant.name, seed, figure.name),
                    caption=f"../report/{figure.caption}",
                    category=experiment.name,
                    subcategory=f"per-model: {variant.name}",
                    labels={"model": f"model-{seed}", "figure": figure.label},
                )
            )
    return outputs


# ---- aggregation and analysis ------------------------------------------------------------------------
def experiment_models(experiment, name, task=None):
    """One file per model of an experiment (of one task label, when given)."""
    return [
        f
        for v in experiment.variants
        if task is None or v.task_label == task
        for f in model_files(experiment, v, name)
    ]


def experiment_metrics(wildcards):
    return experiment_models(EXPERIMENTS[wildcards.experiment], "metrics")


def experiment_arrays(wildcards):
    return experiment_models(EXPERIMENTS[wildcards.experiment], "arrays")


def experiment_checkpoints(wildcards):
    return experiment_models(EXPERIMENTS[wildcards.experiment], "checkpoint")


def experiment_sidecars(wildcards):
    return experiment_models(EXPERIMENTS[wildcards.experiment], "sidecar")


def task_metrics(wildcards):
    return experiment_models(
        EXPERIMENTS[wildcards.experiment], "metrics", wildcards.task
    )


def task_arrays(wildcards):
    return experiment_models(
        EXPERIMENTS[wildcards.experiment], "arrays", wildcards.task
    )


def evaluation_config(wildcards):
    experiment = EXPERIMENTS[wildcards.experiment]
    return {
        "experiment": experiment.name,
        "evaluation": experiment.evaluation.computed(),
    }


def figure_settings(wildcards):
    return {
        "magnitude_threshold": EXPERIMENTS[
            wildcards.experiment
        ].evaluation.magnitude_threshold
    }


def analysis_length(wildcards):
    return EXPERIMENTS[wildcards.experiment].analysis_length


def analysis_settings(name):
    """The analysis section as the cross-model analyses read it; the census' own keys are left
    out, so that a census setting reruns the census only."""
    experiment = EXPERIMENTS[name]
    settings = experiment.analysis.model_dump(mode="json")
    return {k: v for k, v in settings.items() if not k.startswith("census")} | {
        "seq_length": experiment.analysis_length
    }


def analysis_settings_of(wildcards):
    return analysis_settings(wildcards.experiment)


def controls_settings(wildcards):
    evaluation = EXPERIMENTS[wildcards.experiment].evaluation
    return {"horizon": evaluation.test_horizon, "n_batches": evaluation.n_batches}


def fixed_point_checkpoints(wildcards):
    return fixed_point_models(EXPERIMENTS[wildcards.experiment], "checkpoint")


def fixed_point_names(wildcards):
    return fixed_point_models(EXPERIMENTS[wildcards.experiment], "name")


def census_settings(wildcards):
    """What the census job reads: its thresholds, horizons and sequences, the swept keys (its
    cells) and the analysis length."""
    experiment = EXPERIMENTS[wildcards.experiment]
    analysis = experiment.analysis
    return {
        "thresholds": {
            "chance_accuracy": analysis.census_chance_accuracy,
            "solved_accuracy": analysis.census_solved_accuracy,
            "max_spectral_error": analysis.census_max_spectral_error,
            "max_radius": analysis.census_max_radius,
        },
        "horizons": list(analysis.census_horizons),
        "n_sequences": analysis.census_sequences,
        "swept": list(experiment.swept),
        "seq_length": experiment.analysis_length,
    }


def census_names(wildcards):
    """The census' keys of the checkpoints, ``variant/model-{seed}`` by the seed of training."""
    experiment = EXPERIMENTS[wildcards.experiment]
    return [
        f"{v.name}/{layout.model_dirname(seed)}"
        for v in experiment.variants
        for seed in v.training_seeds
    ]


def experiment_results(name):
    """An experiment's tidy table and its arrays: what every analysis reads."""
    return {
        "table": layout.experiment_file(name, "table"),
        "arrays": layout.experiment_file(name, "arrays"),
    }


def embedding_methods(experiment):
    """The configured embeddings; t-SNE needs more models than a tiny experiment has."""
    return [
        m
        for m in experiment.analysis.embedding
        if m != "tsne" or experiment.n_models >= layout.TSNE_MIN_MODELS
    ]


def fixed_point_models(experiment, what):
    """A seeded subset of an experiment's models (config order kept) for the fixed-point analysis:
    their checkpoints, or their names."""
    import random

    models = [(v, seed) for v in experiment.variants for seed in v.seeds]
    k = min(experiment.analysis.fixed_points, len(models))
    chosen = sorted(random.Random(42).sample(range(len(models)), k))
    if what == "name":
        return [f"{models[i][0].name}/model-{models[i][1]}" for i in chosen]
    return [checkpoint_file(experiment, *models[i]) for i in chosen]


def input_phase_models(experiment):
    """Per task label, a seeded subset of the fixed-length trained tanh models (analysis.input_phase
    of them; circuits are left out: the job builds both kinds itself; linear RNNs too: the analysis
    runs tanh): ``[(task, variant, seed), ...]`` in config order."""
    import random

    by_task = {}
    for variant in experiment.variants:
        trained = (
            variant.config.model_type == "rnn" and variant.config.activation == "tanh"
        )
        if trained and isinstance(variant.config.seq_length, int):
            for seed in variant.seeds:
                by_task.setdefault(variant.task_label, []).append((variant, seed))
    chosen = []
    for task, models in by_task.items():
        k = min(experiment.analysis.input_phase, len(models))
        picks = sorted(
            random.Random(f"input-phase-{task}").sample(range(len(models)), k)
        )
        chosen += [(task, *models[i]) for i in picks]
    return chosen


def input_phase_tasks(experiment):
    if not experiment.analysis.input_phase:
        return []
    return sorted({task for task, _, _ in input_phase_models(experiment)})


#: Report captions (workflow/report/) of the analyses' figures, by file name pattern.
CAPTIONS = {
    "complex_plane_examples.png": "eigenvalue_examples.rst",
    "statistics_scatter_matrix.png": "eigenvalue_scatter.rst",
    "persistence_mds_embedding.png": "persistence_embedding.rst",
    "_embedding.png": "embedding.rst",
    "pca_variance.png": "pca_variance.rst",
    "example_persistence_diagrams.png": "persistence_diagrams.rst",
    "topological_features.png": "persistence_features.rst",
    "betti_curves.png": "betti_curves.rst",
    "comparison_complex_plane.png": "comparison_complex_plane.rst",
    "_distances.png": "distances.rst",
    "fixed_point_counts.png": "fixed_point_counts.rst",
    "fixed_points_example.png": "fixed_points.rst",
    "input_phase_linearisation.png": "input_phase_linearisation.rst",
    "input_phase_growth.png": "input_phase_growth.rst",
    "input_phase_": "input_phase.rst",
    "variable_length_conditions.png": "variable_length_conditions.rst",
    "variable_length_per_step.png": "variable_length_per_step.rst",
    "variable_length_roots.png": "variable_length_roots.rst",
    "controls.png": "controls.rst",
    "census.png": "census.rst",
    "comparison_spectra.png": "comparison_spectra.rst",
    "comparison_metrics.png": "comparison_metrics.rst",
}


def caption_of(name):
    for pattern, caption in CAPTIONS.items():
        if name == pattern or (pattern.startswith("_") and name.endswith(pattern)):
            return caption
        if pattern.endswith("_") and name.startswith(pattern) and name.endswith(".png"):
            return caption
    return None


def analysis_outputs(name, subdir, files):
    """An analysis's files, figures wrapped for the report."""
    base = f"{layout.experiment_file(name, 'analysis_dir')}/{subdir}"
    outputs = []
    for file in files:
        caption = caption_of(file)
        path = f"{base}/{file}"
        if caption and file.endswith(".png"):
            path = report_item(
                path,
                caption=f"../report/{caption}",
                category=name,
                subcategory=f"analysis: {subdir.split('/')[0]}",
                labels={"analysis": subdir, "figure": file},
            )
        outputs.append(path)
    return outputs


COMPARISON_OUTPUTS = [
    (key, caption_of(name)) for key, name in layout.COMPARISON_FILES.items()
]


def comparison_tables(wildcards):
    comparison = CONFIG.comparisons[wildcards.comparison]
    return [layout.experiment_file(name, "table") for name in comparison.experiments]


def comparison_arrays(wildcards):
    comparison = CONFIG.comparisons[wildcards.comparison]
    return [layout.experiment_file(name, "arrays") for name in comparison.experiments]


def comparison_spec(wildcards):
    comparison = CONFIG.comparisons[wildcards.comparison]
    return {
        "experiments": list(comparison.experiments),
        "by": comparison.by,
        "seq_length": comparison.seq_length,
    }


def planned_seeds(experiments):
    """[experiment, variant, n_seeds] of every variant: the runs table's seeds planned."""
    return [[e.name, v.name, len(v.seeds)] for e in experiments for v in e.variants]


def experiment_planned_seeds(wildcards):
    return planned_seeds([EXPERIMENTS[wildcards.experiment]])


PLANNED_SEEDS = planned_seeds(EXPERIMENTS.values())


# ---- targets -----------------------------------------------------------------------------------------
def all_targets():
    targets = []
    for name, experiment in EXPERIMENTS.items():
        for variant in experiment.variants:
            targets.append(layout.variant_file(name, variant.name, "config"))
            targets += model_files(experiment, variant, "metrics")
            if experiment.evaluation.figures:
                lengths = experiment.lengths(variant)
                targets += [
                    layout.model_file(name, variant.name, seed, figure.name)
                    for seed in variant.seeds
                    for figure in layout.model_figures(lengths)
                ]
        targets += layout.experiment_outputs(
            name,
            tasks=experiment.task_labels,
            analysis=experiment.analysis,
            n_models=experiment.n_models,
            input_phase_tasks=input_phase_tasks(experiment),
            variable_length=experiment.has_variable_length,
            controls=experiment.has_controls,
            reproduction=experiment.reproduces_paper,
        )
        targets += [
            layout.experiment_file(name, kind)
            for kind in ("runs_csv", "runs_markdown", "runs_figure")
        ]
    targets += [layout.runs_file(kind) for kind in ("csv", "markdown", "figure")]
    for name in CONFIG.comparisons:
        targets.append(layout.comparison_file(name, "statistics"))
    return targets


ALL_TARGETS = all_targets()


def refuse_report_without_results():
    """The report needs a finished run; say which one instead of Snakemake's `marked for report
    but does not exist` after many warnings."""
    missing = [t for t in ALL_TARGETS if not Path(t).exists()]
    if missing:
        argv, skip = [], False
        for arg in sys.argv[1:]:
            if skip:
                skip = False
            elif arg == "--report":
                skip = True
            elif not arg.startswith("--report"):
                argv.append(arg)
        raise WorkflowError(
            f"the report needs a finished run: {len(missing)} of {len(ALL_TARGETS)} results are "
            f"missing (e.g. {missing[0]}); run the workflow first with the same options, "
            f"`snakemake {' '.join(argv)}`, then build the report again"
        )


if workflow.is_main_process:
    if TAKES_LOCK:
        refuse_live_lock(ALL_TARGETS)
    if REPORT:
        refuse_report_without_results()
    orphans = orphans_line(
        find_orphans(CONFIG), [str(p) for p in workflow.overwrite_configfiles or []]
    )
    if orphans:
        print(orphans, file=sys.stderr)


# Profile settings for a kind of job (`set-resources: train:` ...) apply to every job of that kind.
# Training and evaluation rules are made per pack and per variant (their outputs are lists whose
# length the config decides, which a wildcard cannot express), persistence per experiment (its file
# names follow its metric), and the PCA embedding has a rule of its own, so their kinds' settings
# are copied to each of those rules (see profiles/slurm/). Set before the first rule is defined,
# when Snakemake reads them.
def share_profile_resources():
    overrides = workflow.resource_settings.overwrite_resources
    kinds = {
        "train": [f"train_{p['name']}" for p in PACKS],
        "evaluate": [
            rule_name("evaluate", e.name, v.name)
            for e in EXPERIMENTS.values()
            for v in e.variants
        ],
        "figures": [
            rule_name("figures", e.name, v.name)
            for e in EXPERIMENTS.values()
            for v in e.variants
        ],
        "analyze_persistence": [
            rule_name("analyze_persistence", e) for e in EXPERIMENTS
        ],
        "analyze_embedding": ["analyze_embedding_pca"],
    }
    for kind, names in kinds.items():
        if kind in overrides:
            for name in names:
                overrides.setdefault(name, overrides[kind])


share_profile_resources()


def disk_full_hint():
    """After a failed run: say so when the disk is (nearly) full, which a training job's own
    traceback (torch's "file write failed") does not."""
    for folder in (layout.RESULTS_ROOT, ".snakemake"):
        free = free_bytes(folder)
        if free is not None and free < MIN_FREE_TO_START:
            print(
                f"vbpipe: only {human_bytes(free)} free for {folder}: a job may have failed for "
                "want of space; free some space and rerun the same command (no partial result "
                "was kept)",
                file=sys.stderr,
            )
