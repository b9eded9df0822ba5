"""Snakemake shim: the paper's Figures 3 and 4 for the chosen model of one task."""

from pathlib import Path

from vbpipe.jobs.figures import draw_paper_figures
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    draw_paper_figures(
        [Path(metrics).parent for metrics in snakemake.input.metrics],
        snakemake.wildcards.task,
        snakemake.output.figure3,
        snakemake.output.figure4,
        snakemake.output.choice,
        seq_length=snakemake.params.seq_length,
    )
