"""Which of Lightning's reductions a ``self.log(reduce_fx=...)`` value is, read as Lightning reads it."""

from __future__ import annotations

from typing import Any

import torch

REDUCTIONS = ("mean", "sum", "max", "min")


def reduction_of(reduce_fx: Any) -> str | None:
    """``"mean"``, ``"sum"``, ``"max"`` or ``"min"`` for a value Lightning accepts as ``reduce_fx`` (a string of
    any case, ``"avg"`` for the mean; ``torch.mean``, ``torch.sum``/``sum``, ``torch.max``/``max``,
    ``torch.min``/``min``); None for any other, for which Lightning raises."""
    if isinstance(reduce_fx, str):
        name = reduce_fx.lower()
        name = "mean" if name == "avg" else name
        return name if name in REDUCTIONS else None
    if reduce_fx is torch.mean:
        return "mean"
    for name, candidates in (("sum", (torch.sum, sum)), ("max", (torch.max, max)), ("min", (torch.min, min))):
        if reduce_fx in candidates:
            return name
    return None
