"""Snakemake shim: one 2-D embedding (PCA, t-SNE, MDS or Isomap) of an experiment's models."""

from pathlib import Path

from vbpipe.jobs.embedding import analyze_embedding
from vbpipe.jobs.joblog import job_log

settings = snakemake.params.settings
with job_log(snakemake.log[0], snakemake.output[0]):
    analyze_embedding(
        (snakemake.input.table, snakemake.input.arrays),
        Path(snakemake.output[0]).parent,
        settings["seq_length"],
        method=snakemake.params.method,
        signature_type=settings["signature_type"],
        distance_metric=settings["distance_metric"],
        color_by=settings["color_by"],
        annotate_outliers=True,
        spectrum=settings["eigenvalues"],
    )
