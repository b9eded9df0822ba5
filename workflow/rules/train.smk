# Training: one job per (experiment, variant, block of seeds); the block is trained as one batched
# ensemble and each seed's checkpoint is then its own DAG node (a local copy out of the block).


rule variant_config:
    output:
        "results/{experiment}/{variant}/config.json",
    log:
        "results/{experiment}/{variant}/logs/config.log",
    localrule: True
    conda:
        ENV
    params:
        content=variant_config,
    script:
        "../scripts/write_json.py"


rule train:
    output:
        temp(directory("results/{experiment}/{variant}/blocks/{block}")),
    log:
        "results/{experiment}/{variant}/logs/train-{block}.log",
    benchmark:
        "results/{experiment}/{variant}/benchmarks/train-{block}.tsv"
    conda:
        ENV
    threads: 1
    params:
        spec=train_spec,
        execution=train_execution,
        models_dir="results/{experiment}/{variant}",
        code=FINGERPRINT["train"],
    script:
        "../scripts/train.py"


rule checkpoint:
    input:
        block_dir_of_seed,
    output:
        "results/{experiment}/{variant}/model-{seed}/checkpoint/model.pt",
    log:
        "results/{experiment}/{variant}/logs/checkpoint-{seed}.log",
    localrule: True
    conda:
        ENV
    shell:
        "cp {input}/model-{wildcards.seed}.pt {output} 2> {log}"
