"""Snakemake shim: the diagnostics report of an experiment's models (vbpipe.jobs.diagnostics)."""

from pathlib import Path

from vbpipe.jobs.diagnostics import analyze_diagnostics
from vbpipe.jobs.logs import log_to

settings = snakemake.params.settings
with log_to(snakemake.log[0]):
    analyze_diagnostics(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        spectrum=settings["eigenvalues"],
    )
