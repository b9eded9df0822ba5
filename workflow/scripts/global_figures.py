"""Snakemake shim: an experiment's global eigenvalue figures from its table and arrays."""

from pathlib import Path

from vbpipe.jobs.figures import draw_global_figures
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    draw_global_figures(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output.magnitude).parent,
        snakemake.params.settings["magnitude_threshold"],
    )
