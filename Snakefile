# vbpipe: train, evaluate and analyse RNNs on linear variable-binding tasks (Episodic Memory Theory).
# The workflow lives in workflow/Snakefile (Snakemake's standard layout); this file includes it so that
# `snakemake` runs from the repository root, and makes its `all` the default target (an included
# file's default target does not carry over).


include: "workflow/Snakefile"


rule default:
    default_target: True
    input:
        rules.all.input,
    localrule: True
