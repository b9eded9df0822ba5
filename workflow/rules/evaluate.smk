# Evaluation: one job per variant evaluates all its models in one process (accuracy, spectra, EMT
# basis); each model's metrics.json and arrays.npz stay their own DAG nodes. The same job writes the
# variant's config.json (the original project's schema), so that bookkeeping costs no process of its
# own. Per-model figures are one job per variant too, and only when the experiment asks for them.

for experiment in EXPERIMENTS.values():
    for variant in experiment.variants:

        rule:
            name:
                rule_name("evaluate", experiment.name, variant.name)
            input:
                checkpoints=model_files(experiment, variant, "checkpoint"),
                sidecars=model_files(experiment, variant, "sidecar"),
            output:
                metrics=model_files(experiment, variant, "metrics"),
                arrays=model_files(experiment, variant, "arrays"),
                config=layout.variant_file(experiment.name, variant.name, "config"),
            log:
                layout.variant_file(experiment.name, variant.name, "evaluate_log"),
            benchmark:
                layout.variant_file(experiment.name, variant.name, "evaluate_benchmark")
            conda:
                ENV
            threads: EXECUTION.threads
            params:
                identities=identities(experiment, variant),
                settings=experiment.evaluation.computed(),
                variant_config=variant_config(experiment, variant),
                code=stage_code("evaluate_block", experiment),
            script:
                "../scripts/evaluate_block.py"

        if experiment.evaluation.figures:

            rule:
                name:
                    rule_name("figures", experiment.name, variant.name)
                input:
                    metrics=model_files(experiment, variant, "metrics"),
                    arrays=model_files(experiment, variant, "arrays"),
                output:
                    model_figure_outputs(experiment, variant),
                log:
                    layout.variant_file(experiment.name, variant.name, "figures_log"),
                conda:
                    ENV
                threads: EXECUTION.threads
                params:
                    code=FINGERPRINT["model_figures"],
                script:
                    "../scripts/model_figures.py"
