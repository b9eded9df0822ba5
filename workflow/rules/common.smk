# Every Python helper of the workflow lives here (no lambdas in rules). The config is read, checked and
# expanded once, at parse time, by vbpipe.config: a bad config stops the run before any job, naming the
# file, the line, the key and the value. Nothing imported here imports torch.
import json
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError

from vbpipe import results as layout
from vbpipe.config import ConfigError
from vbpipe.config.experiments import load_workflow_config
from vbpipe.fingerprint import code_fingerprint
from vbpipe.plan import plan_training

ENV = "../../envs/vbpipe.yaml"
SCRIPTS_DIR = Path(workflow.current_basedir).parent / "scripts"
PACKS_DIR = Path(".snakemake") / "vbpipe" / "packs"

try:
    CONFIG = load_workflow_config(
        workflow.overwrite_configfiles or ["config/config.yaml"],
        dict(workflow.config_settings.config),
    )
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None
EXPERIMENTS = CONFIG.experiments
EXECUTION = CONFIG.execution

# Each stage's fingerprint: the package code its script imports (vbpipe.fingerprint).
FINGERPRINT = {path.stem: code_fingerprint(path) for path in sorted(SCRIPTS_DIR.glob("*.py"))}


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
def pack_records():
    if workflow.is_main_process:
        plan = plan_training(CONFIG, FINGERPRINT["train_pack"])
        records = [
            {"name": p.name, "members": p.spec(), "states": list(p.states)}
            for p in plan.packs
        ]
        PACKS_DIR.mkdir(parents=True, exist_ok=True)
        for record in records:
            path = PACKS_DIR / f"{record['name']}.json"
            if not path.exists():
                path.write_text(json.dumps(record))
        return records
    wanted = [t[0] for t in workflow.dag_settings.target_jobs]
    return [
        json.loads((PACKS_DIR / f"{name[len('train_'):]}.json").read_text())
        for name in wanted
        if name.startswith("train_") and (PACKS_DIR / f"{name[len('train_'):]}.json").exists()
    ]


PACKS = pack_records()


def variant_config(wildcards):
    experiment = EXPERIMENTS[wildcards.experiment]
    variant = experiment.variant(wildcards.variant)
    return layout.variant_config_content(experiment, variant, EXECUTION)


# ---- evaluation --------------------------------------------------------------------------------------
def model_files(experiment, variant, name):
    """One file per model of a variant, e.g. name="metrics" -> [.../model-1/results/metrics.json, ...]."""
    return [
        layout.model_file(experiment.name, variant.name, seed, name) for seed in variant.seeds
    ]


def identities(experiment, variant):
    return [
        {
            "experiment": experiment.name,
            "variant": variant.name,
            "seed": seed,
            "model_name": f"model-{seed}",
        }
        for seed in variant.seeds
    ]


def model_figure_outputs(experiment, variant):
    """Every per-model figure of a variant, as report items."""
    lengths = experiment.lengths(variant)
    outputs = []
    for seed in variant.seeds:
        for figure in layout.model_figures(lengths):
            outputs.append(
                report(
                    layout.model_file(experiment.name, variant.name, seed, figure.name),
                    caption=f"../report/{figure.caption}",
                    category=experiment.name,
                    subcategory=f"per-model: {variant.name}",
                    labels={"model": f"model-{seed}", "figure": figure.label},
                )
            )
    return outputs


# ---- aggregation and analysis ------------------------------------------------------------------------
def experiment_models(wildcards, name):
    experiment = EXPERIMENTS[wildcards.experiment]
    return [f for v in experiment.variants for f in model_files(experiment, v, name)]


def experiment_metrics(wildcards):
    return experiment_models(wildcards, "metrics")


def experiment_arrays(wildcards):
    return experiment_models(wildcards, "arrays")


def experiment_sidecars(wildcards):
    return experiment_models(wildcards, "sidecar")


def evaluation_settings(wildcards):
    return EXPERIMENTS[wildcards.experiment].evaluation.computed()


def figure_settings(wildcards):
    evaluation = EXPERIMENTS[wildcards.experiment].evaluation
    return {"magnitude_threshold": evaluation.magnitude_threshold}


def analysis_settings(wildcards):
    experiment = EXPERIMENTS[wildcards.experiment]
    return {**experiment.analysis.model_dump(), "seq_length": experiment.analysis_length}


def comparison_inputs(wildcards):
    comparison = CONFIG.comparisons[wildcards.comparison]
    return [layout.experiment_file(name, "summary") for name in comparison.experiments]


def comparison_spec(wildcards):
    comparison = CONFIG.comparisons[wildcards.comparison]
    return {
        "experiments": list(comparison.experiments),
        "by": comparison.by,
        "seq_length": comparison.seq_length,
    }


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
        )
    for name in CONFIG.comparisons:
        targets.append(layout.comparison_file(name, "statistics"))
    return targets


ALL_TARGETS = all_targets()
