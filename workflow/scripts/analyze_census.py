"""Snakemake shim: the mechanism census of one experiment's models."""

from pathlib import Path

from vbpipe.analysis.census import CensusThresholds
from vbpipe.jobs.census import analyze_census
from vbpipe.jobs.joblog import job_log

settings = snakemake.params.settings
with job_log(snakemake.log[0]):
    analyze_census(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        dict(zip(snakemake.params.names, snakemake.input.checkpoints, strict=True)),
        swept=settings["swept"],
        seq_length=settings["seq_length"],
        thresholds=CensusThresholds(**settings["thresholds"]),
        horizons=settings["horizons"],
        n_sequences=settings["n_sequences"],
    )
