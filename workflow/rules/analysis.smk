# Cross-model analyses per experiment, read from its tidy table and arrays (eigenvalue statistics,
# embeddings, persistent homology), and comparisons across experiments or across the values of a swept
# key of one experiment. One rule per experiment and analysis, so that every file an analysis writes
# (which depends on its settings: method, metric) is declared.

for experiment in EXPERIMENTS.values():
    analysis = experiment.analysis
    base = layout.experiment_file(experiment.name, "analysis_dir")
    if analysis.eigenvalue:

        rule:
            name:
                rule_name("analyze_eigenvalue", experiment.name)
            input:
                **experiment_results(experiment.name),
            output:
                analysis_outputs(
                    experiment.name, "eigenvalue", layout.EIGENVALUE_OUTPUTS
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_eigenvalue_log"),
            benchmark:
                layout.experiment_file(experiment.name, "analyze_eigenvalue_benchmark")
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                settings=analysis_settings(experiment.name),
                code=FINGERPRINT["analyze_eigenvalue"],
            script:
                "../scripts/analyze_eigenvalue.py"

    for method in embedding_methods(experiment):

        rule:
            name:
                rule_name("analyze_embedding", experiment.name, method)
            input:
                **experiment_results(experiment.name),
            output:
                analysis_outputs(
                    experiment.name,
                    f"embedding/{method}",
                    layout.embedding_outputs(method),
                ),
            log:
                layout.experiment_file(
                    experiment.name, f"analyze_embedding-{method}_log"
                ),
            benchmark:
                layout.experiment_file(
                    experiment.name, f"analyze_embedding-{method}_benchmark"
                )
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                settings=analysis_settings(experiment.name),
                method=method,
                code=FINGERPRINT["analyze_embedding"],
            script:
                "../scripts/analyze_embedding.py"

    if analysis.persistence:

        rule:
            name:
                rule_name("analyze_persistence", experiment.name)
            input:
                **experiment_results(experiment.name),
            output:
                analysis_outputs(
                    experiment.name,
                    "persistence",
                    layout.persistence_outputs(analysis.persistence_metric, "mds"),
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_persistence_log"),
            benchmark:
                layout.experiment_file(experiment.name, "analyze_persistence_benchmark")
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                settings=analysis_settings(experiment.name),
                code=FINGERPRINT["analyze_persistence"],
            script:
                "../scripts/analyze_persistence.py"


rule compare:
    input:
        tables=comparison_tables,
        arrays=comparison_arrays,
    output:
        [
            (
                report(
                    f"results/comparison/{{comparison}}/{name}",
                    caption=f"../report/{caption}",
                    category="comparisons",
                    subcategory="{comparison}",
                )
                if caption
                else f"results/comparison/{{comparison}}/{name}"
            )
            for name, caption in COMPARISON_OUTPUTS
        ],
    log:
        "results/comparison/logs/{comparison}.log",
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        spec=comparison_spec,
        code=FINGERPRINT["compare"],
    script:
        "../scripts/compare.py"


# The original analyze.py's remaining analyses: distances between models, the diagnostics report, and
# the fixed and slow points of a seeded subset of models (vbpipe.jobs.distances, .diagnostics, .fixed_points).
for experiment in EXPERIMENTS.values():
    analysis = experiment.analysis
    if analysis.distances:

        rule:
            name:
                rule_name("analyze_distances", experiment.name)
            input:
                **experiment_results(experiment.name),
            output:
                analysis_outputs(
                    experiment.name,
                    "distances",
                    layout.distance_outputs(analysis.distances),
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_distances_log"),
            benchmark:
                layout.experiment_file(experiment.name, "analyze_distances_benchmark")
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                settings=analysis_settings(experiment.name),
                code=FINGERPRINT["analyze_distances"],
            script:
                "../scripts/analyze_distances.py"

    if analysis.diagnostics:

        rule:
            name:
                rule_name("analyze_diagnostics", experiment.name)
            input:
                **experiment_results(experiment.name),
            output:
                analysis_outputs(
                    experiment.name, "diagnostics", layout.DIAGNOSTICS_OUTPUTS
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_diagnostics_log"),
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                settings=analysis_settings(experiment.name),
                code=FINGERPRINT["analyze_diagnostics"],
            script:
                "../scripts/analyze_diagnostics.py"

    if analysis.fixed_points:

        rule:
            name:
                rule_name("analyze_fixed_points", experiment.name)
            input:
                checkpoints=fixed_point_models(experiment, "checkpoint"),
            output:
                analysis_outputs(
                    experiment.name, "fixed_points", layout.FIXED_POINT_OUTPUTS
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_fixed_points_log"),
            benchmark:
                layout.experiment_file(
                    experiment.name, "analyze_fixed_points_benchmark"
                )
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                names=fixed_point_models(experiment, "name"),
                code=FINGERPRINT["analyze_fixed_points"],
            script:
                "../scripts/analyze_fixed_points.py"

    if input_phase_tasks(experiment):

        rule:
            name:
                rule_name("analyze_input_phase", experiment.name)
            input:
                checkpoints=[
                    layout.model_file(experiment.name, v.name, seed, "checkpoint")
                    for _, v, seed in input_phase_models(experiment)
                ],
            output:
                analysis_outputs(
                    experiment.name,
                    "input_phase",
                    layout.input_phase_outputs(input_phase_tasks(experiment)),
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_input_phase_log"),
            benchmark:
                layout.experiment_file(experiment.name, "analyze_input_phase_benchmark")
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                names=[
                    f"{v.name}/model-{seed}"
                    for _, v, seed in input_phase_models(experiment)
                ],
                tasks=input_phase_tasks(experiment),
                code=FINGERPRINT["analyze_input_phase"],
            script:
                "../scripts/analyze_input_phase.py"

    if experiment.has_controls:

        rule:
            name:
                rule_name("analyze_controls", experiment.name)
            input:
                checkpoints=[
                    layout.model_file(experiment.name, v.name, seed, "checkpoint")
                    for v in experiment.variants
                    for seed in v.seeds
                ],
            output:
                analysis_outputs(experiment.name, "controls", layout.CONTROLS_OUTPUTS),
            log:
                layout.experiment_file(experiment.name, "analyze_controls_log"),
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                horizon=experiment.evaluation.test_horizon,
                n_batches=experiment.evaluation.n_batches,
                code=FINGERPRINT["analyze_controls"],
            script:
                "../scripts/analyze_controls.py"

    if experiment.has_variable_length:

        rule:
            name:
                rule_name("analyze_variable_length", experiment.name)
            input:
                **experiment_results(experiment.name),
            output:
                analysis_outputs(
                    experiment.name, "variable_length", layout.VARIABLE_LENGTH_OUTPUTS
                ),
            log:
                layout.experiment_file(experiment.name, "analyze_variable_length_log"),
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                code=FINGERPRINT["analyze_variable_length"],
            script:
                "../scripts/analyze_variable_length.py"

    if analysis.census:

        rule:
            name:
                rule_name("analyze_census", experiment.name)
            input:
                **experiment_results(experiment.name),
                checkpoints=experiment_models(experiment, "checkpoint"),
            output:
                analysis_outputs(experiment.name, "census", layout.CENSUS_OUTPUTS),
            log:
                layout.experiment_file(experiment.name, "analyze_census_log"),
            benchmark:
                layout.experiment_file(experiment.name, "analyze_census_benchmark")
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                names=[
                    f"{v.name}/model-{seed}"
                    for v in experiment.variants
                    for seed in v.seeds
                ],
                settings=census_settings(experiment),
                code=FINGERPRINT["analyze_census"],
            script:
                "../scripts/analyze_census.py"
