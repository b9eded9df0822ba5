"""Snakemake shim: an experiment's global eigenvalue figures from its table and arrays."""

from pathlib import Path

from vbpipe.jobs.figures import draw_global_figures
from vbpipe.jobs.logs import log_to

with log_to(snakemake.log[0]):
    draw_global_figures(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output.magnitude).parent,
        snakemake.params.settings["magnitude_threshold"],
    )
