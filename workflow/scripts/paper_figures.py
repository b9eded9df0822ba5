"""Snakemake shim: the paper's Figures 3 and 4 for the chosen model of one task."""

from pathlib import Path

from vbpipe.evaluation.run import run_paper_figures
from vbpipe.workflow import log_to

with log_to(snakemake.log[0]):
    run_paper_figures(
        [snakemake.input.summary],
        Path(snakemake.output[0]).parent,
        tasks=[snakemake.wildcards.task],
    )
