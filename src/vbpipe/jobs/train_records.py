"""After a training job: each finished member's provenance in its ``model.json`` and its
hyper-parameters with its final metrics in TensorBoard (the HParams tab compares a pack's members).

Kept out of :mod:`vbpipe.jobs.train` on purpose: the training stamp follows that module and its
imports, and neither a record of where a model was trained nor its TensorBoard summary can change
the model; so editing this module (or a new commit, host or Slurm job) retrains nothing. The caller
(the workflow's ``train_pack.py`` and ``vbpipe train``) runs it in a ``finally``, so members saved
before an interruption get their records too.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from ..fileio import write_json
from ..provenance import collect
from ..sidecar import read_sidecar, sidecar_path

log = logging.getLogger("vbpipe.jobs.train_records")

#: Final training metrics shown in the HParams tab, from the checkpoint's outcome (tag -> key).
HPARAM_METRICS = {
    "final/train_accuracy": "train_accuracy",
    "final/train_loss": "train_loss",
    "final/train_steps": "steps",
    "final/curriculum_level": "curriculum_level",
    "final/converged": "converged",
    "final/diverged": "diverged",
}


def hparam_values(member: dict) -> dict:
    """A member's hyper-parameters as TensorBoard takes them (numbers, bools, strings)."""
    values = {"experiment": member.get("experiment"), "variant": member.get("variant")}
    values["seed"] = int(member["seed"])
    for key, value in member["config"].items():
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        values[key] = value
    return {k: v for k, v in values.items() if v is not None}


def hparam_metrics(outcome: dict) -> dict[str, float]:
    """The outcome's final metrics (:data:`HPARAM_METRICS`) that have a finite value."""
    out = {}
    for tag, key in HPARAM_METRICS.items():
        value = outcome.get(key)
        if isinstance(value, bool) or isinstance(value, (int, float)):
            value = float(value)
            if math.isfinite(value):
                out[tag] = value
    return out


def write_hparams(folder: Path, member: dict, outcome: dict) -> None:
    """One HParams summary (hyper-parameters + final metrics) in ``folder``, beside the member's
    training events (TensorBoard reads a folder's event files as one run)."""
    from lightning_fabric.loggers import TensorBoardLogger

    logger = TensorBoardLogger(str(folder), name="", version="", default_hp_metric=False)
    logger.log_hyperparams(
        hparam_values(member), hparam_metrics(outcome), step=int(outcome.get("steps") or 0)
    )
    logger.finalize("success")


def training_device(accelerator: str) -> str | None:
    """The device a training job with ``accelerator`` ran on (None when it cannot be told)."""
    from ..devices import DeviceError, resolve_device

    try:
        return resolve_device(accelerator)
    except DeviceError:
        return None


def record_members(members: list[dict], device: str | None, tensorboard: bool = True) -> int:
    """Provenance (and HParams) for every member whose ``model.json`` is current (its stamp is
    the member's) and has no provenance yet; returns how many were recorded. Never raises for one
    member: a record is a nicety, the model is what matters."""
    record = None
    done = 0
    for member in members:
        checkpoint = Path(member["checkpoint"])
        sidecar = read_sidecar(checkpoint)
        if sidecar is None or sidecar.get("stamp") != member.get("stamp"):
            continue
        if "provenance" in sidecar:
            continue
        record = record or collect(device)
        try:
            write_json(sidecar_path(checkpoint), {**sidecar, "provenance": record})
            if tensorboard:
                write_hparams(checkpoint.parent, member, sidecar.get("outcome") or {})
        except Exception as error:  # noqa: BLE001 - see the docstring
            log.warning("%s: provenance/HParams not recorded: %s", checkpoint, error)
            continue
        done += 1
    return done
