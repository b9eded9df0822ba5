"""Snakemake shim: the input phase of a subset of models beside EMT's circuits."""

from pathlib import Path

from vbpipe.jobs.input_phase import analyze_input_phase
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_input_phase(
        snakemake.input.checkpoints,
        snakemake.params.names,
        Path(snakemake.output[0]).parent,
        tasks=snakemake.params.tasks,
    )
