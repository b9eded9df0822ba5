"""Snakemake shim: gather one experiment's metrics into evaluation_summary.json and Table 1."""

from pathlib import Path

from vbpipe.evaluation.run import run_aggregate
from vbpipe.workflow import log_to

with log_to(snakemake.log[0]):
    run_aggregate(
        snakemake.input.metrics,
        snakemake.output.summary,
        tables_dir=Path(snakemake.output.csv).parent,
        evaluation_config=snakemake.params.evaluation_config,
    )
