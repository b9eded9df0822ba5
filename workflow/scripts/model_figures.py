"""Snakemake shim: draw the per-model figures of one variant's models (vbpipe.evaluation.plots)."""

from pathlib import Path

from vbpipe.evaluation.plots import draw_model_figures
from vbpipe.jobs.logs import log_to

with log_to(snakemake.log[0]):
    draw_model_figures([Path(metrics).parent for metrics in snakemake.input.metrics])
