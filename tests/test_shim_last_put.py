import gc
import weakref

import torch

from shim import last_put
from shim.metrics import Mean
from shim.put import to_put_tensor


def test_an_aggregator_reuses_the_tensor_put_detached_from_the_same_value():
    w = torch.tensor([2.0], requires_grad=True)
    loss = (w * 3).sum()
    put_value = to_put_tensor("loss", loss, None)
    assert last_put.detached_by_put(loss) is put_value
    assert last_put.detached_by_put((w * 3).sum()) is None  # an equal value, but another object
    mean = Mean()
    mean.update(loss, weight=2)
    mean.update((w * 5).sum(), weight=2)
    assert mean.compute().item() == 8.0 and not mean.compute().requires_grad


def test_the_source_is_not_kept_alive():
    w = torch.tensor(1.0, requires_grad=True)
    loss = w * 2
    to_put_tensor("loss", loss, None)
    source = weakref.ref(loss)
    del loss
    gc.collect()
    assert source() is None


def test_only_float32_and_float64_graph_results_are_remembered():
    w = torch.tensor(1.0, requires_grad=True)
    half = (w * 2).half()  # put converts it to the default dtype; an aggregator converts it itself
    to_put_tensor("half", half, None)
    assert last_put.detached_by_put(half) is None
    leaf = torch.tensor(1.0, requires_grad=True)  # put copies a leaf: not the aggregator's detach
    to_put_tensor("leaf", leaf, None)
    assert last_put.detached_by_put(leaf) is None
