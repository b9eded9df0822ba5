"""Snakemake shim: train one pack of models (vbpipe.jobs.train.train_pack_job)."""

from vbpipe.jobs.logs import log_to
from vbpipe.jobs.train import train_pack_job

with log_to(snakemake.log[0]):
    train_pack_job(
        snakemake.params.members,
        accelerator=snakemake.params.accelerator,
        threads=snakemake.threads,
    )
