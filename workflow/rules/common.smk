# Every Python helper of the workflow lives here (no lambdas in rules). Config is resolved and validated
# once, at parse time, by vbpipe.sweep: a bad config stops the run before any job starts.
from vbpipe.sweep import selected_experiments
from vbpipe.workflow import code_fingerprint, comparison_plan, variant_config_json

EXPERIMENTS = selected_experiments(config)
COMPARISONS = comparison_plan(config, EXPERIMENTS)
ENV = "../../envs/vbpipe.yaml"
FINGERPRINT = {
    stage: code_fingerprint(stage)
    for stage in (
        "train",
        "evaluate",
        "model_figures",
        "aggregate",
        "global_figures",
        "analysis",
    )
}


wildcard_constraints:
    experiment=r"[A-Za-z0-9_]+",
    variant=r"[A-Za-z0-9_.\-]+",
    seed=r"\d+",
    block=r"s[0-9_\-]+",
    method=r"pca|tsne|mds|isomap",
    comparison=r"[A-Za-z0-9_]+",


def variant_of(wildcards):
    return EXPERIMENTS[wildcards.experiment].variant(wildcards.variant)


def model_paths(experiment, pattern):
    """One path per model of an experiment, from a pattern with {variant} and {seed}."""
    return [
        pattern.format(experiment=experiment, variant=v.name, seed=seed)
        for v in EXPERIMENTS[experiment].variants
        for seed in v.seeds
    ]


# ---- training ----------------------------------------------------------------------------------------
def train_spec(wildcards):
    variant = variant_of(wildcards)
    seeds = dict(variant.blocks)[wildcards.block]
    return {"config": variant.params, "seeds": list(seeds)}


def train_execution(wildcards):
    return dict(EXPERIMENTS[wildcards.experiment].execution)


def block_dir_of_seed(wildcards):
    variant = variant_of(wildcards)
    block = variant.block_of(int(wildcards.seed))
    return f"results/{wildcards.experiment}/{wildcards.variant}/blocks/{block}"


def variant_config(wildcards):
    experiment = EXPERIMENTS[wildcards.experiment]
    return variant_config_json(experiment, variant_of(wildcards))


# ---- evaluation ----------------------------------------------------------------------------------------
FIGURE_ONLY = ("magnitude_threshold", "figures")


def evaluation_options(wildcards):
    """What the evaluation computes with; figure-only settings stay out so changing them reruns
    only figures."""
    options = EXPERIMENTS[wildcards.experiment].evaluation
    return {k: v for k, v in options.items() if k not in FIGURE_ONLY}


def figure_options(wildcards):
    options = EXPERIMENTS[wildcards.experiment].evaluation
    return {k: options[k] for k in FIGURE_ONLY}


def experiment_metrics(wildcards):
    return model_paths(
        wildcards.experiment,
        "results/{experiment}/{variant}/model-{seed}/results/metrics.json",
    )


def experiment_arrays(wildcards):
    return model_paths(
        wildcards.experiment,
        "results/{experiment}/{variant}/model-{seed}/results/arrays.npz",
    )


def experiment_evaluation_config(wildcards):
    return {
        "experiment": wildcards.experiment,
        "evaluation": evaluation_options(wildcards),
    }


def task_labels(experiment):
    from vbpipe.tasks import task_label

    return sorted(
        {
            task_label(v.config.task_id, v.config.input_dim)
            for v in EXPERIMENTS[experiment].variants
        }
    )


def paper_figures_of(experiment):
    return [
        f"results/{experiment}/paper_figures/figure{n}_{label}.png"
        for label in task_labels(experiment)
        for n in (3, 4)
    ]


def paper_figure_outputs(wildcards):
    return paper_figures_of(wildcards.experiment)


# ---- analysis ------------------------------------------------------------------------------------------
def analysis_options(wildcards):
    from vbpipe.workflow import analysis_options as options

    return options(EXPERIMENTS[wildcards.experiment])


def comparison_inputs(wildcards):
    return [
        f"results/{name}/evaluation_summary.json"
        for name in COMPARISONS[wildcards.comparison]["experiments"]
    ]


def comparison_spec(wildcards):
    return COMPARISONS[wildcards.comparison]


# ---- targets -------------------------------------------------------------------------------------------
MODEL_FIGURES = ("test_sample.png", "accuracy_per_step.png", "eigenspectrum_full.png")
GLOBAL_FIGURES = (
    "global_magnitude_distribution.png",
    "global_angle_distribution.png",
    "global_complex_plane.png",
    "global_statistics_summary.png",
)


def all_targets():
    from vbpipe.workflow import analysis_options as options

    targets = []
    for name, experiment in EXPERIMENTS.items():
        targets += [f"results/{name}/{v.name}/config.json" for v in experiment.variants]
        targets += [
            f"results/{name}/evaluation_summary.json",
            f"results/{name}/tables/table1.csv",
            f"results/{name}/tables/table1.tex",
        ]
        targets += [f"results/{name}/global_analysis/{f}" for f in GLOBAL_FIGURES]
        targets += paper_figures_of(name)
        if experiment.evaluation.get("figures"):
            for figure in MODEL_FIGURES:
                pattern = f"results/{{experiment}}/{{variant}}/model-{{seed}}/results/{figure}"
                targets += model_paths(name, pattern)
        opts = options(experiment)
        if opts["eigenvalue"]:
            targets.append(
                f"results/{name}/analysis/eigenvalue/eigenvalue_statistics.json"
            )
        for method in opts["embedding"]:
            targets.append(
                f"results/{name}/analysis/embedding/{method}/{method}_embedding.png"
            )
        if opts["persistence"]:
            targets.append(
                f"results/{name}/analysis/persistence/persistence_statistics.json"
            )
    for name in COMPARISONS:
        targets.append(f"results/comparison/{name}/comparison_statistics.json")
    return targets
