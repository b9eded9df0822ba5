"""The configuration: typed models of every section (:mod:`.training` for one model's training,
:mod:`.sections` for the rest, on :mod:`.base`), read strictly from YAML (:mod:`.yamlfile`) and expanded
into experiments, variants and seeds with every cross-key check (:mod:`.experiments`).

Only what one training run needs is re-exported here, so that code which trains or evaluates one model
does not depend on (nor rerun when someone edits) the other sections or the workflow-level modules;
import those as ``vbpipe.config.sections`` and ``vbpipe.config.experiments``. Nothing here imports torch.
"""

from .base import ConfigError
from .original import experiment_config_json
from .training import (
    ORIGINAL_HORIZONS,
    TRAINING_KEYS,
    TrainConfig,
    model_hparams,
    original_seeds,
)

__all__ = [
    "ORIGINAL_HORIZONS",
    "TRAINING_KEYS",
    "ConfigError",
    "TrainConfig",
    "experiment_config_json",
    "model_hparams",
    "original_seeds",
]
