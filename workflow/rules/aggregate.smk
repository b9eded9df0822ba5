# Per experiment: the tidy table (one row per model and evaluated length) and its arrays, the
# compatibility export evaluation_summary.json, the paper's Table 1 and its comparison with the
# paper's published values, the global figures and the paper's Figures 3-4 per task.


rule aggregate:
    input:
        metrics=experiment_metrics,
        arrays=experiment_arrays,
        checkpoints=experiment_checkpoints,
        sidecars=experiment_sidecars,
    output:
        table=layout.experiment_file("{experiment}", "table"),
        arrays=layout.experiment_file("{experiment}", "arrays"),
        summary=layout.experiment_file("{experiment}", "summary"),
        table1_csv=report(
            layout.experiment_file("{experiment}", "table1_csv"),
            caption="../report/table1.rst",
            category="{experiment}",
            subcategory="tables",
        ),
        table1_tex=layout.experiment_file("{experiment}", "table1_tex"),
    log:
        layout.experiment_file("{experiment}", "aggregate_log"),
    benchmark:
        layout.experiment_file("{experiment}", "aggregate_benchmark")
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        evaluation_config=evaluation_config,
        code=FINGERPRINT["aggregate"],
    script:
        "../scripts/aggregate.py"


rule reproduction:
    input:
        **experiment_results("{experiment}"),
    output:
        csv=layout.experiment_file("{experiment}", "table1_vs_paper_csv"),
        markdown=layout.experiment_file("{experiment}", "table1_vs_paper_md"),
        figure=report(
            layout.experiment_file("{experiment}", "table1_vs_paper_png"),
            caption="../report/table1_vs_paper.rst",
            category="{experiment}",
            subcategory="tables",
        ),
    log:
        layout.experiment_file("{experiment}", "reproduction_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        code=FINGERPRINT["reproduction"],
    script:
        "../scripts/reproduction.py"


rule global_figures:
    input:
        **experiment_results("{experiment}"),
    output:
        magnitude=report(
            layout.experiment_file("{experiment}", "global_magnitude"),
            caption="../report/global_magnitude.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
        angle=report(
            layout.experiment_file("{experiment}", "global_angle"),
            caption="../report/global_angle.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
        plane=report(
            layout.experiment_file("{experiment}", "global_plane"),
            caption="../report/global_complex_plane.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
        statistics=report(
            layout.experiment_file("{experiment}", "global_statistics"),
            caption="../report/global_statistics.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
    log:
        layout.experiment_file("{experiment}", "global_figures_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        settings=figure_settings,
        code=FINGERPRINT["global_figures"],
    script:
        "../scripts/global_figures.py"


rule paper_figures:
    input:
        metrics=task_metrics,
        arrays=task_arrays,
    output:
        figure3=report(
            layout.paper_file("{experiment}", "{task}", "figure3"),
            caption="../report/figure3.rst",
            category="{experiment}",
            subcategory="paper figures",
            labels={"task": "{task}", "figure": "Figure 3"},
        ),
        figure4=report(
            layout.paper_file("{experiment}", "{task}", "figure4"),
            caption="../report/figure4.rst",
            category="{experiment}",
            subcategory="paper figures",
            labels={"task": "{task}", "figure": "Figure 4"},
        ),
        choice=layout.paper_file("{experiment}", "{task}", "choice"),
    log:
        layout.experiment_file("{experiment}", "paper_figures-{task}_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        seq_length=analysis_length,
        code=FINGERPRINT["paper_figures"],
    script:
        "../scripts/paper_figures.py"


# The runs table (vbpipe.runs, as `vbpipe runs` prints it): one row per variant with its parameters,
# seeds done / planned, accuracy and spectral error (mean ± 95% interval over seeds), and its
# parallel-coordinates figure; per experiment and across the experiments of this run.
rule runs_table:
    input:
        tables=[layout.experiment_file("{experiment}", "table")],
    output:
        csv=report(
            layout.experiment_file("{experiment}", "runs_csv"),
            caption="../report/runs_table.rst",
            category="{experiment}",
            subcategory="tables",
        ),
        markdown=layout.experiment_file("{experiment}", "runs_markdown"),
        figure=report(
            layout.experiment_file("{experiment}", "runs_figure"),
            caption="../report/runs_parallel_coordinates.rst",
            category="{experiment}",
            subcategory="tables",
        ),
    log:
        layout.experiment_file("{experiment}", "runs_table_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        planned=experiment_planned_seeds,
        title="{experiment}",
        code=FINGERPRINT["runs_table"],
    script:
        "../scripts/runs_table.py"


rule runs_table_all:
    input:
        tables=[layout.experiment_file(name, "table") for name in EXPERIMENTS],
    output:
        csv=report(
            layout.runs_file("csv"),
            caption="../report/runs_table.rst",
            category="runs",
            subcategory="all experiments",
        ),
        markdown=layout.runs_file("markdown"),
        figure=report(
            layout.runs_file("figure"),
            caption="../report/runs_parallel_coordinates.rst",
            category="runs",
            subcategory="all experiments",
        ),
    log:
        layout.runs_file("runs_table_log"),
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        planned=PLANNED_SEEDS,
        title="all experiments",
        code=FINGERPRINT["runs_table"],
    script:
        "../scripts/runs_table.py"
