"""Snakemake shim: Table 1 beside the paper's published values (vbpipe.analysis.reproduction)."""

from vbpipe.jobs.joblog import job_log
from vbpipe.jobs.reproduction import reproduce_paper_table1

with job_log(snakemake.log[0], snakemake.output[0]):
    reproduce_paper_table1(
        (snakemake.input.table, snakemake.input.arrays),
        csv=snakemake.output.csv,
        markdown=snakemake.output.markdown,
        figure=snakemake.output.figure,
    )
