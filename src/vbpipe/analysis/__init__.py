"""Cross-model analysis of RNN eigenvalue spectra (the ``analyze`` command).

Modules, one job each:

- :mod:`~vbpipe.analysis.data`: per-model eigenvalues and table rows of an experiment's results
  (:class:`vbpipe.results.experiment.ExperimentResults`);
- :mod:`~vbpipe.analysis.statistics`: the 21 eigenvalue statistics and their aggregation;
- :mod:`~vbpipe.analysis.signatures`: statistics / histogram / combined signatures, z-scores;
- :mod:`~vbpipe.analysis.distances`: pairwise and Wasserstein distances, outliers;
- :mod:`~vbpipe.analysis.embedding`: PCA, t-SNE, MDS, Isomap;
- :mod:`~vbpipe.analysis.persistence`: Vietoris-Rips persistence, statistics, diagram distances;
- :mod:`~vbpipe.analysis.compare`: several model sets side by side;
- :mod:`~vbpipe.analysis.figures`: matplotlib figures (Agg canvas);
- the science of single models' dynamics: :mod:`~.input_phase` (routing, contamination, effective
  operator), :mod:`~.linear_limits` (what linear time-invariant filters can do),
  :mod:`~.variable_length` (per-length accuracy and the spectrum's roots), :mod:`~.fixed_points`;
- :mod:`~vbpipe.analysis.cli`: ``add_analyze_parser`` for the main CLI.

The jobs that run these (results in, files out; no torch) are :mod:`vbpipe.jobs`, one module per
analysis. Files are read through :mod:`vbpipe.results` and written through :mod:`vbpipe.fileio`.
"""
