"""Snakemake shim: experiments side by side, or one experiment split by a swept key."""

from pathlib import Path

from vbpipe.jobs.compare import analyze_compare
from vbpipe.jobs.joblog import job_log

spec = snakemake.params.spec
with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_compare(
        list(zip(snakemake.input.tables, snakemake.input.arrays, strict=True)),
        spec["experiments"],
        Path(snakemake.output[0]).parent,
        spec["seq_length"],
        by=spec["by"],
    )
