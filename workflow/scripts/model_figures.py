"""Snakemake shim: draw the per-model figures of one variant's models (vbpipe.jobs.model_figures)."""

from pathlib import Path

from vbpipe.jobs.joblog import job_log
from vbpipe.jobs.model_figures import draw_model_figures

with job_log(snakemake.log[0], snakemake.output[0]):
    draw_model_figures([Path(metrics).parent for metrics in snakemake.input.metrics])
