import gc
import weakref

import pytest
import torch

from shim import last_put
from shim.metrics import Max, Mean, Sum
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


def test_only_float32_and_float64_values_needing_grad_are_remembered():
    w = torch.tensor(1.0, requires_grad=True)
    half = (w * 2).half()  # put converts it to the default dtype; an aggregator converts it itself
    to_put_tensor("half", half, None)
    assert last_put.detached_by_put(half) is None
    plain = torch.tensor(1.0)  # an aggregator needs no detach for it
    to_put_tensor("plain", plain, None)
    assert last_put.last is None or last_put.last[0]() is not plain
    leaf = torch.tensor(1.0, requires_grad=True)
    assert last_put.detached_by_put(leaf) is None
    put_value = to_put_tensor("leaf", leaf, None)
    assert last_put.detached_by_put(leaf) is put_value


@pytest.mark.parametrize("kind", [Mean, Sum, Max])
def test_a_value_changed_in_place_after_the_put_is_aggregated_as_it_is_now(kind):
    w = torch.tensor([2.0], requires_grad=True)
    loss = (w * 3).sum()
    put_value = to_put_tensor("loss", loss, None)
    loss += 1  # the aggregator sees 7, as a fresh detach would; the put keeps 6
    assert last_put.detached_by_put(loss) is None
    aggregator = kind()
    aggregator.update(loss)
    assert aggregator.compute().item() == 7.0 and put_value.item() == 6.0
