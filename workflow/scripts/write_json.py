"""Snakemake shim: write params.content as the output JSON (atomically)."""

from vbpipe.evaluation.io import write_json
from vbpipe.workflow import log_to

with log_to(snakemake.log[0]):
    write_json(snakemake.output[0], snakemake.params.content)
