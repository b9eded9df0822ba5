"""Snakemake shim: every model of an experiment with controls against its start."""

from pathlib import Path

from vbpipe.jobs.controls import analyze_controls
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_controls(
        list(snakemake.input.checkpoints),
        Path(snakemake.output[0]).parent,
        **snakemake.params.settings,
    )
