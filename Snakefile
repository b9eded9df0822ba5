# vbpipe: train, evaluate and analyse RNNs on linear variable-binding tasks (Episodic Memory Theory).
# Glue only: the rules live in workflow/rules/, the science in the vbpipe package (src/vbpipe).
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/analysis.smk"


rule all:
    default_target: True
    input:
        all_targets(),
