# Per experiment: evaluation_summary.json, Table 1, the global figures and the paper's Figures 3-4.


rule aggregate:
    input:
        metrics=experiment_metrics,
    output:
        summary="results/{experiment}/evaluation_summary.json",
        csv=report(
            "results/{experiment}/tables/table1.csv",
            caption="../report/table1.rst",
            category="{experiment}",
            subcategory="tables",
        ),
        tex="results/{experiment}/tables/table1.tex",
    log:
        "results/{experiment}/logs/aggregate.log",
    benchmark:
        "results/{experiment}/benchmarks/aggregate.tsv"
    conda:
        ENV
    params:
        evaluation_config=experiment_evaluation_config,
        code=FINGERPRINT["aggregate"],
    script:
        "../scripts/aggregate.py"


rule global_figures:
    input:
        summary="results/{experiment}/evaluation_summary.json",
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
    params:
        options=figure_options,
        code=FINGERPRINT["global_figures"],
    script:
        "../scripts/global_figures.py"


rule paper_figures:
    input:
        summary="results/{experiment}/evaluation_summary.json",
        arrays=experiment_arrays,
    output:
        report(
            "results/{experiment}/paper_figures/figure3_{task}.png",
            caption="../report/figure3.rst",
            category="{experiment}",
            subcategory="paper figures",
            labels={"task": "{task}", "figure": "Figure 3"},
        ),
        report(
            "results/{experiment}/paper_figures/figure4_{task}.png",
            caption="../report/figure4.rst",
            category="{experiment}",
            subcategory="paper figures",
            labels={"task": "{task}", "figure": "Figure 4"},
        ),
    log:
        "results/{experiment}/logs/paper_figures-{task}.log",
    conda:
        ENV
    params:
        code=FINGERPRINT["global_figures"],
    script:
        "../scripts/paper_figures.py"
