# Cross-model analyses per experiment (eigenvalue statistics, embeddings, persistent homology) and
# comparisons across experiments or across the variants of one experiment.


rule analyze_eigenvalue:
    input:
        "results/{experiment}/evaluation_summary.json",
    output:
        statistics="results/{experiment}/analysis/eigenvalue/eigenvalue_statistics.json",
        examples=report(
            "results/{experiment}/analysis/eigenvalue/complex_plane_examples.png",
            caption="../report/eigenvalue_examples.rst",
            category="{experiment}",
            subcategory="analysis: eigenvalues",
        ),
        scatter=report(
            "results/{experiment}/analysis/eigenvalue/statistics_scatter_matrix.png",
            caption="../report/eigenvalue_scatter.rst",
            category="{experiment}",
            subcategory="analysis: eigenvalues",
        ),
    log:
        "results/{experiment}/logs/analyze_eigenvalue.log",
    benchmark:
        "results/{experiment}/benchmarks/analyze_eigenvalue.tsv"
    conda:
        ENV
    params:
        options=analysis_options,
        code=FINGERPRINT["analysis"],
    script:
        "../scripts/analyze_eigenvalue.py"


rule analyze_embedding:
    input:
        "results/{experiment}/evaluation_summary.json",
    output:
        embedding="results/{experiment}/analysis/embedding/{method}/{method}_embedding.npy",
        figure=report(
            "results/{experiment}/analysis/embedding/{method}/{method}_embedding.png",
            caption="../report/embedding.rst",
            category="{experiment}",
            subcategory="analysis: embeddings",
            labels={"method": "{method}"},
        ),
        distances="results/{experiment}/analysis/embedding/{method}/distance_statistics.json",
    log:
        "results/{experiment}/logs/analyze_embedding-{method}.log",
    benchmark:
        "results/{experiment}/benchmarks/analyze_embedding-{method}.tsv"
    conda:
        ENV
    params:
        options=analysis_options,
        code=FINGERPRINT["analysis"],
    script:
        "../scripts/analyze_embedding.py"


rule analyze_persistence:
    input:
        "results/{experiment}/evaluation_summary.json",
    output:
        statistics="results/{experiment}/analysis/persistence/persistence_statistics.json",
        diagrams=report(
            "results/{experiment}/analysis/persistence/example_persistence_diagrams.png",
            caption="../report/persistence_diagrams.rst",
            category="{experiment}",
            subcategory="analysis: persistence",
        ),
        features=report(
            "results/{experiment}/analysis/persistence/topological_features.png",
            caption="../report/persistence_features.rst",
            category="{experiment}",
            subcategory="analysis: persistence",
        ),
    log:
        "results/{experiment}/logs/analyze_persistence.log",
    benchmark:
        "results/{experiment}/benchmarks/analyze_persistence.tsv"
    conda:
        ENV
    params:
        options=analysis_options,
        code=FINGERPRINT["analysis"],
    script:
        "../scripts/analyze_persistence.py"


rule compare:
    input:
        comparison_inputs,
    output:
        statistics="results/comparison/{comparison}/comparison_statistics.json",
        spectra=report(
            "results/comparison/{comparison}/comparison_spectra.png",
            caption="../report/comparison_spectra.rst",
            category="comparisons",
            subcategory="{comparison}",
        ),
        metrics=report(
            "results/comparison/{comparison}/comparison_metrics.png",
            caption="../report/comparison_metrics.rst",
            category="comparisons",
            subcategory="{comparison}",
        ),
    log:
        "results/comparison/logs/{comparison}.log",
    conda:
        ENV
    params:
        spec=comparison_spec,
        code=FINGERPRINT["analysis"],
    script:
        "../scripts/compare.py"
