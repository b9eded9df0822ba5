"""Snakemake shim: draw the per-model figures of one variant's models (vbpipe.jobs.model_figures)."""

from pathlib import Path

from vbpipe.jobs.logs import log_to
from vbpipe.jobs.model_figures import draw_model_figures

with log_to(snakemake.log[0]):
    draw_model_figures([Path(metrics).parent for metrics in snakemake.input.metrics])
