"""Snakemake shim: the diagnostics report of an experiment's models (vbpipe.analysis.distance_run)."""

from pathlib import Path

from vbpipe.analysis.distance_run import analyze_diagnostics
from vbpipe.jobs.logs import log_to

settings = snakemake.params.settings
with log_to(snakemake.log[0]):
    analyze_diagnostics(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        spectrum=settings["eigenvalues"],
    )
