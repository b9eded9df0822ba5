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
    from ..training import MemberSpec, train_pack

    specs = [
        MemberSpec(
            config=TrainConfig.from_dict(m["config"]),
            seed=int(m["seed"]),
            model_dir=Path(m["model_dir"]),
            checkpoint_file=Path(m["checkpoint"]),
            stamp=m.get("stamp"),
        )
        for m in members
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
    return result.outcomes
