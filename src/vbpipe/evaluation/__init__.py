"""Evaluation of trained models: accuracy, spectra, the EMT variable-memory basis, Table 1 and
figures.

Science (arrays in, arrays out): :mod:`.spectra`, :mod:`.emt`, :mod:`.accuracy`, :mod:`.evaluate`
(one loaded model → metrics + arrays). Table 1 from the tidy table: :mod:`.table1`. Figures (data →
Figure): :mod:`.figures`. The jobs that run them are in :mod:`vbpipe.jobs` (:mod:`~vbpipe.jobs.evaluate`,
:mod:`~vbpipe.jobs.aggregate`, :mod:`~vbpipe.jobs.figures`); the CLI front door is :mod:`.cli` (and
:mod:`.directory`, which finds a models directory's checkpoints). File names and record fields:
:mod:`vbpipe.results`.

Nothing is imported here, so that ``import vbpipe.evaluation.cli`` (or any one job module) costs
only what that module uses.
"""
