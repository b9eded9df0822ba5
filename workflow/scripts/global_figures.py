"""Snakemake shim: the experiment's global eigenvalue figures from evaluation_summary.json."""

from pathlib import Path

from vbpipe.workflow import log_to, run_global_figures_job

with log_to(snakemake.log[0]):
    run_global_figures_job(
        snakemake.input.summary,
        Path(snakemake.output.magnitude).parent,
        snakemake.params.options["magnitude_threshold"],
    )
