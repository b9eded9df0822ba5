"""Cross-model analysis of RNN eigenvalue spectra (the ``analyze`` command).

Modules, one job each:

- :mod:`~vbpipe.analysis.io`: all file I/O (read summaries, atomic JSON/PNG/NPY writes);
- :mod:`~vbpipe.analysis.data`: per-model eigenvalues and metrics from a parsed summary;
- :mod:`~vbpipe.analysis.statistics`: the 21 eigenvalue statistics and their aggregation;
- :mod:`~vbpipe.analysis.signatures`: statistics / histogram / combined signatures, z-scores;
- :mod:`~vbpipe.analysis.distances`: pairwise and Wasserstein distances, outliers;
- :mod:`~vbpipe.analysis.embedding`: PCA, t-SNE, MDS, Isomap;
- :mod:`~vbpipe.analysis.persistence`: Vietoris-Rips persistence, statistics, diagram distances;
- :mod:`~vbpipe.analysis.compare`: several model sets side by side;
- :mod:`~vbpipe.analysis.figures`: matplotlib figures (Agg canvas);
- :mod:`~vbpipe.analysis.run`: the stage entry points ``run_eigenvalue``, ``run_embedding``,
  ``run_persistence``, ``run_compare``;
- :mod:`~vbpipe.analysis.cli`: ``add_analyze_parser`` for the main CLI.
"""
