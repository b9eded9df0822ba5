"""Snakemake shim: train one pack of models (vbpipe.jobs.train.train_pack_job), then record each
finished member's provenance and TensorBoard HParams (vbpipe.jobs.train_records)."""

from vbpipe.jobs.joblog import job_log
from vbpipe.jobs.train import train_pack_job
from vbpipe.jobs.train_records import record_members, training_device

with job_log(snakemake.log[0]):
    try:
        train_pack_job(
            snakemake.params.members,
            accelerator=snakemake.params.accelerator,
            threads=snakemake.threads,
        )
    finally:
        record_members(snakemake.params.members, training_device(snakemake.params.accelerator))
