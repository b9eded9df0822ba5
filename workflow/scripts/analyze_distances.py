"""Snakemake shim: pairwise distances between an experiment's models (vbpipe.jobs.distances)."""

from pathlib import Path

from vbpipe.jobs.distances import analyze_distances
from vbpipe.jobs.joblog import job_log

settings = snakemake.params.settings
with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_distances(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        metrics=settings["distances"],
        spectrum=settings["eigenvalues"],
        max_models=settings["distance_max_models"],
    )
