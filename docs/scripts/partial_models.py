"""Write model.pt files from train_block resume states (models stopped before their budget).

The outcome says status "partial" and the step count; the weights are the state at that step."""

import glob
import os
import sys

import torch

from vbpipe.checkpoint import save_model

src_root, dst_root = sys.argv[1], sys.argv[2]
for path in sorted(glob.glob(f"{src_root}/*/model-*/checkpoint/resume.pt")):
    st = torch.load(path, weights_only=True)
    exp, model = path.split("/")[-4], path.split("/")[-3]
    log = open(os.path.dirname(path) + "/training.log").read().splitlines()
    config_line = next(line for line in log if "config {" in line)
    import ast

    config = ast.literal_eval(config_line[config_line.index("config {") + 7 :])
    hparams = {**config, "seed": int(st["seed"])}
    acc = st["recent_acc"]
    outcome = {
        "steps": int(st["step"]),
        "status": "partial",
        "curriculum_level": int(st["level"]),
        "horizon": config["curriculum_horizons"][int(st["level"])],
        "train_accuracy": sum(acc) / len(acc) if acc else None,
        "train_loss": sum(st["recent_loss"]) / len(st["recent_loss"])
        if st["recent_loss"]
        else None,
        "converged": False,
        "diverged": False,
        "diverged_at_step": None,
        "early_stopped": False,
        "curriculum_history": st["history"],
        "wall_seconds": st["wall_seconds"],
    }
    save_model(f"{dst_root}/{exp}/{model}/checkpoint/model.pt", st["weights"], hparams, outcome)
    print(exp, model, outcome["steps"], outcome["train_accuracy"])
