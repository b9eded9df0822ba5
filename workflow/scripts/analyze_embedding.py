"""Snakemake shim: one 2-D embedding (PCA, t-SNE, MDS or Isomap) of the experiment's models."""

from pathlib import Path

from vbpipe.analysis.run import run_embedding
from vbpipe.workflow import eigenvalue_key, log_to

options = snakemake.params.options
with log_to(snakemake.log[0]):
    run_embedding(
        snakemake.input[0],
        Path(snakemake.output.figure).parent,
        options["seq_length"],
        method=snakemake.wildcards.method,
        signature_type=options["signature_type"],
        distance_metric=options["distance_metric"],
        color_by=options["color_by"],
        annotate_outliers=True,
        eigenvalue_key=eigenvalue_key(options),
    )
