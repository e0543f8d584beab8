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

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from shim._warnings import warn_once


def _as_float_tensor(metric: Metric, value: Any) -> Tensor:
    """The value as ``_ResultMetric.update`` sees it: one element, squeezed; float32/float64 kept, anything else
    -> default float dtype."""
    if not isinstance(value, Tensor):
        return torch.tensor(value, dtype=torch.get_default_dtype(), device=metric.device)
    value = value.detach()
    if value.dim():
        if value.numel() != 1:
            raise ValueError(
                f"{type(metric).__name__}.update: the value must have a single element, got shape {tuple(value.shape)}"
            )
        value = value.squeeze()
    if not torch.is_floating_point(value):
        warn_once(
            f"{type(metric).__name__}: a {value.dtype} value was aggregated; converting it to"
            f" {torch.get_default_dtype()} as self.log does."
        )
    if value.dtype not in (torch.float32, torch.float64):
        value = value.to(torch.get_default_dtype())
    return value


def _in_place_ok(state: Tensor, value: Tensor) -> bool:
    """Whether ``state`` can be updated in place: same dtype (else Lightning's `+` promotes), and not an inference
    tensor outside inference mode (a reset inside ``trainer.validate()`` makes states under ``inference_mode``)."""
    return value.dtype == state.dtype and (torch.is_inference_mode_enabled() or not state.is_inference())


class _Aggregator(Metric):
    full_state_update = False
    higher_is_better = None

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        # torchmetrics' default is sync_on_compute=True; self.log's default (sync_dist=False) is rank-local.
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self._use_lean_update()

    def _use_lean_update(self) -> None:
        """Replace torchmetrics' per-instance ``update`` wrapper with one that keeps the same books, cheaper.

        The wrapper clears the compute cache and counts updates through ``nn.Module.__setattr__`` and enters a
        grad-mode context: about a third of an update's cost, paid every step. These aggregators detach their
        input, so the grad context is moot, and the two fields are plain attributes. If a torchmetrics release
        renames them, the standard wrapper stays.
        """
        if isinstance(self.__dict__.get("_update_count"), int) and "_computed" in self.__dict__:
            self.update = self._lean_update  # type: ignore[method-assign]

    def _lean_update(self, *args: Any, **kwargs: Any) -> None:
        fields = self.__dict__
        fields["_computed"] = None
        fields["_update_count"] += 1
        type(self).update(self, *args, **kwargs)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # torchmetrics re-wraps update after unpickling (ddp_spawn, deepcopy)
        self._use_lean_update()


class Mean(_Aggregator):
    """Weighted mean: ``update(value, weight)`` with ``weight`` the batch size; ``compute() = Σv·w / Σw``."""

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("weighted_sum", torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("weight", torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: Any, weight: Any = 1) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self.weighted_sum, value) and _in_place_ok(self.weight, value):
            # In place: rebinding a state goes through nn.Module.__setattr__, the slowest part of an update.
            self.weighted_sum.add_(value * weight)
            self.weight.add_(weight)
        else:
            # float64 input promotes the sum to float64, as Lightning's `value + v * bs` does (RES:232-235).
            self.weighted_sum = self.weighted_sum + value * weight
            self.weight = self.weight + weight

    def compute(self) -> Tensor:
        return self.weighted_sum / self.weight


class Sum(_Aggregator):
    """Sum of the values; weights (batch sizes) do not apply, as with ``reduce_fx='sum'``."""

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("total", torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: Any) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self.total, value):
            self.total.add_(value)
        else:
            self.total = self.total + value

    def compute(self) -> Tensor:
        return self.total


class Max(_Aggregator):
    """Largest value; NaN propagates (``torch.max``), as with ``reduce_fx='max'``."""

    full_state_update = True

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("extreme", torch.tensor(float("-inf")), dist_reduce_fx="max")

    def update(self, value: Any) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self.extreme, value):
            torch.maximum(self.extreme, value, out=self.extreme)
        else:
            self.extreme = torch.max(self.extreme, value)

    def compute(self) -> Tensor:
        return self.extreme


class Min(_Aggregator):
    """Smallest value; NaN propagates (``torch.min``), as with ``reduce_fx='min'``."""

    full_state_update = True

    def __init__(self, sync_on_compute: bool = False, **kwargs: Any) -> None:
        super().__init__(sync_on_compute=sync_on_compute, **kwargs)
        self.add_state("extreme", torch.tensor(float("inf")), dist_reduce_fx="min")

    def update(self, value: Any) -> None:
        value = _as_float_tensor(self, value)
        if _in_place_ok(self.extreme, value):
            torch.minimum(self.extreme, value, out=self.extreme)
        else:
            self.extreme = torch.min(self.extreme, value)

    def compute(self) -> Tensor:
        return self.extreme


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
