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
- :mod:`~vbpipe.analysis.run`: the jobs ``analyze_eigenvalue``, ``analyze_embedding``,
  ``analyze_persistence``, ``analyze_compare`` (results in, files out; no torch);
- :mod:`~vbpipe.analysis.cli`: ``add_analyze_parser`` for the main CLI.

Files are read through :mod:`vbpipe.results` and written through :mod:`vbpipe.fileio`.
"""
