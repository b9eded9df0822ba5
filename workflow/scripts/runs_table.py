"""Snakemake shim: the runs table and its parallel-coordinates figure (vbpipe.jobs.runs)."""

from vbpipe.jobs.joblog import job_log
from vbpipe.jobs.runs import runs_table_job

with job_log(snakemake.log[0]):
    runs_table_job(
        snakemake.input.tables,
        snakemake.params.planned,
        csv=snakemake.output.csv,
        markdown=snakemake.output.markdown,
        figure=snakemake.output.figure,
        title=snakemake.params.title,
    )
