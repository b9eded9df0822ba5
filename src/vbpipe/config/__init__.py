"""The configuration: one typed model (:mod:`.model`), read strictly from YAML (:mod:`.yamlfile`) and
expanded into experiments, variants and seeds with every cross-key check (:mod:`.experiments`).

Only the model of one training run is re-exported here, so that code which trains or evaluates one
model does not depend on (nor rerun when someone edits) the workflow-level modules; import those as
``vbpipe.config.experiments``. Nothing here imports torch.
"""

from .model import (
    ORIGINAL_HORIZONS,
    TRAINING_KEYS,
    ConfigError,
    TrainConfig,
    model_hparams,
    original_seeds,
)
from .original import experiment_config_json

__all__ = [
    "ORIGINAL_HORIZONS",
    "TRAINING_KEYS",
    "ConfigError",
    "TrainConfig",
    "experiment_config_json",
    "model_hparams",
    "original_seeds",
]
