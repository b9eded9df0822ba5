"""Snakemake shim: the input phase of a subset of models beside EMT's circuits."""

from pathlib import Path

from vbpipe.jobs.input_phase import analyze_input_phase
from vbpipe.jobs.logs import log_to

with log_to(snakemake.log[0]):
    analyze_input_phase(
        snakemake.input.checkpoints,
        snakemake.params.names,
        Path(snakemake.output[0]).parent,
        tasks=snakemake.params.tasks,
    )
