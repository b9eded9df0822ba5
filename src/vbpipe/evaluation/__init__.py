"""Evaluation of trained models: accuracy, spectra, the EMT variable-memory basis, summaries and
Table 1.

Modules: :mod:`.spectra`, :mod:`.emt`, :mod:`.accuracy` (science, arrays in / arrays out),
:mod:`.evaluate` (one model → metrics + arrays), :mod:`.figures` (data → Figure), :mod:`.summary`
and :mod:`.table1` (records → documents), :mod:`.io` (every file read and write), :mod:`.run` (the
file-level entry points) and :mod:`.cli` (``vbpipe evaluate``, ``vbpipe aggregate``).
"""

from .evaluate import evaluate_model
from .run import run_aggregate, run_evaluate_model, run_model_figures, run_paper_figures, run_table1

__all__ = [
    "evaluate_model",
    "run_aggregate",
    "run_evaluate_model",
    "run_model_figures",
    "run_paper_figures",
    "run_table1",
]
