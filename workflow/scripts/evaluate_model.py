"""Snakemake shim: evaluate one model (metrics.json and arrays.npz; figures are their own jobs)."""

from pathlib import Path

from vbpipe.evaluation.run import run_evaluate_model
from vbpipe.workflow import log_to

options = dict(snakemake.params.options)
with log_to(snakemake.log[0]):
    run_evaluate_model(
        snakemake.input[0],
        Path(snakemake.output.metrics).parent,
        figures=False,
        seq_lengths=options["seq_lengths"],
        test_horizon=options["test_horizon"],
        n_batches=options["n_batches"],
        batch_size=options["batch_size"],
        unit_threshold=options["unit_threshold"],
    )
