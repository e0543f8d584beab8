"""The copy ``put`` last made of a tensor in the autograd graph, for an aggregator given the same value next.

A value ``self.log`` forks (``on_step=True, on_epoch=True``) is put and then aggregated:
``self.put("loss_step", loss, ...)`` and ``self.loss.update(loss, weight=n)``. Both take ``loss`` out of the
graph; the aggregator reuses the copy ``put`` made instead of detaching again (a tensor operation, about a tenth
of an update). The copy is reused only for that very object, held by a weak reference so the graph is not kept
alive, and only while the object's version counter shows no in-place change since the put (``loss += reg``).
"""

from __future__ import annotations

import weakref

from torch import Tensor

# (a weak reference to the source, its copy, the source's version then); the aggregators' fast paths
# (``shim.metrics``) read it directly, as ``detached_by_put`` does, to spare an update a call.
last: tuple[weakref.ref[Tensor], Tensor, int] | None = None


def remember(source: Tensor, copy: Tensor) -> None:
    """Note that ``copy`` holds ``source`` out of the graph, squeezed to 0-d, in its float32/float64 dtype.

    ``source`` requires grad (an inference tensor, which has no version counter, never does)."""
    global last
    last = (weakref.ref(source), copy, source._version)


def detached_by_put(value: Tensor) -> Tensor | None:
    """The copy ``remember`` noted for ``value`` itself, unchanged since, else None. ``value`` requires grad."""
    noted = last
    if noted is not None and noted[0]() is value and noted[2] == value._version:
        return noted[1]
    return None
