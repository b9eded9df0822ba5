"""Snakemake shim: draw one model's figures from its saved metrics and arrays."""

from pathlib import Path

from vbpipe.evaluation.run import run_model_figures
from vbpipe.workflow import log_to

with log_to(snakemake.log[0]):
    run_model_figures(Path(snakemake.input.metrics).parent)
