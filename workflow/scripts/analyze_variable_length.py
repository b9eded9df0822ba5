"""Snakemake shim: accuracy per length of a variable-length experiment, beside the MSE-optimal
linear filter's accuracy."""

from pathlib import Path

from vbpipe.jobs.joblog import job_log
from vbpipe.jobs.variable_length import analyze_variable_length

with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_variable_length(
        (snakemake.input.table, snakemake.input.arrays), Path(snakemake.output[0]).parent
    )
