"""Evaluation of trained models: accuracy, spectra, the EMT variable-memory basis, aggregation,
Table 1 and figures.

Science (arrays in, arrays out): :mod:`.spectra`, :mod:`.emt`, :mod:`.accuracy`, :mod:`.evaluate`
(one loaded model → metrics + arrays). Documents: :mod:`.summary`, :mod:`.table1`. Figures (data →
Figure): :mod:`.figures`. Jobs (explicit paths in, files out): :mod:`.run` (evaluate a block of
models; imports torch), :mod:`.aggregate` (table, arrays, summary, Table 1; no torch),
:mod:`.plots` (per-model, global and paper figures; no torch). CLI: :mod:`.cli`. File names and
record fields: :mod:`vbpipe.results`.

Nothing is imported here, so that ``import vbpipe.evaluation.cli`` (or any one job module) costs
only what that module uses.
"""
