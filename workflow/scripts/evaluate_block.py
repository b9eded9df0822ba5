"""Snakemake shim: evaluate one variant's models in one process (vbpipe.jobs.evaluate)."""

from pathlib import Path

from vbpipe.fileio import write_json
from vbpipe.jobs.evaluate import evaluate_models
from vbpipe.jobs.joblog import job_log

with job_log(snakemake.log[0], snakemake.output[0]):
    jobs = [
        (checkpoint, Path(metrics).parent, identity)
        for checkpoint, metrics, identity in zip(
            snakemake.input.checkpoints,
            snakemake.output.metrics,
            snakemake.params.identities,
            strict=True,
        )
    ]
    evaluate_models(jobs, snakemake.params.settings)
    write_json(snakemake.output.config, snakemake.params.variant_config)
