"""shim.metrics: Mean against Lightning's own ``_ResultMetric`` bit for bit, its host-side weight count (copies,
state_dict, sync), and the tensor operations an update or a put costs (counted, never timed)."""

from __future__ import annotations

import copy
import pickle

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _Metadata, _ResultMetric, _Sync
from torch.utils._python_dispatch import TorchDispatchMode

from shim import PutMixin
from shim.metrics import Max, Mean, Min, Sum


def lightning_mean() -> _ResultMetric:
    """What ``self.log(name, value, on_epoch=True, batch_size=w)`` aggregates into."""
    metric = _ResultMetric(_Metadata("training_step", "x", on_step=False, on_epoch=True), is_tensor=True)
    metric.meta.sync = _Sync()
    return metric


def same_bits(ours: torch.Tensor, expected: torch.Tensor) -> bool:
    """Equal values of one dtype, -0.0 told from 0.0; NaN equals NaN."""
    if ours.dtype != expected.dtype:
        return False
    if expected.isnan():
        return bool(ours.isnan())
    return torch.equal(ours, expected) and bool(torch.signbit(ours) == torch.signbit(expected))


def grad_result(value: float) -> torch.Tensor:
    return torch.tensor(value, requires_grad=True) * 1.0


SEQUENCES = {
    "batch sizes": [(torch.tensor(0.1), 16), (grad_result(0.3), 16), (torch.tensor(0.7), 16), (torch.tensor(0.9), 7)],
    "weights past float32's exact integers": [(torch.tensor(0.1), 2**24 + 1), (torch.tensor(0.3), 2**24 + 3),
                                              (torch.tensor(0.5), 1)],
    "a float weight midway": [(torch.tensor(0.1), 3), (torch.tensor(0.2), 0.5), (torch.tensor(0.3), 2**24),
                              (torch.tensor(0.4), 1), (torch.tensor(0.5), 1)],  # float32 sums round at each step
    "tensor weights": [(torch.tensor(0.1), torch.tensor(3)), (torch.tensor(0.2), 5), (torch.tensor(0.3), torch.tensor(2))],
    "a float64 weight tensor": [(torch.tensor(0.1), 3), (torch.tensor(0.2), torch.tensor(0.5, dtype=torch.float64)),
                                (torch.tensor(0.3), 2)],
    "float64 values": [(torch.tensor(0.1), 3), (torch.tensor(0.2, dtype=torch.float64), 2**24 + 1),
                       (torch.tensor(0.3), 5)],
    # Kept products are exact doubles rounded once: weights at float32's exact limit, full 24-bit significands,
    # products that overflow, underflow to subnormals or are -0.0, inf and NaN.
    "float32 products at the edges": [(torch.tensor(0.1), 3), (torch.tensor(1 - 2**-24), 2**24),
                                      (torch.tensor(1 + 2**-23), 2**24 - 1), (torch.tensor(1 + 2**-23), 2**24 + 1),
                                      (torch.tensor(3.4e38), 7),
                                      (torch.tensor(-3.4e38), 7), (torch.tensor(1.1e-44), 3), (torch.tensor(-0.0), 5),
                                      (torch.tensor(0.3), -(2**24)), (torch.tensor(2.5), 0)],
    "float32 inf and nan": [(torch.tensor(0.1), 3), (torch.tensor(float("inf")), 2), (torch.tensor(0.2), 2),
                            (torch.tensor(float("nan")), 2), (torch.tensor(0.5), 2)],
    "float64 products": [(torch.tensor(0.1, dtype=torch.float64), 3), (torch.tensor(1 / 3, dtype=torch.float64), 2**40 + 1),
                         (torch.tensor(1.7e308, dtype=torch.float64), 2), (torch.tensor(5e-324, dtype=torch.float64), 3),
                         (torch.tensor(0.7, dtype=torch.float64), 2**53 + 1)],
    "int and half values": [(torch.tensor(3), 2), (torch.tensor(0.1, dtype=torch.float16), 3), (torch.tensor([0.2]), 4)],
}


@pytest.mark.filterwarnings("ignore:.*converting it to|.*needs to be floating")
@pytest.mark.parametrize("updates", list(SEQUENCES.values()), ids=list(SEQUENCES))
def test_mean_equals_lightning_result_metric_bit_for_bit(updates):
    ours, at_end, lightning = Mean(), Mean(), lightning_mean()
    for value, weight in updates:
        ours.update(value, weight=weight)
        at_end.update(value, weight=weight)
        lightning.update(value.detach().squeeze(), weight)  # self.log squeezes before updating
        # ours computes after every update: folding the host-side count midway must not change later sums
        expected = lightning.compute()
        assert same_bits(ours.compute(), expected), (ours.compute().item(), expected.item())
    for mean in (ours, at_end):
        assert same_bits(mean.compute(), lightning.compute()) and same_bits(mean.weighted_sum, lightning.value)
        assert mean.weight.dtype == lightning.cumulated_batch_size.dtype
        assert torch.equal(mean.weight, lightning.cumulated_batch_size)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mean_adds_its_kept_products_as_lightning_adds_each_update(dtype):
    """Hundreds of updates (several passes of kept products), values over sixty orders of magnitude, mostly one
    weight (kept products) with others between (update(), which adds the kept products first), some in the
    autograd graph: Σv·w and Σw equal Lightning's bit for bit, read midway or only at the end."""
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(700, generator=generator, dtype=dtype) * torch.logspace(-30, 30, 700, dtype=dtype)
    values = values[torch.randperm(700, generator=generator)]
    read_midway, at_end, lightning = Mean(), Mean(), lightning_mean()
    for i, value in enumerate(values):
        weight = 7 if i % 97 == 96 else 16
        given = value.clone().requires_grad_() * 1.0 if i % 5 == 0 else value.clone()
        read_midway.update(given, weight=weight)
        at_end.update(given, weight=weight)
        lightning.update(value.clone(), weight)
        if i % 151 == 150:
            assert torch.equal(read_midway.compute(), lightning.compute())
    for mean in (read_midway, at_end):
        assert mean.weighted_sum.dtype == lightning.value.dtype == dtype
        assert torch.equal(mean.weighted_sum, lightning.value) and torch.equal(mean.weight, lightning.cumulated_batch_size)
        assert torch.equal(mean.compute(), lightning.compute())


def test_a_value_changed_in_place_after_its_update_is_aggregated_as_it_was():
    mean = Mean()
    value = torch.tensor(2.0)
    for _ in range(3):
        mean.update(value, weight=4)
    value.add_(100)  # the kept product was computed at the update
    assert mean.compute().item() == 2.0


def test_kept_products_survive_copies_and_a_promoting_update():
    mean = Mean()
    for v in (1.0, 2.0, 4.0):
        mean.update(torch.tensor(v), weight=2)  # the last two are kept products
    assert mean.__dict__["_products"]
    expected = mean.compute()
    copies = [pickle.loads(pickle.dumps(mean)), copy.deepcopy(mean), mean.clone(), mean.to("cpu")]
    for copied in copies:
        assert torch.equal(copied.compute(), expected)
    promoted = copy.deepcopy(mean)
    promoted.update(torch.tensor(8.0, dtype=torch.float64), weight=2)  # float64 promotes the sum, in order
    assert promoted.weighted_sum.dtype == torch.float64 and promoted.weighted_sum.item() == 30.0


def test_a_mean_pickled_by_a_shim_without_kept_products_loads():
    mean = updated_mean()
    mean.compute()  # that shim kept no products: all are in the state
    state = mean.__getstate__()
    total = state.pop("_weighted_sum_total")
    del state["_products"], state["_products_kept"]
    state["weighted_sum"] = total  # as the state sat in __dict__ before
    loaded = Mean.__new__(Mean)
    loaded.__setstate__(state)
    assert torch.equal(loaded.compute(), mean.compute())
    loaded.update(torch.tensor(1.0), weight=4)
    assert loaded.weight.item() == 8


def test_a_mean_pickled_with_kept_tensor_products_loads():
    """An earlier shim kept the CPU products as tensors; they load as the floats kept now."""
    mean = updated_mean()
    mean.update(torch.tensor(0.1), weight=7)
    expected = mean.compute()
    old = updated_mean()
    old.weighted_sum  # adds the floats kept so far
    state = old.__getstate__()
    state["_products"] = [torch.tensor(0.1) * torch.tensor(7.0)]  # as that shim kept the product
    loaded = Mean.__new__(Mean)
    loaded.__setstate__(state)
    loaded.__dict__["_weight_pending"] += 7
    assert torch.equal(loaded.compute(), expected)


def updated_mean(**kwargs) -> Mean:
    mean = Mean(**kwargs)
    mean.update(torch.tensor(2.0), weight=3)
    mean.update(torch.tensor(4.0), weight=1)  # Σw = 4, still host-side
    return mean


def test_host_side_weights_survive_copies():
    mean = updated_mean()
    expected = torch.tensor(10.0) / torch.tensor(4)
    for copied in (pickle.loads(pickle.dumps(mean)), copy.deepcopy(mean), mean.clone(), mean.to("cpu")):
        assert torch.equal(copied.compute(), expected)
        copied.update(torch.tensor(1.0), weight=2)  # a copy keeps counting its updates
        assert copied.update_count == 3 and copied.weight.item() == 6


@pytest.mark.parametrize("kind", [Mean, Sum, Max, Min])
def test_a_copy_pickled_into_shared_memory_updates_its_own_states(kind):
    """``ddp_spawn`` pickles the module to each rank with torch's reductions, which move CPU tensors into shared
    memory: the ranks' in-place updates must not reach one another's states (nor the main process's)."""
    from multiprocessing.reduction import ForkingPickler

    import torch.multiprocessing  # noqa: F401  (registers the shared-memory reductions)

    original = kind()
    original.update(torch.tensor(1.0))
    before = {name: state.clone() for name, state in original.metric_state.items()}
    rank = pickle.loads(ForkingPickler.dumps(original))
    rank.update(torch.tensor(-5.0 if kind is Min else 5.0))
    # States, not compute(): that would answer from its cache.
    assert all(torch.equal(state, before[name]) for name, state in original.metric_state.items())
    assert not all(torch.equal(state, before[name]) for name, state in rank.metric_state.items())


def test_host_side_weights_keep_state_dict_keys_and_load():
    mean = updated_mean()
    assert mean.state_dict() == {}  # states stay non-persistent: no new keys in checkpoints
    mean.persistent(True)
    assert mean.state_dict()["weight"].item() == 4
    other = Mean()
    other.persistent(True)
    other.update(torch.tensor(9.0), weight=5)
    other.load_state_dict(mean.state_dict())  # the loaded Σw replaces the host-side 5
    assert other.weight.item() == 4 and torch.equal(other.compute(), mean.compute())


def test_sync_reduces_the_host_side_weights():
    rank0, rank1 = updated_mean(), Mean()
    rank1.update(torch.tensor(6.0), weight=4)
    states_of_rank1 = {torch.float32: rank1.weighted_sum, torch.int64: rank1.weight}

    def gather(tensor, group=None):
        return [tensor, states_of_rank1[tensor.dtype]]

    rank0.sync(dist_sync_fn=gather, distributed_available=lambda: True)
    assert rank0.weight.item() == 8
    assert rank0.compute().item() == (10.0 + 24.0) / 8  # compute of a synced metric unsyncs it afterwards
    assert rank0.weight.item() == 4 and rank0.weighted_sum.item() == 10.0


class DispatchedOps(TorchDispatchMode):
    """The ATen operations run inside the block."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def ops_of(call) -> list[str]:
    with DispatchedOps() as dispatched:
        call()
    return dispatched.ops


def test_updates_cost_one_operation_per_state_change():
    loss = grad_result(2.0)
    detached = loss.detach()
    mean, high, low, total = Mean(), Max(), Min(), Sum()
    mean.update(loss, weight=16)
    # Σw is counted host-side; on the CPU each product is a Python float (one read of the value, in the graph or
    # not, and no tensor made), added when Σv·w is read (or every _PRODUCTS_KEPT updates), all in one pass.
    assert ops_of(lambda: mean.update(loss, weight=16)) == ["aten._local_scalar_dense.default"]
    assert ops_of(lambda: mean.update(detached, weight=16)) == ["aten._local_scalar_dense.default"]
    assert ops_of(lambda: mean.weighted_sum) == ["aten._local_scalar_dense.default", "aten.fill_.Scalar"]
    elsewhere = Mean().to("meta")  # off the CPU (a GPU) each product is added at once: numpy would sync
    one = torch.ones((), device="meta")
    elsewhere.update(one, weight=16)
    assert ops_of(lambda: elsewhere.update(one, weight=16)) == [
        "aten.mul.Tensor", "aten.add_.Tensor"]
    assert ops_of(lambda: high.update(loss)) == ["aten.detach.default", "aten.maximum.out"]
    assert ops_of(lambda: low.update(loss)) == ["aten.detach.default", "aten.minimum.out"]
    assert ops_of(lambda: total.update(loss)) == ["aten.detach.default", "aten.add_.Tensor"]


def test_update_books_once_per_call_in_subclasses_too():
    class Doubled(Mean):
        def update(self, value, weight=1):
            super().update(value * 2, weight)

    for mean in (Mean(), Doubled(), copy.deepcopy(Doubled())):
        mean.update(torch.tensor(1.0), weight=2)
        mean.update(torch.tensor(3.0), 2)
        assert mean.update_count == 2 and mean.update_called
    assert mean.compute().item() == (2.0 * 2 + 6.0 * 2) / 4


def _fast_path_values() -> list[tuple[object, object]]:
    """(value, weight) pairs covering the fast path of ``update`` on an instance and each way out of it."""
    forked = grad_result(0.25)
    return [
        (forked, 16), (forked, 16), (grad_result(0.5), 16), (torch.tensor(0.75), 16), (torch.tensor(1.5), 7),
        (torch.tensor(0.1, dtype=torch.float64), 7), (torch.tensor(0.3), 7), (grad_result(0.2) * torch.ones(1), 7),
        (torch.tensor(0.4, dtype=torch.float16), 7), (torch.tensor(2), 7), (torch.tensor(0.6), 2.5),
        (torch.tensor(0.7), torch.tensor(3)), (torch.tensor(0.8), True), (0.9, 4), (torch.tensor(1.1), 4),
    ]


@pytest.mark.filterwarnings("ignore:.*converting it to")
@pytest.mark.parametrize("kind", [Mean, Sum, Max, Min])
def test_an_instance_update_equals_the_class_update_on_every_path(kind, monkeypatch):
    # An instance's update() does the usual case in its own frame (0-d float32/float64 tensor, a state fit for
    # in-place updates, for Mean the int weight of the update before) and hands everything else to the class's
    # update(): the states, their dtypes and the books must be what the class's update() alone gives.
    fast, general = kind(), kind()
    general.update = general._lean_update  # the books, then type(self).update: no fast path
    class_calls = []
    full_update = kind.update
    monkeypatch.setattr(kind, "update", lambda self, *args: class_calls.append(self) or full_update(self, *args))
    for _ in range(2):
        for value, weight in _fast_path_values():
            args = (value, weight) if kind is Mean else (value,)
            fast.update(*args)
            general.update(*args)
            for name in fast._defaults:
                ours, theirs = getattr(fast, name), getattr(general, name)
                assert ours.dtype == theirs.dtype and torch.equal(ours, theirs), (name, value, weight)
            assert fast.update_count == general.update_count
        assert torch.equal(fast.compute(), general.compute())
        with torch.inference_mode():  # a reset under inference mode (trainer.validate()): in place would raise
            fast.reset()
            general.reset()
    taken = sum(1 for metric in class_calls if metric is fast)
    assert 0 < taken < sum(1 for metric in class_calls if metric is general)  # the fast path did run


class Module(PutMixin, pl.LightningModule):
    pass


def test_put_copies_every_tensor_with_one_copy():
    # A graph result too: the caller may change it in place after the put (``loss += reg``), as Lightning allows.
    module = Module()
    fresh, buffer, parameter = grad_result(2.0), torch.ones(()), torch.nn.Parameter(torch.ones(()))
    assert ops_of(lambda: module.put("fresh", fresh)) == ["aten.detach.default", "aten.clone.default"]
    assert ops_of(lambda: module.put("buffer", buffer)) == ["aten.clone.default"]
    assert ops_of(lambda: module.put("parameter", parameter)) == ["aten.detach.default", "aten.clone.default"]
    assert not any(record.value.requires_grad for record in module.put_records)


def test_keyed_metrics_aggregates_values_and_keeps_metrics():
    """KeyedMetrics: a value is averaged under its name and returned; a Metric is kept, its last forward result
    returned (None after only update(), as Lightning logs no step value then); items() in first-logged order;
    reset() resets the Metrics kept as well."""
    import torchmetrics

    from shim.metrics import KeyedMetrics

    keyed = KeyedMetrics(Mean)
    metric = torchmetrics.SumMetric()
    assert keyed.update("loss", torch.tensor(2.0), 2) == torch.tensor(2.0)
    assert keyed.update("sum", metric) is None  # no forward yet
    metric(torch.tensor(5.0))
    assert keyed.update("sum", metric) == torch.tensor(5.0)
    keyed.update("loss", torch.tensor(5.0), 1)
    assert [name for name, _ in keyed.items()] == ["loss", "sum"]
    values = {name: aggregator.compute() for name, aggregator in keyed.items()}
    assert values == {"loss": torch.tensor(3.0), "sum": torch.tensor(5.0)}
    assert "sum" not in dict(keyed.state_dict()) and not any("sum" in key for key in keyed.state_dict())
    keyed.reset()
    assert not any(aggregator.update_called for _, aggregator in keyed.items())
