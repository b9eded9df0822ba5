"""The reproduction job: the paper's Table 1 recomputed from an experiment, beside the published values.

Its own module so that only this job reruns when the paper's reference table changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..analysis.reproduction import (
    HUNGARIAN,
    chance_summary,
    compare_with_paper,
    reproduce_table1,
    verdict_counts,
)
from ..analysis.reproduction_figure import plot_table1_comparison
from ..analysis.reproduction_render import (
    chance_markdown,
    comparison_grid_markdown,
    comparison_markdown,
)
from ..evaluation.paper_spectral_rule import paper_rule_errors
from ..evaluation.table1 import TRAINED, model_types
from ..fileio import save_figure, write_csv, write_text
from ..reference import paper_table1
from ..results.errors import ResultsError
from ..results.experiment import as_experiment


def reproduce_paper_table1(
    experiment,
    *,
    csv: str | os.PathLike,
    markdown: str | os.PathLike,
    figure: str | os.PathLike,
    seq_length: int | None = None,
    n_boot: int = 10_000,
) -> list[Path]:
    """Table 1 recomputed from an experiment (one row per model at ``seq_length``, default each
    model's longest evaluated length), beside the paper's published cells: ``csv`` (every cell:
    ours by the paper's rule, computed here from the stored ``W_hh`` and ``Φ`` eigenvalues, and our
    stored Hungarian error beside it; the paper's value; a test and a verdict per quantity, see
    :mod:`vbpipe.analysis.reproduction`), ``markdown``
    (the same as a readable table) and ``figure``. Cells the paper does not have are kept and
    marked "not comparable". Analytic circuits (``model_type: circuit_*``) are left out: the paper's
    cells are trained models."""
    results = as_experiment(experiment).at_length(seq_length)
    results = results.subset(model_types(results.table) == TRAINED)
    if not len(results):
        raise ResultsError(
            f"{results.source or 'this experiment'} has no trained models to set beside the "
            "paper's Table 1 (analytic circuits are not compared with it)"
        )
    rnn, theory = results.spectrum("full"), results.spectrum("theory")
    if all(a is None or b is None for a, b in zip(rnn, theory, strict=True)):
        raise ResultsError(
            f"{results.source or 'this experiment'} stores no W_hh and theory eigenvalues "
            "(eigenvalues_whh, eigenvalues_theory): the paper's spectral error needs them"
        )
    table = results.table
    models = table[["task", "hidden_dim", "l2_penalty", "curriculum_threshold", "seed", "accuracy"]]
    models = models.assign(
        spectral_error=paper_rule_errors(rnn, theory),
        **{HUNGARIAN: table["spectral_error"].astype(float).to_numpy()},
    )
    comparison = compare_with_paper(reproduce_table1(models, n_boot=n_boot), paper_table1())
    counts = verdict_counts(comparison)
    title = f"Table 1: {results.source or 'this experiment'} beside the paper"
    text = comparison_markdown(comparison, title=title)
    text += "\n" + chance_markdown(chance_summary(comparison))
    text += "\n**In the paper's layout**\n\n" + comparison_grid_markdown(comparison, explain=False)
    text += "\nCells per verdict:\n\n```\n" + counts.to_string() + "\n```\n"
    written = [write_csv(csv, comparison), write_text(markdown, text)]
    written.append(save_figure(plot_table1_comparison(comparison, title=title), figure))
    return written
