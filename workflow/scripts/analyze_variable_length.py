"""Snakemake shim: accuracy per length of a variable-length experiment, beside the linear ceiling."""

from pathlib import Path

from vbpipe.jobs.logs import log_to
from vbpipe.jobs.variable_length import analyze_variable_length

with log_to(snakemake.log[0]):
    analyze_variable_length(
        (snakemake.input.table, snakemake.input.arrays), Path(snakemake.output[0]).parent
    )
