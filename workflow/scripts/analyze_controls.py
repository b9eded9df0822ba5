"""Snakemake shim: every model of an experiment with controls against its start."""

from pathlib import Path

from vbpipe.jobs.controls import analyze_controls
from vbpipe.jobs.logs import log_to

with log_to(snakemake.log[0]):
    analyze_controls(
        list(snakemake.input.checkpoints),
        Path(snakemake.output[0]).parent,
        **snakemake.params.settings,
    )
