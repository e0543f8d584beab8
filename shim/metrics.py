"""Epoch aggregators that reproduce ``self.log``'s reductions bit for bit (semantics §3.2, §3.5).

Why not torchmetrics' ``MeanMetric``/``SumMetric``: their NaN handling either drops NaNs (Lightning propagates
them), costs a host sync on every ``update`` on GPU (``'warn'``, ``'ignore'``, ``'error'``, ``float('nan')``), or,
for ``MeanMetric(nan_strategy='disable')`` in torchmetrics 1.9, silently replaces the weights with ones
(torchmetrics #3434). They also cast float64 input to float32, where Lightning keeps float64. These classes are
torchmetrics ``Metric``s with Lightning's arithmetic: no NaN checks, no host sync, weights kept, f64 kept.

``sync_on_compute`` is the old ``sync_dist``. Mean syncs Σv·w and Σw with a sum, which is exact; Lightning
averages both and, on gloo, truncates the averaged count to an integer (semantics §5: 8.625 where the true mean is
7.667). States are not persistent, so adding an aggregator does not change ``state_dict()`` keys.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy
import torch
from torch import Tensor
from torchmetrics import Metric

from shim._warnings import warn_once
from shim.put import _KEPT_DTYPES

_FLOAT32, _FLOAT64 = _KEPT_DTYPES
_PRODUCTS_KEPT = 128  # Mean's products kept on the CPU before they are added (see Mean)
_EXACT_WEIGHT = 2**24  # the ints a float32 holds exactly: a float32 value times one is an exact double
_NUMPY_DTYPES = {_FLOAT32: numpy.float32, _FLOAT64: numpy.float64}


def _as_float_tensor(metric: Metric, value: Any) -> Tensor:
    """The value as ``_ResultMetric.update`` sees it: one element, squeezed, out of the autograd graph;
    float32/float64 kept, anything else -> default float dtype."""
    if not isinstance(value, Tensor):
        return torch.tensor(value, dtype=torch.get_default_dtype(), device=metric.device)
    if value.requires_grad:  # a tensor outside the graph needs no detach (one tensor op less per update)
        value = value.detach()
    if value.ndim:
        if value.numel() != 1:
            raise ValueError(
                f"{type(metric).__name__}.update: the value must have a single element, got shape {tuple(value.shape)}"
            )
        value = value.squeeze()
    if value.dtype not in _KEPT_DTYPES:
        if not value.is_floating_point():
            warn_once(
                f"{type(metric).__name__}: a {value.dtype} value was aggregated; converting it to"
                f" {torch.get_default_dtype()} as self.log does."
            )
        value = value.to(torch.get_default_dtype())
    return value


def _in_place_ok(metric: Metric, state: Tensor, dtype: torch.dtype) -> bool:
    """Whether ``state`` can be updated in place by a value of ``dtype``: the same dtype (else Lightning's `+`
    promotes), and not an inference tensor outside inference mode (a reset inside ``trainer.validate()`` makes
    states under ``inference_mode``).

    A tensor's dtype and inference flag never change, so a state found fit is remembered with the dtype
    (``_fit_state``) while it is the state: the checks cost an update two getters and a method call otherwise.
    """
    fields = metric.__dict__
    fit = fields["_fit_state"]
    if fit[0] is state and fit[1] is dtype:
        return True
    if dtype != state.dtype:
        return False
    if not state.is_inference():
        fields["_fit_state"] = (state, dtype)
        return True
    return torch.is_inference_mode_enabled()


class _Aggregator(Metric):
    full_state_update = False
    higher_is_better = None

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        # torchmetrics' default is sync_on_compute=True; self.log's default (sync_dist=False) is rank-local.
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.__dict__["_fit_state"] = (None, None)  # see _in_place_ok
        self._use_lean_update()

    def _use_lean_update(self) -> None:
        """Replace torchmetrics' per-instance ``update`` wrapper with one that keeps the same books, cheaper.

        The wrapper clears the compute cache and counts updates through ``nn.Module.__setattr__`` and enters a
        grad-mode context: about a third of an update's cost, paid every step. These aggregators detach their
        input, so the grad context is moot, and the two fields are plain attributes. If a torchmetrics release
        renames them, the standard wrapper stays. The shim's own ``update`` methods get ``_counted_update``, which
        passes their arguments explicitly (forwarding ``*args, **kwargs`` costs 7% of an update); a
        subclass's own ``update`` gets the generic ``_lean_update``.
        """
        fields = self.__dict__
        if isinstance(fields.get("_update_count"), int) and "_computed" in fields:
            own = type(self).update in _SHIM_UPDATES
            self.update = self._counted_update if own else self._lean_update  # type: ignore[method-assign]

    def _lean_update(self, *args: Any, **kwargs: Any) -> None:
        fields = self.__dict__
        fields["_computed"] = None
        fields["_update_count"] += 1
        type(self).update(self, *args, **kwargs)

    # Sum, Max, Min: the state a value is folded into, and the in-place fold (``update`` uses it too).
    _state_name: str
    _fold: Callable[[Tensor, Tensor], Any]

    def _counted_update(self, value: Any) -> None:  # Sum, Max, Min: the books of _lean_update, then update()
        fields = self.__dict__
        fields["_computed"] = None
        fields["_update_count"] += 1
        # update()'s usual case in this frame (its calls are a third of an update): a 0-d float32/float64 tensor
        # folded into a state found fit for in-place updates (_in_place_ok). Anything else takes update().
        if type(value) is Tensor:
            if value.requires_grad:
                value = value.data  # detach() without the dispatcher: type(value) is Tensor here
            dtype = value.dtype
            if not value.ndim and (dtype is _FLOAT32 or dtype is _FLOAT64):
                state = fields[self._state_name]
                fit = fields["_fit_state"]
                if fit[0] is state and fit[1] is dtype:
                    self._fold(state, value)
                    return
        type(self).update(self, value)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # torchmetrics re-wraps update after unpickling (ddp_spawn, deepcopy)
        self._unshare_states()
        self._use_lean_update()

    def _unshare_states(self) -> None:
        """Give each state tensor that arrived in shared memory a private copy.

        ``mp.spawn`` (``strategy="ddp_spawn"``) moves every CPU tensor it pickles into shared memory, so the ranks
        and the main process would hold one storage per state, and the in-place updates above would add every
        rank's values into it. Lightning copies a module's parameters and buffers for the same reason
        (``_disable_module_memory_sharing``); metric states are neither, and a callback's are not reached at all.
        """
        for name in self._defaults:
            value = getattr(self, name)
            if isinstance(value, Tensor) and value.is_shared():
                setattr(self, name, value.clone())
        # The state found fit for in-place updates (_in_place_ok) may be one just replaced; absent when an earlier
        # shim pickled this one.
        self.__dict__["_fit_state"] = (None, None)


class Mean(_Aggregator):
    """Weighted mean: ``update(value, weight)`` with ``weight`` the batch size; ``compute() = Σv·w / Σw``.

    Σw is an int64 tensor, as Lightning's ``cumulated_batch_size`` (a float weight promotes it to float32, as
    there). Python int weights are summed host-side and folded into the tensor whenever ``weight`` is read
    (compute, sync, device moves, state_dict): a tensor operation less per update, the same integer sum.

    On the CPU, Σv·w is added up the same way: the usual update keeps its product ``v·w`` as a Python float,
    ``value.item() * w`` (taken at the update, so a later in-place change of ``v`` cannot reach it); whenever
    ``weighted_sum`` is read, and every ``_PRODUCTS_KEPT`` updates, the kept products are rounded to the state's
    dtype and added to the state in order with numpy's ``add.accumulate``, one rounding per addition in that dtype,
    as that many ``add_(v * w)`` calls would round. The float is Lightning's product exactly: for a float64 value
    the double multiplication is the one torch does; for a float32 value and ``|w| <= 2**24`` the double product is
    exact (24 + 24 significant bits), so rounding it to float32 once gives the float32 product. Other weights, and
    values off the CPU (where ``item()`` would cost a host sync), take the tensor product, added at once.
    Copies (pickle, deepcopy) carry the host-side parts along.
    """

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self._weight_factor: tuple[int, torch.dtype, Tensor] | None = None  # (w, dtype, tensor(w) in that dtype)
        self.add_state("weighted_sum", torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("weight", torch.tensor(0), dist_reduce_fx="sum")

    @property
    def weight(self) -> Tensor:
        """Σw: the tensor state with the host-side int weights folded in."""
        fields = self.__dict__
        pending = fields["_weight_pending"]
        if pending:
            # A new tensor, not add_: whoever read the state before (torchmetrics' sync cache) keeps its value.
            fields["_weight_total"] = fields["_weight_total"] + pending
            fields["_weight_pending"] = 0
        return fields["_weight_total"]

    @weight.setter
    def weight(self, value: Tensor) -> None:  # add_state, reset, sync, device moves, load_state_dict
        fields = self.__dict__
        fields["_weight_total"] = value
        fields["_weight_pending"] = 0
        fields["_weight_counts_ints"] = not value.dtype.is_floating_point  # else int weights promote it now

    @property
    def weighted_sum(self) -> Tensor:
        """Σv·w: the tensor state with the kept products added."""
        fields = self.__dict__
        if fields["_products"]:
            self._add_products()
        return fields["_weighted_sum_total"]

    @weighted_sum.setter
    def weighted_sum(self, value: Tensor) -> None:  # add_state, reset, sync, device moves, a promoting update
        fields = self.__dict__
        fields["_weighted_sum_total"] = value
        fields["_products"] = []
        fields["_products_kept"] = value.device.type == "cpu"

    def _add_products(self) -> None:
        """Add the kept products to Σv·w in order, in place (as each ``add_`` was), with one rounding each."""
        fields = self.__dict__
        total, products = fields["_weighted_sum_total"], fields["_products"]
        fields["_products"] = []
        # Each product rounded once to the state's dtype (exact doubles, see the class docstring), then a
        # sequential sum: each running sum is rounded to the dtype before the next product is added.
        terms = numpy.array([total.item(), *products], dtype=numpy.float64).astype(_NUMPY_DTYPES[total.dtype])
        total.fill_(numpy.add.accumulate(terms)[-1].item())  # read as a Python float and back: the same bits

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "weighted_sum" in state:  # pickled by a shim that kept the state itself in __dict__
            total = state.pop("weighted_sum")
            state.update(_weighted_sum_total=total, _products=[], _products_kept=total.device.type == "cpu")
        else:  # an earlier shim kept the products as tensors, already rounded to the state's dtype
            state["_products"] = [float(product) for product in state.get("_products", ())]
        super().__setstate__(state)
        self.weight = self.weight  # a copy pickled by an earlier shim lacks _weight_counts_ints

    def _counted_update(self, value: Any, weight: Any = 1) -> None:  # the books of _lean_update, then update()
        fields = self.__dict__
        fields["_computed"] = None
        fields["_update_count"] += 1
        # update()'s usual case in this frame (its calls are a third of an update): a 0-d float32/float64 CPU tensor,
        # an int weight whose products are exact doubles (see the class docstring), Σw counting ints, and a weighted
        # sum on the CPU found fit for in-place updates (_in_place_ok). Anything else takes update().
        if type(value) is Tensor and type(weight) is int and fields["_products_kept"] and value.is_cpu:
            dtype = value.dtype
            exact = dtype is _FLOAT64 or (dtype is _FLOAT32 and -_EXACT_WEIGHT <= weight <= _EXACT_WEIGHT)
            if exact and not value.ndim:
                fit = fields["_fit_state"]
                if fit[0] is fields["_weighted_sum_total"] and fit[1] is dtype and fields["_weight_counts_ints"]:
                    products = fields["_products"]
                    products.append(value.item() * weight)  # item() reads a graph result too: no detach needed
                    if len(products) >= _PRODUCTS_KEPT:
                        self._add_products()
                    fields["_weight_pending"] += weight
                    return
        type(self).update(self, value, weight)

    def update(self, value: Any, weight: Any = 1) -> None:
        value = _as_float_tensor(self, value)
        fields = self.__dict__
        int_weight = type(weight) is int
        if int_weight:
            # Both `value * w` and `value * tensor(w).to(value.dtype)` cast w to the value's dtype, then multiply:
            # the same bits, without wrapping w in a new tensor at every update.
            factor = fields["_weight_factor"]
            dtype = value.dtype
            if factor is None or factor[0] != weight or factor[1] != dtype:
                factor = fields["_weight_factor"] = (weight, dtype, torch.tensor(weight).to(dtype))
            product = value * factor[2]
        else:
            product = value * weight
            dtype = product.dtype
        weighted_sum = self.weighted_sum  # the kept products added first: the order of the sum is kept
        if _in_place_ok(self, weighted_sum, dtype):
            # In place: rebinding a state goes through nn.Module.__setattr__, the slowest part of an update.
            weighted_sum.add_(product)
        else:
            # A float64 value (or weight tensor) promotes the sum to float64, as Lightning's `value + v * bs` does
            # (RES:232-235).
            self.weighted_sum = weighted_sum + product
        if int_weight and fields["_weight_counts_ints"]:
            fields["_weight_pending"] += weight  # exact, as the int64 sum it stands for
        else:
            self.weight = self.weight + weight  # Lightning's promotion (int64 + float -> float32), in its order

    def compute(self) -> Tensor:
        return self.weighted_sum / self.weight


class Sum(_Aggregator):
    """Sum of the values; weights (batch sizes) do not apply, as with ``reduce_fx='sum'``."""

    total: Tensor  # a state registered by add_state
    _state_name = "total"
    _fold = staticmethod(Tensor.add_)

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("total", torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: Any) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self, self.total, value.dtype):
            self._fold(self.total, value)
        else:
            self.total = self.total + value

    def compute(self) -> Tensor:
        return self.total


class Max(_Aggregator):
    """Largest value; NaN propagates (``torch.max``), as with ``reduce_fx='max'``."""

    full_state_update = True
    extreme: Tensor  # a state registered by add_state
    _state_name = "extreme"

    @staticmethod
    def _fold(extreme: Tensor, value: Tensor) -> None:
        torch.maximum(extreme, value, out=extreme)

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("extreme", torch.tensor(float("-inf")), dist_reduce_fx="max")

    def update(self, value: Any) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self, self.extreme, value.dtype):
            self._fold(self.extreme, value)
        else:
            self.extreme = torch.max(self.extreme, value)

    def compute(self) -> Tensor:
        return self.extreme


class Min(_Aggregator):
    """Smallest value; NaN propagates (``torch.min``), as with ``reduce_fx='min'``."""

    full_state_update = True
    extreme: Tensor  # a state registered by add_state
    _state_name = "extreme"

    @staticmethod
    def _fold(extreme: Tensor, value: Tensor) -> None:
        torch.minimum(extreme, value, out=extreme)

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("extreme", torch.tensor(float("inf")), dist_reduce_fx="min")

    def update(self, value: Any) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self, self.extreme, value.dtype):
            self._fold(self.extreme, value)
        else:
            self.extreme = torch.min(self.extreme, value)

    def compute(self) -> Tensor:
        return self.extreme


_SHIM_UPDATES = frozenset({Mean.update, Sum.update, Max.update, Min.update})


class _LazyAggregators(torch.nn.Module):
    """Aggregators created on first use, on the device of the module that owns this container.

    Created aggregators are submodules (``.to(device)`` and DDP see them); their states are not persistent and a
    non-persistent buffer tracks the device, so ``state_dict()`` keys do not change as aggregators appear.
    """

    def __init__(self, factory: Callable[[], Metric]) -> None:
        super().__init__()
        self.factory = factory
        self.aggregators = torch.nn.ModuleDict()
        self._keys: dict[Any, str] = {}  # user key -> submodule name (ModuleDict names cannot hold "." or "/")
        self._device_probe: Tensor
        self.register_buffer("_device_probe", torch.zeros(()), persistent=False)

    def _aggregator(self, key: Any) -> Metric:
        name = self._keys.get(key)
        if name is None:
            name = self._keys[key] = f"a{len(self._keys)}"
            self.aggregators[name] = self.factory().to(self._device_probe.device)
        return self.aggregators[name]  # type: ignore[return-value]

    def _items(self) -> Iterator[tuple[Any, Metric]]:
        # Insertion order: the same on every rank when every rank runs the same code, as sync requires.
        for key, name in self._keys.items():
            yield key, self.aggregators[name]  # type: ignore[misc]


class PerDataloader(_LazyAggregators):
    """One aggregator per eval dataloader.

    ``self.val_loss = PerDataloader(Mean)``; ``self.val_loss[dataloader_idx].update(loss, weight=n)`` in
    ``validation_step``; ``for suffix, agg in self.val_loss.items(self.trainer)`` in the compute hook, where
    ``suffix`` is ``"/dataloader_idx_N"`` exactly when Lightning would add it (several dataloaders, sequential).
    """

    def __getitem__(self, dataloader_idx: int) -> Metric:
        return self._aggregator(int(dataloader_idx))

    def items(self, trainer: Any) -> Iterator[tuple[str, Metric]]:
        from shim.routing import dataloader_suffixes_apply

        several = dataloader_suffixes_apply(trainer)
        for idx, aggregator in self._items():
            yield (f"/dataloader_idx_{idx}" if several else ""), aggregator


class Keyed(_LazyAggregators):
    """One aggregator per name, for ``log_dict`` of a mapping whose keys are only known at run time.

    ``self.val_metrics = Keyed(Mean)``; ``for name, value in metrics.items(): self.val_metrics[name].update(value)``
    at the log site; ``for name, agg in self.val_metrics.items(): ...`` in the compute hook.
    """

    def __getitem__(self, name: str) -> Metric:
        return self._aggregator(name)

    def items(self) -> Iterator[tuple[str, Metric]]:
        return self._items()


class KeyedMetrics(Keyed):
    """``Keyed`` for a mapping whose values may be torchmetrics ``Metric`` objects as well as values (semantics §3.4).

    ``value = self.logs.update(name, value, weight)`` at the log site: a value is aggregated under ``name`` and
    returned; a Metric is kept under ``name`` and its step value returned, the result of its last forward
    (torchmetrics' ``_forward_cache``, what Lightning logs; None after only ``update()``, when Lightning logs no
    step value). ``items()`` gives aggregators and Metrics in first-logged order, so the compute hook puts each
    one's ``compute()`` alike; ``reset()`` resets both, where Lightning resets logged Metrics.
    """

    def __init__(self, factory: Callable[[], Metric]) -> None:
        super().__init__(factory)
        self._order: dict[str, None] = {}
        self._metrics: dict[str, Metric] = {}  # the user's Metrics: neither submodules here nor state_dict keys

    def update(self, name: str, value: Any, weight: Any = None) -> Any:
        """Aggregate ``value`` (``weight`` for a mean) or keep a Metric; the step value Lightning logs for it."""
        self._order.setdefault(name, None)
        if isinstance(value, Metric):
            self._metrics[name] = value
            return value._forward_cache
        aggregator = self[name]
        if weight is None:
            aggregator.update(value)
        else:
            aggregator.update(value, weight)
        return value

    def items(self) -> Iterator[tuple[str, Metric]]:
        aggregators = dict(self._items())
        for name in self._order:
            yield name, self._metrics[name] if name in self._metrics else aggregators[name]

    def reset(self) -> None:
        """Reset every aggregator and every Metric kept (Lightning resets the Metrics it logged)."""
        for _, metric in self.items():
            metric.reset()


_AGGREGATORS: dict[str, type[_Aggregator]] = {"mean": Mean, "sum": Sum, "max": Max, "min": Min}


class HookValues:
    """The values one call of an epoch-level hook (``on_validation_epoch_end``, ``on_train_start``, ...) logs.

    ``self.log`` keeps one mean per name over the calls of one hook invocation, weighted by ``batch_size`` (1 when
    not given: no batch is in flight there), and computes it when the hook returns (semantics §3.3, §4). The same
    name logged twice in one invocation is therefore averaged, and with different options it raises. ``values =
    HookValues(self)`` at the top of the hook, ``values.update(name, v, destinations, ...)`` where it logged, and
    ``values.put()`` where it returns; the names may be computed at run time. One ``Keyed`` per set of options
    holds the aggregators, created on the module's device.
    """


    def __init__(self, owner: Any) -> None:
        self.owner = owner  # the LightningModule or Callback whose put() the values go through
        self._options: dict[str, tuple[Any, ...]] = {}  # name -> its options, in first-logged order
        self._keyed: dict[tuple[Any, ...], Keyed] = {}

    def update(
        self,
        name: str,
        value: Any,
        destinations: Iterable[str],
        *,
        reduce: str = "mean",
        sync: bool = False,
        group: Any = None,
        weight: Any = 1,
    ) -> None:
        """Add one logged value of ``name``; ``weight`` applies to the mean only, as ``batch_size`` does."""
        options = (tuple(destinations), reduce, sync, group)
        known = self._options.setdefault(name, options)
        if known != options:
            raise _misconfiguration(
                self._module(),
                f"You called `self.log({name}, ...)` twice in `{self._hook()}` with different arguments."
                " This is not allowed",
            )
        keyed = self._keyed.get(options)
        if keyed is None:
            kind = _AGGREGATORS[reduce]
            factory = functools.partial(kind, sync_on_compute=sync, process_group=group) if sync else kind
            keyed = self._keyed[options] = Keyed(factory)
            device = getattr(self._module(), "device", None)
            if device is not None:
                keyed.to(device)
        if reduce == "mean":
            keyed[name].update(value, weight)
        else:
            keyed[name].update(value)

    def put(self) -> None:
        """Put every name's value, in the order the names were first logged (Lightning's order)."""
        for name, options in self._options.items():
            self.owner.put(name, self._keyed[options][name].compute(), options[0])
        self._options.clear()
        self._keyed.clear()

    def _module(self) -> Any:
        owner = self.owner
        return owner if getattr(owner, "_put_kind", None) == "module" else owner.__dict__.get("_put_module")

    def _hook(self) -> str | None:
        return getattr(self._module(), "_current_fx_name", None)


def _misconfiguration(module: Any, message: str) -> Exception:
    """Lightning's ``MisconfigurationException`` from the package ``module`` comes from (``lightning.pytorch`` or
    ``pytorch_lightning``), without importing either here; a ``RuntimeError`` outside Lightning."""
    for klass in type(module).__mro__:
        package = klass.__module__.split(".core", 1)[0]
        if klass.__name__ == "LightningModule" and package in ("lightning.pytorch", "pytorch_lightning"):
            exceptions = importlib.import_module(f"{package}.utilities.exceptions")
            return exceptions.MisconfigurationException(message)
    return RuntimeError(message)
