"""Snakemake shim: persistent homology of every model's eigenvalue cloud (vbpipe.jobs.persistence)."""

from pathlib import Path

from vbpipe.jobs.joblog import job_log
from vbpipe.jobs.persistence import analyze_persistence

settings = snakemake.params.settings
with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_persistence(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        metric=settings["persistence_metric"],
        spectrum=settings["eigenvalues"],
        max_models=settings["persistence_max_models"],
        n_jobs=snakemake.threads,
    )
