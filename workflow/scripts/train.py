"""Snakemake shim: train one block of seeds (see vbpipe.workflow.run_train_job)."""

from vbpipe.workflow import log_to, run_train_job

with log_to(snakemake.log[0]):
    run_train_job(
        snakemake.params.spec,
        snakemake.params.execution,
        snakemake.params.models_dir,
        snakemake.output[0],
        snakemake.threads,
    )
