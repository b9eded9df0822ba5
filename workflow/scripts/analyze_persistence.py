"""Snakemake shim: persistent homology of every model's eigenvalue cloud (vbpipe.jobs.persistence)."""

from pathlib import Path

from vbpipe.jobs.logs import log_to
from vbpipe.jobs.persistence import analyze_persistence

settings = snakemake.params.settings
with log_to(snakemake.log[0]):
    analyze_persistence(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        metric=settings["persistence_metric"],
        spectrum=settings["eigenvalues"],
        max_models=settings["persistence_max_models"],
        n_jobs=snakemake.threads,
    )
