"""Snakemake shim: persistent homology of every model's eigenvalue cloud."""

from pathlib import Path

from vbpipe.analysis.run import run_persistence
from vbpipe.workflow import eigenvalue_key, log_to

options = snakemake.params.options
with log_to(snakemake.log[0]):
    run_persistence(
        snakemake.input[0],
        Path(snakemake.output.statistics).parent,
        options["seq_length"],
        metric=options["persistence_metric"],
        eigenvalue_key=eigenvalue_key(options),
        max_models=options["persistence_max_models"],
        n_jobs=snakemake.threads,
    )
