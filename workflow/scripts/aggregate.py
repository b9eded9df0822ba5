"""Snakemake shim: one experiment's tidy table, arrays, summary and Table 1 (vbpipe.jobs.aggregate)."""

from pathlib import Path

from vbpipe.jobs.aggregate import aggregate_experiment
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    aggregate_experiment(
        [Path(metrics).parent for metrics in snakemake.input.metrics],
        summary=snakemake.output.summary,
        table=snakemake.output.table,
        arrays=snakemake.output.arrays,
        table1_csv=snakemake.output.table1_csv,
        table1_tex=snakemake.output.table1_tex,
        evaluation_config=snakemake.params.evaluation_config,
        checkpoints=snakemake.input.checkpoints,
    )
