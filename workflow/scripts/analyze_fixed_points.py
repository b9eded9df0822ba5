"""Snakemake shim: fixed and slow points of a subset of models (vbpipe.jobs.fixed_points)."""

from pathlib import Path

from vbpipe.jobs.fixed_points import analyze_fixed_points
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_fixed_points(
        snakemake.input.checkpoints,
        snakemake.params.names,
        Path(snakemake.output[0]).parent,
    )
