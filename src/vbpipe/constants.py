"""Numbers and names several rooms share, defined once (no imports: any module may use them
without pulling in, or rerunning with, another room's code)."""

#: ``|λ|`` above this counts as "on the unit circle" (the original's ``spectral_comparison``).
DEFAULT_UNIT_THRESHOLD = 0.9
#: A model is *solved* (and Table 1 counts its spectral error) when its accuracy is above this:
#: the paper notebook's rule for running the EMT analysis.
SOLVED_ACCURACY = 0.9
#: The 2-D embeddings of model signatures.
EMBEDDING_METHODS = ("pca", "tsne", "mds", "isomap")
