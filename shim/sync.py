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
        v.detach().reshape(()) if isinstance(v, Tensor) else torch.tensor(float(v), device=trainer.strategy.root_device)
        for v in values
    ]
    dtype = torch.promote_types(tensors[0].dtype, torch.float32)
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    # stack copies, so the in-place reduce never touches the caller's tensors (Lightning clones for that reason).
    packed = torch.stack([t.to(dtype) for t in tensors])
    reduced = trainer.strategy.reduce(packed, group=group, reduce_op=reduce_op)
    return tuple(reduced.unbind(0))
