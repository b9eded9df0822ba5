"""Snakemake shim: the diagnostics report of an experiment's models (vbpipe.jobs.diagnostics)."""

from pathlib import Path

from vbpipe.jobs.diagnostics import analyze_diagnostics
from vbpipe.jobs.joblog import job_log

settings = snakemake.params.settings
with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_diagnostics(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        spectrum=settings["eigenvalues"],
    )
