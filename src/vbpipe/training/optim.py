"""Per-member gradient clipping and Adam over stacked ``(K, ...)`` parameters.

Why not ``torch.optim.Adam`` with one parameter group per member (each group its own lr and weight decay)?
Measured with ``benchmarks/train_throughput.py --optimizer-launches`` (K = 640 members of hidden 128, one CPU
thread): 640 groups of three separate parameters, re-stacked for the batched forward pass every step, dispatch
13,895 ATen operations per step (stack, its backward, per-group Adam, zero_grad), 186-268 ms of host time here;
at a GPU's ~5 us per kernel launch that is ~70 ms per step of launches alone, against ~10 ms of arithmetic for the
whole pack at horizon 100. :class:`StackedAdam` does the same update over the one ``(K, P)`` parameter in 53
operations (counted the same way), whatever ``K`` is: each elementwise operation is one kernel over every member,
which is what a foreach or fused path would buy. ``torch``'s fused and foreach Adam cannot be used as they are: they
take one learning rate and weight decay per group, and move every member they are given.

Every operation is elementwise, or a reduction over one member's row, and uses only correctly rounded arithmetic
(no ``pow``: bias corrections come from a table computed once on the host), so a member's update does not depend on
which other members share the tensor. A member that may not move (finished, diverged, frozen), or whose loss,
gradient or updated weights are not finite, keeps its weights, moments and step count: the update is computed out
of place and committed row by row, so the weights before the step are the pre-step copy.
"""

from __future__ import annotations

import torch

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_'s


def _rows(tensor: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``values`` ``(K,)`` shaped to broadcast over the rows of ``tensor`` ``(K, ...)``."""
    return values.view((-1,) + (1,) * (tensor.dim() - 1))


@torch.no_grad()
def clip_per_member(grads: list[torch.Tensor], max_norm: torch.Tensor) -> torch.Tensor:
    """Scale each member's gradient (row ``k`` of every tensor) to global norm <= ``max_norm[k]``, like
    ``clip_grad_norm_`` on that member alone; returns the norms before clipping, ``(K,)``."""
    squared = sum((g * g).flatten(1).sum(1) for g in grads)
    norm = squared.sqrt()
    coef = (max_norm / (norm + CLIP_EPS)).clamp(max=1.0)
    for g in grads:
        g.mul_(_rows(g, coef))
    return norm


class StackedAdam(torch.optim.Optimizer):
    """Adam with coupled L2 (``torch.optim.Adam``'s ``weight_decay``) where row ``k`` of every parameter is
    member ``k``.

    The param group carries per-member vectors: ``lr`` and ``weight_decay`` ``(K,)`` float, ``active`` ``(K,)``
    bool (who may move) and ``valid`` ``(K,)`` bool, which the caller sets before the update (the module's
    clipping hook: finite loss and gradient). After :meth:`step` the group's ``updated`` ``(K,)`` bool says who
    moved: active, valid and with finite new weights.
    """

    def __init__(self, params, lr, weight_decay, active, betas=ADAM_BETAS, eps=ADAM_EPS):
        defaults = dict(lr=lr, weight_decay=weight_decay, active=active, betas=betas, eps=eps)
        super().__init__(params, defaults)
        self._corrections: dict[torch.device, torch.Tensor] = {}
        # no member's step count exceeds it; known on the host, so no device sync
        self._max_step = 0
        self._scratch: dict[torch.Tensor, tuple[torch.Tensor, ...]] = {}

    def load_member(self, index: int, moments: list[tuple[torch.Tensor, torch.Tensor]], steps: int):
        """Set member ``index``'s moments (one ``(m, v)`` per parameter, in order) and step count."""
        for p, (m, v) in zip(self.param_groups[0]["params"], moments, strict=True):
            state = self._state(p)
            state["exp_avg"][index] = m.to(p)
            state["exp_avg_sq"][index] = v.to(p)
            state["step"][index] = steps
        self._max_step = max(self._max_step, steps)

    def member_state(self, index: int) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], int]:
        """Member ``index``'s moments (CPU copies, per parameter) and step count."""
        moments, steps = [], 0
        for p in self.param_groups[0]["params"]:
            state = self._state(p)
            moments.append(
                (state["exp_avg"][index].cpu().clone(), state["exp_avg_sq"][index].cpu().clone())
            )
            steps = int(state["step"][index])
        return moments, steps

    def _state(self, p: torch.Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] = torch.zeros(p.shape[0], dtype=torch.int64, device=p.device)
        return state

    def _bias_corrections(self, steps: torch.Tensor, group: dict) -> tuple[torch.Tensor, ...]:
        """``(1 - beta1^t, sqrt(1 - beta2^t))`` per member at step counts ``steps``, from a host-made table
        (exact, the same for every member) that doubles when a count passes its end."""
        table = self._corrections.get(steps.device)
        need = self._max_step + 1
        if table is None or table.shape[1] < need:
            size = max(need, 2 * (0 if table is None else table.shape[1]), 1024)
            beta1, beta2 = group["betas"]
            rows = [
                [1 - beta1**t for t in range(size)],
                [(1 - beta2**t) ** 0.5 for t in range(size)],
            ]
            table = torch.tensor(rows, dtype=torch.float32, device=steps.device)
            self._corrections[steps.device] = table
        return table[0][steps], table[1][steps]

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
        return loss

    def _update(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        params = group["params"]
        states = [self._state(p) for p in params]
        counts = states[0]["step"] + 1
        self._max_step += 1
        correction1, correction2 = self._bias_corrections(counts, group)
        step_size = group["lr"] / correction1
        ok = group["active"] & group["valid"]
        for p, state in zip(params, states, strict=True):
            tmp, new_p, new_m, new_v = self._buffers(p)
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            g.add_(torch.mul(p, _rows(p, group["weight_decay"]), out=tmp))  # coupled L2, in place
            torch.mul(state["exp_avg"], beta1, out=new_m).add_(torch.mul(g, 1 - beta1, out=tmp))
            torch.mul(g, g, out=tmp).mul_(1 - beta2)
            torch.mul(state["exp_avg_sq"], beta2, out=new_v).add_(tmp)
            torch.sqrt(new_v, out=tmp).div_(_rows(p, correction2)).add_(group["eps"])
            torch.div(new_m, tmp, out=tmp).mul_(_rows(p, step_size))
            torch.sub(p, tmp, out=new_p)
            ok = ok & torch.isfinite(torch.abs(new_p, out=tmp).flatten(1).amax(1))
        self._commit(params, states, ok)
        group["updated"] = ok

    def _commit(self, params, states, ok: torch.Tensor) -> None:
        """Keep the new weights and moments of the members in ``ok``, the old ones of the others.

        On a CPU the rows to keep are read on the host (free there) and only they are copied back; on a GPU a
        ``where`` over the whole tensor avoids a device-to-host synchronisation.
        """
        bad = torch.nonzero(~ok).flatten() if self._host_commit(ok.device) else None
        for p, state in zip(params, states, strict=True):
            _, new_p, new_m, new_v = self._buffers(p)
            for old, new in ((p, new_p), (state["exp_avg"], new_m), (state["exp_avg_sq"], new_v)):
                if bad is None:
                    torch.where(_rows(old, ok), new, old, out=old)
                else:
                    if len(bad):
                        new.index_copy_(0, bad, old.index_select(0, bad))
                    old.copy_(new)
            state["step"].add_(ok.long())

    @staticmethod
    def _host_commit(device: torch.device) -> bool:
        return device.type == "cpu"

    def _buffers(self, p: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Scratch, new weights, new first and second moments: kept from step to step."""
        buffers = self._scratch.get(p)
        if buffers is None or buffers[0].device != p.device:
            buffers = tuple(torch.empty_like(p) for _ in range(4))
            self._scratch[p] = buffers
        return buffers
