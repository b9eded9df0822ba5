"""Save the naive and gated circuits for T1-T4 (d = L = 8, hidden 128) as ordinary model.pt files."""

import sys

import torch

from vbpipe.checkpoint import save_model
from vbpipe.circuits import build_circuit, circuit_checkpoint_fields
from vbpipe.taskspec import PAPER_TASKS

root = sys.argv[1]
for kind in ("naive", "gated"):
    for name, tid in PAPER_TASKS.items():
        for seed in (1, 2):
            w = build_circuit(kind, tid, 8, 8, 128, seed=seed)
            hp, outcome = circuit_checkpoint_fields(kind, tid, 8, 8, 128, seed=seed)
            save_model(
                f"{root}/{kind}_{name}/model-{seed}/checkpoint/model.pt",
                {k: torch.as_tensor(v) for k, v in w.items()},
                hp,
                outcome,
            )
print("ok")
