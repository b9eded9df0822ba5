"""The original project's ``config.json`` (metadata, task, model, training, execution), kept for its users.

``vbpipe train`` writes it at the experiment (or variant) root, and the workflow writes one per variant,
so tools written for the original layout keep working.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .training import TrainConfig

#: The training keys of the original ``config.json``'s ``training`` section, in its order (also
#: the ``vbpipe train`` flags of its training group).
TRAINING_SECTION = (
    "learning_rate",
    "batch_size",
    "gradient_clip",
    "epochs",
    "steps_per_epoch",
    "curriculum",
    "curriculum_threshold",
    "curriculum_horizons",
    "curriculum_window",
    "fixed_horizon",
    "l2_penalty",
    "early_stop",
    "early_stop_accuracy",
    "early_stop_patience",
    "validation_batches",
    "log_every",
)


def experiment_config_json(
    experiment_name: str,
    config: TrainConfig,
    seeds: list[int],
    accelerator: str,
    script: str = "vbpipe train",
    models_per_job: int = 1,
    variant: str | None = None,
    timestamp: bool = True,
) -> dict:
    """The original schema plus the explicit seeds and the variant name.

    ``timestamp=False`` leaves ``created_at`` out, so the workflow's file changes only with the config.
    """
    hp = config.to_dict()
    metadata = {"experiment_name": experiment_name, "variant": variant, "script": script}
    if timestamp:
        metadata["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "metadata": metadata,
        "task": {
            "task_id": hp["task_id"],
            "input_dim": hp["input_dim"],
            "seq_length": hp["seq_length"],
            "use_eos": hp["use_eos"],
            "infinite_horizon": False,
            "output_horizon": None,
            "total_length": None,
        },
        "model": {"type": hp["model_type"], "hidden_dim": hp["hidden_dim"], "bias": hp["bias"]},
        "training": {
            "seed": seeds[0] if seeds else None,
            "seeds": list(seeds),
            "num_models": len(seeds),
            **{key: hp[key] for key in TRAINING_SECTION},
        },
        "execution": {"accelerator": accelerator, "models_per_job": models_per_job},
    }
