"""vbpipe: train, evaluate and analyse RNNs on linear variable-binding tasks (Episodic Memory Theory).

The Python API (``docs/api.md``): :func:`load_experiment`, :func:`load_model` and
:func:`load_model_results`, from :mod:`vbpipe.api`. They are imported on first use, so that
``import vbpipe`` (done by every workflow job and by Snakemake's parse) stays cheap.
"""

import importlib

__version__ = "0.1.0"

_API = ("load_experiment", "load_model", "load_model_results")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        # By name, not an import statement: the code fingerprints (vbpipe.fingerprint) follow
        # import statements, and no workflow stage runs the API, so none should rerun when it changes.
        api = importlib.import_module("vbpipe.api")
        return getattr(api, name)
    raise AttributeError(f"module 'vbpipe' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
