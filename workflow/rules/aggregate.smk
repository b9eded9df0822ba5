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
        table="results/{experiment}/evaluation_table.csv",
        arrays="results/{experiment}/evaluation_arrays.npz",
        summary="results/{experiment}/evaluation_summary.json",
        table1_csv=report(
            "results/{experiment}/tables/table1.csv",
            caption="../report/table1.rst",
            category="{experiment}",
            subcategory="tables",
        ),
        table1_tex="results/{experiment}/tables/table1.tex",
    log:
        "results/{experiment}/logs/aggregate.log",
    benchmark:
        "results/{experiment}/benchmarks/aggregate.tsv"
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
        table="results/{experiment}/evaluation_table.csv",
        arrays="results/{experiment}/evaluation_arrays.npz",
    output:
        csv="results/{experiment}/tables/table1_vs_paper.csv",
        markdown="results/{experiment}/tables/table1_vs_paper.md",
        figure=report(
            "results/{experiment}/paper_figures/table1_vs_paper.png",
            caption="../report/table1_vs_paper.rst",
            category="{experiment}",
            subcategory="tables",
        ),
    log:
        "results/{experiment}/logs/reproduction.log",
    conda:
        ENV
    threads: EXECUTION.threads
    params:
        code=FINGERPRINT["reproduction"],
    script:
        "../scripts/reproduction.py"


rule global_figures:
    input:
        table="results/{experiment}/evaluation_table.csv",
        arrays="results/{experiment}/evaluation_arrays.npz",
    output:
        magnitude=report(
            "results/{experiment}/global_analysis/global_magnitude_distribution.png",
            caption="../report/global_magnitude.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
        angle=report(
            "results/{experiment}/global_analysis/global_angle_distribution.png",
            caption="../report/global_angle.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
        plane=report(
            "results/{experiment}/global_analysis/global_complex_plane.png",
            caption="../report/global_complex_plane.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
        statistics=report(
            "results/{experiment}/global_analysis/global_statistics_summary.png",
            caption="../report/global_statistics.rst",
            category="{experiment}",
            subcategory="global analysis",
        ),
    log:
        "results/{experiment}/logs/global_figures.log",
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
            "results/{experiment}/paper_figures/figure3_{task}.png",
            caption="../report/figure3.rst",
            category="{experiment}",
            subcategory="paper figures",
            labels={"task": "{task}", "figure": "Figure 3"},
        ),
        figure4=report(
            "results/{experiment}/paper_figures/figure4_{task}.png",
            caption="../report/figure4.rst",
            category="{experiment}",
            subcategory="paper figures",
            labels={"task": "{task}", "figure": "Figure 4"},
        ),
        choice="results/{experiment}/paper_figures/paper_figures_{task}.json",
    log:
        "results/{experiment}/logs/paper_figures-{task}.log",
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
