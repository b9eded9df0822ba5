"""Snakemake shim: per-model eigenvalue statistics of one experiment (vbpipe.jobs.eigenvalue)."""

from pathlib import Path

from vbpipe.jobs.eigenvalue import analyze_eigenvalue
from vbpipe.jobs.joblog import job_log

settings = snakemake.params.settings
with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_eigenvalue(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        spectrum=settings["eigenvalues"],
    )
