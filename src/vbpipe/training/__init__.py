"""Seed-exact training of packs: ``K`` models trained as one batched computation, each exactly as if alone.

A *pack* holds members of equal tensor shapes (:func:`pack_key`); anything else may differ per member: task id, L2,
learning rate, clipping, curriculum threshold and horizons, epochs, early stop, seed. Each member keeps its own data
streams, curriculum level, clipping, Adam state and stop, and its final weights and outcome are bit-identical
(on a CPU, one thread) whether it is trained alone, in a block of its seeds, in any pack, or interrupted and resumed.

- :mod:`.members`: :class:`MemberSpec`, paths, and the vectorised per-member state (:class:`~.members.Roster`).
- :mod:`.data`: the ``DataLoader`` of drawn batches (each carries the streams' states after its draw).
- :mod:`.module`: the ``LightningModule`` (grouping, targets, clipping hook, booking a step).
- :mod:`.optim`: per-member clipping and :class:`~.optim.StackedAdam`.
- :mod:`.logs`: ``training.log``, TensorBoard, and the job's progress lines.
- :mod:`.pack`: :func:`train_pack`, :func:`train_block`, resume, signals.
- The recurrence and its hand-written backward pass are :class:`vbpipe.model.PackedRNN`.

Lightning does what it is for: the ``Trainer`` runs the loop with automatic optimisation (``training_step`` returns
the summed member loss and Lightning runs backward), clipping happens in ``configure_gradient_clipping``, the
optimiser comes from ``configure_optimizers``, data come from a real ``DataLoader`` (a ``CombinedLoader`` of worker
shards on a GPU), TensorBoard through Lightning's ``TensorBoardLogger``, saving and progress in callbacks.
What it does not do, and why:

- Validation runs inside the step (:meth:`.module.PackModule.validate`), not in Lightning's validation loop:
  members reach their epoch ends at different steps (different ``steps_per_epoch``, or resumed at different steps),
  while Lightning's loop validates the whole module at its own epoch boundaries.
- One ``torch.optim`` parameter group per member is not viable (see :mod:`.optim`: 13,895 dispatched operations per
  step for 640 members, against 30 for :class:`~.optim.StackedAdam`).
- Lightning checkpoints and SLURM auto-requeue are off: per-member ``resume.pt`` files are the one source of truth
  (see :mod:`.pack`).
- The per-step bookkeeping (curriculum, early stop, divergence) is the module's ``optimizer_step`` hook, the one
  point of the step after the update and before the callbacks; it costs one device-to-host copy per step.
"""

from ..errors import TrainingInterrupted
from .members import MemberSpec, checkpoint_path, pack_key, resume_path
from .pack import BlockResult, PackResult, resolve_device, train_block, train_pack

__all__ = [
    "BlockResult",
    "MemberSpec",
    "PackResult",
    "TrainingInterrupted",
    "checkpoint_path",
    "pack_key",
    "resolve_device",
    "resume_path",
    "train_block",
    "train_pack",
]
