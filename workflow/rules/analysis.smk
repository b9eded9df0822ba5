# Cross-model analyses per experiment, read from its tidy table and arrays (eigenvalue statistics,
# embeddings, persistent homology, diagnostics, fixed points, controls, variable length, the
# mechanism census), and
# comparisons across experiments or across the values of a swept key of one experiment. Every output
# comes from vbpipe.results.layout, the same functions `rule all` asks through. Analyses whose file
# names are fixed (or vary only with the embedding method, a wildcard) are wildcard rules; the three
# whose file names depend on settings (the persistence metric, the distance metrics, the input-phase
# tasks) are made per experiment, below.


rule analyze_eigenvalue:
    input:
        **experiment_results("{experiment}"),
    output:
        analysis_outputs("{experiment}", "eigenvalue", layout.EIGENVALUE_OUTPUTS),
    log:
        layout.experiment_file("{experiment}", "analyze_eigenvalue_log"),
    benchmark:
        layout.experiment_file("{experiment}", "analyze_eigenvalue_benchmark")
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        settings=analysis_settings_of,
        code=FINGERPRINT["analyze_eigenvalue"],
    script:
        "../scripts/analyze_eigenvalue.py"


# PCA writes one figure more (its explained variance), so it has a rule of its own.
rule analyze_embedding:
    input:
        **experiment_results("{experiment}"),
    output:
        analysis_outputs(
            "{experiment}", "embedding/{method}", layout.embedding_outputs("{method}")
        ),
    log:
        layout.experiment_file("{experiment}", "analyze_embedding-{method}_log"),
    benchmark:
        layout.experiment_file("{experiment}", "analyze_embedding-{method}_benchmark")
    wildcard_constraints:
        method=r"tsne|mds|isomap",
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        settings=analysis_settings_of,
        method="{method}",
        code=FINGERPRINT["analyze_embedding"],
    script:
        "../scripts/analyze_embedding.py"


use rule analyze_embedding as analyze_embedding_pca with:
    output:
        analysis_outputs(
            "{experiment}", "embedding/pca", layout.embedding_outputs("pca")
        ),
    log:
        layout.experiment_file("{experiment}", "analyze_embedding-pca_log"),
    benchmark:
        layout.experiment_file("{experiment}", "analyze_embedding-pca_benchmark")
    params:
        settings=analysis_settings_of,
        method="pca",
        code=FINGERPRINT["analyze_embedding"],


rule analyze_diagnostics:
    input:
        **experiment_results("{experiment}"),
    output:
        analysis_outputs("{experiment}", "diagnostics", layout.DIAGNOSTICS_OUTPUTS),
    log:
        layout.experiment_file("{experiment}", "analyze_diagnostics_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        settings=analysis_settings_of,
        code=FINGERPRINT["analyze_diagnostics"],
    script:
        "../scripts/analyze_diagnostics.py"


rule analyze_fixed_points:
    input:
        checkpoints=fixed_point_checkpoints,
    output:
        analysis_outputs("{experiment}", "fixed_points", layout.FIXED_POINT_OUTPUTS),
    log:
        layout.experiment_file("{experiment}", "analyze_fixed_points_log"),
    benchmark:
        layout.experiment_file("{experiment}", "analyze_fixed_points_benchmark")
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        names=fixed_point_names,
        code=checkpoint_stage_code("analyze_fixed_points"),
    script:
        "../scripts/analyze_fixed_points.py"


rule analyze_controls:
    input:
        checkpoints=experiment_checkpoints,
    output:
        analysis_outputs("{experiment}", "controls", layout.CONTROLS_OUTPUTS),
    log:
        layout.experiment_file("{experiment}", "analyze_controls_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        settings=controls_settings,
        code=checkpoint_stage_code("analyze_controls"),
    script:
        "../scripts/analyze_controls.py"


rule analyze_variable_length:
    input:
        **experiment_results("{experiment}"),
    output:
        analysis_outputs(
            "{experiment}", "variable_length", layout.VARIABLE_LENGTH_OUTPUTS
        ),
    log:
        layout.experiment_file("{experiment}", "analyze_variable_length_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        code=FINGERPRINT["analyze_variable_length"],
    script:
        "../scripts/analyze_variable_length.py"


rule analyze_census:
    input:
        **experiment_results("{experiment}"),
        checkpoints=experiment_checkpoints,
    output:
        analysis_outputs("{experiment}", "census", layout.CENSUS_OUTPUTS),
    log:
        layout.experiment_file("{experiment}", "analyze_census_log"),
    benchmark:
        layout.experiment_file("{experiment}", "analyze_census_benchmark")
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        names=census_names,
        settings=census_settings,
        code=checkpoint_stage_code("analyze_census"),
    script:
        "../scripts/analyze_census.py"


rule compare:
    input:
        tables=comparison_tables,
        arrays=comparison_arrays,
    output:
        [
            (
                report(
                    layout.comparison_file("{comparison}", key),
                    caption=f"../report/{caption}",
                    category="comparisons",
                    subcategory="{comparison}",
                )
                if caption
                else layout.comparison_file("{comparison}", key)
            )
            for key, caption in COMPARISON_OUTPUTS
        ],
    log:
        layout.comparison_log("{comparison}"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        spec=comparison_spec,
        code=FINGERPRINT["compare"],
    script:
        "../scripts/compare.py"


# Per experiment: persistent homology (its files are named after the configured metric), the
# distances between models (one file pair per configured metric) and the input phase of a seeded
# subset of trained models (one figure per task label).
for experiment in EXPERIMENTS.values():
    analysis = experiment.analysis
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

    if input_phase_tasks(experiment):

        rule:
            name:
                rule_name("analyze_input_phase", experiment.name)
            input:
                checkpoints=[
                    checkpoint_file(experiment, v, seed)
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
                code=stage_code("analyze_input_phase", experiment),
            script:
                "../scripts/analyze_input_phase.py"
