"""The tensor ``put`` last took out of the autograd graph, for an aggregator given the same value next.

A value ``self.log`` forks (``on_step=True, on_epoch=True``) is put and then aggregated:
``self.put("loss_step", loss, ...)`` and ``self.loss.update(loss, weight=n)``. Both take ``loss`` out of the
graph; the aggregator reuses the tensor ``put`` made instead of detaching again (a tensor operation, about a
tenth of an update). The tensor is reused only for that very object, held by a weak reference so the graph is not
kept alive; it shares the object's storage, so it holds what a new ``detach()`` would.
"""

from __future__ import annotations

import weakref

from torch import Tensor

# (a weak reference to the source, its detached tensor); the aggregators' fast paths (``shim.metrics``) read it
# directly, as ``detached_by_put`` does, to spare an update a call.
last: tuple[weakref.ref[Tensor], Tensor] | None = None


def remember(source: Tensor, detached: Tensor) -> None:
    """Note that ``detached`` is ``source.detach()``, squeezed to 0-d, in ``source``'s float32/float64 dtype."""
    global last
    last = (weakref.ref(source), detached)


def detached_by_put(value: Tensor) -> Tensor | None:
    """The tensor ``remember`` noted for ``value`` itself, else None."""
    noted = last
    if noted is not None and noted[0]() is value:
        return noted[1]
    return None
