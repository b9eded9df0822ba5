"""Snakemake shim: compare experiments, or the variants of one experiment split by a parameter."""

from vbpipe.workflow import log_to, run_compare_job

with log_to(snakemake.log[0]):
    run_compare_job(snakemake.input, snakemake.params.spec, snakemake.output.statistics)
