# Evaluation: one job per model (accuracy, spectra, EMT basis), per-model figures as separate jobs.


rule evaluate_model:
    input:
        "results/{experiment}/{variant}/model-{seed}/checkpoint/model.pt",
    output:
        metrics="results/{experiment}/{variant}/model-{seed}/results/metrics.json",
        arrays="results/{experiment}/{variant}/model-{seed}/results/arrays.npz",
    log:
        "results/{experiment}/{variant}/logs/evaluate-{seed}.log",
    benchmark:
        "results/{experiment}/{variant}/benchmarks/evaluate-{seed}.tsv"
    conda:
        ENV
    params:
        options=evaluation_options,
        code=FINGERPRINT["evaluate"],
    script:
        "../scripts/evaluate_model.py"


rule model_figures:
    input:
        metrics="results/{experiment}/{variant}/model-{seed}/results/metrics.json",
        arrays="results/{experiment}/{variant}/model-{seed}/results/arrays.npz",
    output:
        report(
            "results/{experiment}/{variant}/model-{seed}/results/test_sample.png",
            caption="../report/test_sample.rst",
            category="{experiment}",
            subcategory="per-model: {variant}",
            labels={"model": "{seed}", "figure": "test sample"},
        ),
        report(
            "results/{experiment}/{variant}/model-{seed}/results/accuracy_per_step.png",
            caption="../report/accuracy_per_step.rst",
            category="{experiment}",
            subcategory="per-model: {variant}",
            labels={"model": "{seed}", "figure": "accuracy per step"},
        ),
        report(
            "results/{experiment}/{variant}/model-{seed}/results/eigenspectrum_full.png",
            caption="../report/eigenspectrum_full.rst",
            category="{experiment}",
            subcategory="per-model: {variant}",
            labels={"model": "{seed}", "figure": "spectrum"},
        ),
    log:
        "results/{experiment}/{variant}/logs/figures-{seed}.log",
    conda:
        ENV
    params:
        code=FINGERPRINT["model_figures"],
    script:
        "../scripts/model_figures.py"
