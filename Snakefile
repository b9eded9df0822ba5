# vbpipe: train, evaluate and analyse RNNs on linear variable-binding tasks (Episodic Memory Theory).
# The workflow lives in workflow/Snakefile (Snakemake's standard layout); this file includes it so that
# `snakemake` runs from the repository root.


include: "workflow/Snakefile"
