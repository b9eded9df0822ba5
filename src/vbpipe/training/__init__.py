"""Seed-exact training of packs: ``K`` models trained as one batched computation, each exactly as if alone.

A *pack* holds members of equal tensor shapes (:func:`pack_key`); anything else may differ per member: task id, L2,
learning rate, clipping, curriculum threshold, window and horizons, epochs, early stop, seed. Each member keeps its
own data streams, curriculum level, clipping, Adam state and stop. On a CPU with one thread (the default) its final
weights and outcome are bit-identical whether it is trained alone, in a block of its seeds, in any pack, or
interrupted and resumed in another pack: every operation acts on one member's rows with shapes that do not depend on
``K``, and every member's blocks start on a 64-byte boundary (:mod:`.kernel`). On a GPU, cuBLAS may choose other
kernels for other batch counts, so alone and in a pack agree to rounding; a resumed pack is exact.

- :mod:`.members`: :class:`MemberSpec`, paths, and every member's state as arrays (:class:`~.members.Roster`).
- :mod:`.data`: the ``DataLoader`` of drawn batches, each carrying the members' stream states after its draw.
- :mod:`.module`: the ``LightningModule`` (grouping by sequence length and horizon, targets, clipping, booking).
- :mod:`.optim`: per-member clipping and :class:`~.optim.StackedAdam`.
- :mod:`.logs`: ``training.log``, TensorBoard, and the job's progress lines.
- :mod:`.pack`: :func:`train_pack`, :func:`train_block`, resume, signals, Slurm.
- The recurrence and its hand-written backward pass: :class:`.kernel.PackedRNN` (:mod:`.kernel`).

Lightning does what it is for: the ``Trainer`` runs the loop with automatic optimisation (``training_step`` returns
the summed member loss and Lightning runs backward), clipping is the ``configure_gradient_clipping`` hook, the
optimiser comes from ``configure_optimizers``, data from a real ``DataLoader`` (a ``CombinedLoader`` of worker shards
on a GPU), TensorBoard through Lightning's ``TensorBoardLogger``, saving and progress are callbacks. Its loop costs
~0.3 ms per step (0.32 ms measured with a trivial module here): 10 % of one model's step at horizon 10 on a CPU,
nothing for a pack. What it does not do, and why:

- Validation runs inside the step (:meth:`.module.PackModule.validate`), not in Lightning's validation loop: members
  reach their epoch ends at different steps (different ``steps_per_epoch``, or resumed at different steps), while
  Lightning validates the whole module at its own epoch boundaries.
- One ``torch.optim`` parameter group per member is not viable (:mod:`.optim`: 13,895 dispatched operations per
  optimiser step for 640 members, against 53 for :class:`~.optim.StackedAdam`).
- Lightning checkpoints and its SLURM auto-requeue are off: the per-member ``resume.pt`` files are the one source of
  truth, so a regrouped pack resumes every member exactly (:mod:`.pack`).
- The per-member loggers are not the Trainer's: its ``self.log`` would send every value to all of them.
- The per-step bookkeeping (curriculum, early stop, divergence) is the module's ``optimizer_step`` hook, the one
  point after the update and before the callbacks; it costs one device-to-host copy per step.
"""

from ..devices import resolve_device
from ..errors import TrainingInterrupted
from .members import MemberSpec, checkpoint_path, pack_key, resume_path
from .pack import BlockResult, PackResult, train_block, train_pack

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
