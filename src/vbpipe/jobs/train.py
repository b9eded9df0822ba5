"""The training job: one pack of models (seeds, and variants of equal shapes) trained together."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..config import TrainConfig

log = logging.getLogger("vbpipe.jobs.train")


def train_pack_job(
    members: list[dict],
    *,
    accelerator: str = "auto",
    threads: int = 1,
    existing: str = "overwrite",
    progress: bool = False,
    save_every_steps: int = 1000,
    log_interval_seconds: float = 60.0,
) -> dict:
    """Train ``members`` (dicts with ``config``, ``seed``, ``model_dir``, ``checkpoint``, ``stamp``) as
    one pack and write each ``model.pt`` with its ``model.json`` sidecar.

    ``existing="overwrite"`` (the workflow's choice: the plan already decided these models must be
    trained) retrains over an existing checkpoint; ``"skip"`` keeps a valid one (the CLI's default).
    A member's interrupted training resumes from its ``resume.pt``. Returns the outcomes per
    checkpoint path.
    """
    configs = [TrainConfig.from_dict(m["config"]) for m in members]
    outcomes = {}
    circuits = [(m, c) for m, c in zip(members, configs, strict=True) if c.model_type != "rnn"]
    for member, config in circuits:
        outcomes.update(build_circuit_job(member, config))
    trained = [(m, c) for m, c in zip(members, configs, strict=True) if c.model_type == "rnn"]
    if not trained:
        return outcomes
    from ..training import MemberSpec, train_pack

    specs = [
        MemberSpec(
            config=config,
            seed=int(m["seed"]),
            model_dir=Path(m["model_dir"]),
            checkpoint_file=Path(m["checkpoint"]),
            stamp=m.get("stamp"),
        )
        for m, config in trained
    ]
    result = train_pack(
        specs,
        accelerator=accelerator,
        threads=threads,
        existing=existing,
        progress=progress,
        save_every_steps=save_every_steps,
        log_interval_seconds=log_interval_seconds,
    )
    for path, outcome in result.outcomes.items():
        log.info("%s: %s", path, json.dumps(outcome))
    return outcomes | result.outcomes


def build_circuit_job(member: dict, config: TrainConfig) -> dict:
    """An analytic EMT circuit instead of a trained model (``model_type: circuit_*``): its weights
    are built (:mod:`vbpipe.circuits`, the model's seed choosing the random frame) and saved as a
    checkpoint like any other, with an outcome that says it was not trained."""
    from ..checkpoint import save_model
    from ..circuits import build_circuit, circuit_checkpoint_fields
    from ..config import model_hparams

    kind = config.model_type.removeprefix("circuit_")
    shape = (config.task_id, config.input_dim, config.seq_length, config.hidden_dim)
    settings = {"seed": int(member["seed"]), "use_eos": config.use_eos}
    settings["scale"] = config.circuit_scale
    weights = build_circuit(kind, *shape, **settings)
    _, outcome = circuit_checkpoint_fields(kind, *shape, **settings)
    outcome = {**outcome, "status": "analytic circuit"}
    path = Path(member["checkpoint"])
    import torch

    tensors = {name: torch.as_tensor(value) for name, value in weights.items()}
    save_model(
        path, tensors, model_hparams(config, member["seed"]), outcome, stamp=member.get("stamp")
    )
    log.info("%s: %s circuit built", path, kind)
    return {path: outcome}
