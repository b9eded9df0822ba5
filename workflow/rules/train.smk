# Training: one job per pack of models to (re)train, planned at parse time (vbpipe.plan). Each model's
# model.pt and model.json are declared outputs; its training.log, TensorBoard events and resume.pt are
# deliberately untracked: they must survive a rerun of an interrupted pack (Snakemake empties a job's
# declared outputs and logs before running it), and resume.pt is removed once the model is saved.


for pack in PACKS:

    rule:
        name:
            f"train_{pack['name']}"
        output:
            checkpoints=[m["checkpoint"] for m in pack["members"]],
            sidecars=[str(sidecar_path(m["checkpoint"])) for m in pack["members"]],
        log:
            f"results/logs/train/{pack['name']}.log",
        benchmark:
            f"results/logs/train/{pack['name']}.benchmark.tsv"
        conda:
            ENV
        threads: EXECUTION.threads
        resources:
            **EXECUTION.train_resources,
        params:
            members=pack["members"],
            states=pack["states"],
            accelerator=EXECUTION.accelerator,
            code=FINGERPRINT["train_pack"],
        script:
            "../scripts/train_pack.py"
