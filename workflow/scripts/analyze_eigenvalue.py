"""Snakemake shim: per-model eigenvalue statistics of one experiment."""

from pathlib import Path

from vbpipe.analysis.run import run_eigenvalue
from vbpipe.workflow import eigenvalue_key, log_to

options = snakemake.params.options
with log_to(snakemake.log[0]):
    run_eigenvalue(
        snakemake.input[0],
        Path(snakemake.output.statistics).parent,
        options["seq_length"],
        eigenvalue_key=eigenvalue_key(options),
    )
