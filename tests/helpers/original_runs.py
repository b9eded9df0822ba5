"""Runs of the original project, written by the tests: Lightning checkpoints in the original's
layout (``model-<i>/lightning_logs/version_<v>/checkpoints/*.ckpt``) and the experiment root's
``config.json``, as ``emt_variable_binding``'s ``train.py`` / ``train_multiple.py`` leave them."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import torch

#: The shape of the tests' original runs unless a test says otherwise.
D, LENGTH, HIDDEN = 3, 3, 12


def original_hparams(task_id, seed: int, *, d=D, seq_length=LENGTH, hidden=HIDDEN, **changes):
    """``hyper_parameters`` as the original ``train.py`` saves them (task_id a tuple of ints)."""
    return {
        "seed": seed,
        "learning_rate": 0.001,
        "batch_size": 64,
        "input_dim": d,
        "seq_length": seq_length,
        "model_type": "rnn",
        "poly_power": 1.0,
        "curriculum": True,
        "l2_penalty": 0.0,
        "task_id": tuple(int(t) for t in task_id),
        "curriculum_threshold": 0.96,
        "curriculum_horizons": [10, 20, 40, 60, 100],
        "use_eos": False,
        "hidden_dim": hidden,
        **changes,
    }


def write_original_ckpt(model_dir: Path, weights, hyper, *, step=4000, version=0, extra=None):
    """``model_dir/lightning_logs/version_{v}/checkpoints/epoch=1-step={step}.ckpt`` in Lightning's
    layout: the original module's parameter names, optimizer and loop state, callbacks."""
    state = OrderedDict(
        [
            ("model.rnn.weight_ih_l0", torch.as_tensor(weights["W_ih"], dtype=torch.float32)),
            ("model.rnn.weight_hh_l0", torch.as_tensor(weights["W_hh"], dtype=torch.float32)),
            ("model.readout.weight", torch.as_tensor(weights["W_r"], dtype=torch.float32)),
        ]
    )
    adam = {
        i: {"step": torch.tensor(float(step)), "exp_avg": torch.zeros_like(v), "exp_avg_sq": v**2}
        for i, v in enumerate(state.values())
    }
    payload = {
        "epoch": 1,
        "global_step": step,
        "pytorch-lightning_version": "2.5.6",
        "state_dict": state,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"completed": 1}}}},
        "callbacks": {"ModelCheckpoint{}": {"kth_value": torch.tensor(float("inf"))}},
        "optimizer_states": [{"state": adam, "param_groups": [{"lr": 0.001, "params": [0, 1, 2]}]}],
        "lr_schedulers": [],
        "hparams_name": "kwargs",
        "hyper_parameters": hyper,
        **(extra or {}),
    }
    path = model_dir / "lightning_logs" / f"version_{version}" / "checkpoints"
    path.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path / f"epoch=1-step={step}.ckpt")
    return path / f"epoch=1-step={step}.ckpt"


def original_config(
    root: Path, task_id, num_models: int, *, d=D, seq_length=LENGTH, hidden=HIDDEN, **sections
) -> Path:
    """The original experiment root's ``config.json`` (its schema, section 7.1); ``sections``
    replace or add whole sections (``task={...}``, ``model={...}``)."""
    config = {
        "metadata": {"experiment_name": root.name, "script": "train_multiple.py"},
        "task": {"task_id": [int(t) for t in task_id], "input_dim": d, "seq_length": seq_length},
        "model": {"type": "rnn", "hidden_dim": hidden, "bias": False},
        "training": {"seed": 0, "num_models": num_models, "epochs": 2},
        "execution": {"accelerator": "cpu", "num_workers": 2},
        **sections,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(config))
    return root / "config.json"


def assert_same_evaluation(ours: Path, theirs: Path) -> tuple[dict, dict]:
    """Two models' ``results/`` directories hold the same evaluation: the same ``model``,
    ``lengths``, ``task_label`` and ``evaluation`` records (timings aside) and the same arrays, bit
    for bit. Returns both ``metrics.json`` records, for the caller's own checks."""
    import numpy as np

    from vbpipe.results.records import read_metrics, read_model_arrays

    a, b = read_metrics(ours / "metrics.json"), read_metrics(theirs / "metrics.json")
    for key in ("model", "lengths", "task_label"):
        assert a[key] == b[key], key
    strip = ("seconds",)
    assert {k: v for k, v in a["evaluation"].items() if k not in strip} == {
        k: v for k, v in b["evaluation"].items() if k not in strip
    }
    arrays_a = read_model_arrays(ours / "arrays.npz")
    arrays_b = read_model_arrays(theirs / "arrays.npz")
    assert sorted(arrays_a) == sorted(arrays_b)
    for name in arrays_a:
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)
    return a, b
