"""``PutMixin`` and ``PutData``: hand finished values to the trainer, which only routes them.

This follows Lightning RFC #11715. Aggregation and sync are the caller's (torchmetrics, ``shim.metrics``);
``put`` converts the value the way ``self.log`` does and hands it to the trainer's router (``shim.routing``);
where no trainer routes it, a ``PutData`` record keeps it in ``put_records``.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

DESTINATIONS = ("callbacks", "loggers", "progress_bar")


@dataclass(slots=True)
class PutData:
    """One value put where no trainer routes it (no trainer attached, or no hook running): kept in
    ``put_records``. ``step``, ``hook`` and ``dataloader_idx`` describe a trainer's context, so they are ``None``
    there; inside a trainer the router stores the value without building a record.
    """

    name: str
    value: Tensor
    destinations: frozenset[str]
    timestamp: float = field(default_factory=time.time)
    step: int | None = None
    hook: str | None = None
    dataloader_idx: int | None = None


_ALL_DESTINATIONS = frozenset(DESTINATIONS)
CALLBACKS_ONLY = frozenset({"callbacks"})  # where a callback_alias goes
_CHECKED: dict[tuple[str, ...], frozenset[str]] = {}


def _check_destinations(name: str, key: tuple[str, ...]) -> frozenset[str]:
    """Validate a spelling of destinations that put() has not seen before and remember it in ``_CHECKED``."""
    unknown = sorted(set(key).difference(DESTINATIONS))
    if unknown:
        raise ValueError(
            f"put({name!r}): unknown destination(s) {unknown}; valid destinations are {list(DESTINATIONS)}"
        )
    chosen = _CHECKED[key] = frozenset(key)
    return chosen


_KEPT_DTYPES = (torch.float32, torch.float64)


def to_put_tensor(name: str, value: Any, module: Any) -> Tensor:
    """Convert a value as ``LightningModule.log`` does (semantics §3.1), without a host sync.

    Numbers become tensors on ``module``'s device (the LightningModule; None outside a trainer)."""
    if isinstance(value, Tensor):
        # A copy, as Lightning makes (``value.clone().detach()``): the caller may change the tensor in place after
        # the put (``loss += reg``, a buffer, strategy.reduce), and the value put must not follow.
        value = value.detach().clone() if value.requires_grad else value.clone()
        if value.ndim:
            if value.numel() != 1:
                raise ValueError(
                    f"put({name!r}): the tensor must have a single element, got shape {tuple(value.shape)};"
                    f" reduce it first, e.g. put({name!r}, value.mean())"
                )
            value = value.squeeze()
    elif type(value) is float or (isinstance(value, numbers.Number) and not isinstance(value, complex)):
        # Made in the default dtype, which the rule below keeps. A float is asked about before the ABC check.
        return _number_tensor(name, value, getattr(module, "device", None))
    else:
        if isinstance(value, (Mapping, str, bytes)):
            hint = "put_dict() takes a mapping" if isinstance(value, Mapping) else "strings cannot be put"
        else:
            hint = "put takes a number or a single-element tensor"
        raise TypeError(f"put({name!r}): {type(value).__name__} values cannot be put ({hint})")
    # Lightning's _ResultMetric.update: non-float -> default float dtype, f16/bf16 -> default dtype, f32/f64 kept.
    if value.dtype not in _KEPT_DTYPES:
        value = value.to(torch.get_default_dtype())
    return value


_EXACT_INT = 2**53  # the ints a double holds exactly
# (name, type, value, device, dtype) -> the tensor last made for it; bounded, see _number_tensor.
_NUMBER_TENSORS: dict[tuple[Any, ...], Tensor] = {}
_NUMBER_TENSORS_MAX = 256


def _number_tensor(name: str, value: float | numbers.Number, device: Any) -> Tensor:
    """``torch.tensor(value, dtype=<default>, device=device)``, as ``self.log`` makes it.

    ``torch.tensor`` converts a Python float or int through a double, so ``torch.full`` of that double gives the
    same bits at half the cost. ``torch.full`` raises where ``torch.tensor`` rounds to inf (beyond float32's range)
    and other number types convert differently: those take ``torch.tensor``.

    A number put under one name at every step (a learning rate, a constant) gets the tensor made for it last time
    while nothing has changed that tensor (its version is still 0, it needs no grad): the same value, dtype and
    device, without a tensor operation. Zero (0.0 and -0.0 are one key), NaN (never equal to itself), tensors
    made in inference mode (which keep no version) and those for no device (``torch.set_default_device`` decides
    theirs) are made afresh.
    """
    dtype = torch.get_default_dtype()
    kind = type(value)
    if kind is float or (kind is int and -_EXACT_INT <= value <= _EXACT_INT):  # type: ignore[operator]
        cacheable = device is not None and value and value == value and not torch.is_inference_mode_enabled()
        if cacheable:
            key = (name, kind, value, device, dtype)
            made = _NUMBER_TENSORS.get(key)
            if made is not None and not made._version and not made.requires_grad:
                return made
        try:
            made = torch.full((), float(value), dtype=dtype, device=device)  # type: ignore[arg-type]
        except RuntimeError:
            pass
        else:
            if cacheable:
                if len(_NUMBER_TENSORS) >= _NUMBER_TENSORS_MAX:
                    _NUMBER_TENSORS.clear()  # names or values that change every step: start afresh
                _NUMBER_TENSORS[key] = made
            return made
    return torch.tensor(value, dtype=dtype, device=device)


def _lightning_kind(cls: type) -> str | None:
    """'module' or 'callback' when ``cls`` derives from Lightning's LightningModule or Callback, else None.

    Checked by name so that neither ``lightning.pytorch`` nor ``pytorch_lightning`` has to be imported.
    """
    for klass in cls.__mro__:
        package = klass.__module__.split(".core", 1)[0].split(".callbacks", 1)[0]
        if package not in ("lightning.pytorch", "pytorch_lightning"):
            continue
        if klass.__name__ == "LightningModule":
            return "module"
        if klass.__name__ == "Callback":
            return "callback"
    return None


class _ModuleLogSlot:
    """``Callback.log``: Lightning assigns the module's bound ``log`` to every callback at the start of each run
    (``_CallbackConnector._attach_model_logging_functions``). Catching that assignment tells a callback which
    module and trainer it serves, without relying on user hooks calling ``super()``."""

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__["_put_module_log"]
        except KeyError:
            raise AttributeError("log") from None

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["_put_module_log"] = value
        module = getattr(value, "__self__", None)
        obj.__dict__["_put_module"] = module
        trainer = routing.trainer_of(module)
        if trainer is not None:
            routing.start_run(trainer)


class _TrainerSeam(property):
    """LightningModule.trainer, plus attaching the router whenever Lightning sets it."""


def _install_trainer_seam(cls: type) -> None:
    """Make ``module.trainer = trainer`` (done by Lightning at every fit/validate/test) attach the router and give
    the module's class slots for its aggregators (``shim.aggregator_slots``)."""
    base = next(k.__dict__["trainer"] for k in cls.__mro__[1:] if "trainer" in k.__dict__)

    def set_trainer(self: Any, trainer: Any) -> None:
        base.__set__(self, trainer)
        if trainer is not None:
            routing.start_run(trainer)
            add_aggregator_slots(self)  # those made in __init__, where the codemod makes them

    cls.trainer = _TrainerSeam(base.fget, set_trainer, doc=base.__doc__)  # type: ignore[attr-defined]


class PutMixin:
    """Adds ``put``/``put_dict`` to a LightningModule or a Callback: ``class Model(PutMixin, pl.LightningModule)``.

    Destinations are ``"callbacks"`` (``trainer.callback_metrics``: ModelCheckpoint, EarlyStopping, schedulers),
    ``"loggers"`` (merged into Lightning's own logger calls) and ``"progress_bar"``; ``None`` means all three.

    Epoch aggregates are computed in the compute hooks, which the router calls where Lightning computes
    ``self.log`` epoch values: after the epoch's last batch, before any ``on_*_epoch_end`` hook (callbacks' too).
    A LightningModule defines ``on_{train,validation,test}_epoch_compute(self)``; a Callback defines them with
    ``(self, trainer, pl_module)``. Logged Metrics are reset in ``on_{train,validation,test}_results_reset``, which
    the router calls where Lightning resets the stage's results (same signatures).
    """

    put_records: list[PutData]
    _put_kind: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls._put_kind = _lightning_kind(cls)
        if kind == "module" and not any(isinstance(k.__dict__.get("trainer"), _TrainerSeam) for k in cls.__mro__):
            _install_trainer_seam(cls)
        elif kind == "callback" and not any("log" in k.__dict__ for k in cls.__mro__):
            cls.log = _ModuleLogSlot()  # type: ignore[attr-defined]

    # -- the RFC's API ------------------------------------------------------------------------------------------

    def put(self, name: str, value: Any, destinations: Iterable[str] | str | None = None, *,
            callback_alias: str | None = None) -> None:
        """Hand ``value`` to the trainer under ``name`` for ``destinations`` (default: all).

        ``callback_alias``: the same value also under this name, for callbacks only. A value that ``self.log``
        forks (``on_step=True, on_epoch=True``) is one put: ``put("loss_step", v, dests, callback_alias="loss")``
        (``trainer.callback_metrics`` holds both names, loggers and the progress bar only ``loss_step``). It does
        what ``put(name, v, dests)`` followed by ``put(callback_alias, v, ["callbacks"])`` does, converting the
        value once.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"put: the name must be a non-empty string, got {name!r}")
        if callback_alias is not None and (not isinstance(callback_alias, str) or not callback_alias):
            raise ValueError(f"put({name!r}): callback_alias must be a non-empty string, got {callback_alias!r}")
        chosen: frozenset[str] | None
        if destinations is None:
            chosen = _ALL_DESTINATIONS
        else:
            key = (destinations,) if isinstance(destinations, str) else tuple(destinations)
            chosen = _CHECKED.get(key)  # put() is on the training hot path: each spelling is checked once
            if chosen is None:
                chosen = _check_destinations(name, key)
        # A Callback serves the module Lightning attached it to (None until then).
        module = self if self._put_kind == "module" else self.__dict__.get("_put_module")
        if type(value) is Tensor and not value.ndim and value.dtype in _KEPT_DTYPES:
            # to_put_tensor's usual case in this frame (a call costs put about a tenth): a 0-d float32/float64
            # tensor needs no squeeze and keeps its dtype; the copy is to_put_tensor's. ``.data`` is ``detach()``
            # without a trip through the dispatcher.
            value = value.data.clone() if value.requires_grad else value.clone()
        else:
            value = to_put_tensor(name, value, module)
        if routing.route(module, name, value, chosen, callback_alias):
            return
        # Outside a trainer (unit tests of a step method, say) the records are kept for inspection.
        records = self.__dict__.setdefault("put_records", [])
        records.append(PutData(name, value, chosen))
        if callback_alias is not None:
            records.append(PutData(callback_alias, value, CALLBACKS_ONLY))

    def put_dict(self, mapping: Mapping[str, Any], destinations: Iterable[str] | str | None = None) -> None:
        """``put`` every item of ``mapping``."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"put_dict takes a mapping of names to values, got {type(mapping).__name__}")
        for name, value in mapping.items():
            self.put(name, value, destinations)

    # -- compute and reset hooks: no-ops, so that an override can always call super() ----------------------------------

    def on_train_epoch_compute(self, *args: Any) -> None:
        """Compute, put and reset train epoch aggregates (module: ``()``; callback: ``(trainer, pl_module)``)."""

    def on_validation_epoch_compute(self, *args: Any) -> None:
        """Compute, put and reset validation epoch aggregates; called once per validation dataloader."""

    def on_test_epoch_compute(self, *args: Any) -> None:
        """Compute, put and reset test epoch aggregates; called once per test dataloader."""

    def on_train_results_reset(self, *args: Any) -> None:
        """Reset the Metrics logged in the train loop, where Lightning resets its train results: after the train
        epoch's logger call, so after every ``on_train_epoch_end`` hook (module: ``()``; callback: ``(trainer,
        pl_module)``)."""

    def on_validation_results_reset(self, *args: Any) -> None:
        """Reset the Metrics logged in the validation loop (sanity check included), where Lightning resets its
        validation results: after every ``on_validation_end`` hook."""

    def on_test_results_reset(self, *args: Any) -> None:
        """Reset the Metrics logged in the test loop, where Lightning resets its test results: after every
        ``on_test_end`` hook."""


def dataloader_suffix(trainer: Any, dataloader_idx: int) -> str:
    """``"/dataloader_idx_N"`` when Lightning would add it to a name logged from an eval hook, else ``""``."""
    return f"/dataloader_idx_{dataloader_idx}" if routing.dataloader_suffixes_apply(trainer) else ""


# At the bottom: routing imports PutData and PutMixin from this module, so it is imported once they exist, and
# put() does not pay a function-level import per value.
from shim import routing  # noqa: E402
from shim.aggregator_slots import add_aggregator_slots  # noqa: E402
