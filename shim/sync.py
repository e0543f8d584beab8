"""Cross-rank reduction of step values, packed: one collective for all values a hook syncs.

``self.log(..., sync_dist=True)`` reduces every step value with its own barrier and all_reduce (semantics §5).
``reduce_step_values`` stacks the values and reduces them once through the trainer's strategy, which is what
Lightning's per-value reduction computes, for a fraction of the collectives.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def reduce_step_values(trainer: Any, *values: Any, reduce_op: str = "mean", group: Any = None) -> tuple[Tensor, ...]:
    """Reduce ``values`` across ranks with one collective; returns new tensors, the inputs are left untouched.

    ``reduce_op`` is ``"mean"``, ``"sum"``, ``"max"`` or ``"min"``, as ``self.log``'s ``reduce_fx``. On a single
    process this is a copy.
    """
    tensors = [
        v.detach().reshape(()) if isinstance(v, Tensor) else torch.tensor(v, dtype=torch.get_default_dtype(),
                                                                          device=trainer.strategy.root_device)
        for v in values
    ]
    # self.log reduces each value in its own dtype (float32 stays float32 beside a float64); one pack per dtype.
    positions: dict[torch.dtype, list[int]] = {}
    for i, t in enumerate(tensors):
        dtype = t.dtype if t.dtype in (torch.float32, torch.float64) else torch.get_default_dtype()
        positions.setdefault(dtype, []).append(i)
    out: list[Tensor] = [torch.empty(())] * len(tensors)
    for dtype, indices in positions.items():
        # stack copies, so the in-place reduce never touches the caller's tensors (Lightning clones for that reason).
        packed = torch.stack([tensors[i].to(dtype) for i in indices])
        reduced = trainer.strategy.reduce(packed, group=group, reduce_op=reduce_op)
        for i, value in zip(indices, reduced.unbind(0)):
            out[i] = value
    return tuple(out)
