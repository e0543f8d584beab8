"""Trainer-side routing of ``put`` records: the one module that touches Lightning internals.

Runs on ``lightning`` and ``pytorch_lightning`` 2.0 through 2.6 (the same code under two package names; the range
is ``shim.versions.SUPPORTED``, CI runs it in scripts/compat.sh). Where releases differ, a feature check decides:
2.0 marks the epoch end with ``_epoch_end_reached`` where 2.1+ has ``_first_loop_iter``, and its eval loop has no
``_is_sequential``. Private Lightning APIs used here, and nowhere else in ``shim``:

- ``trainer._logger_connector`` (``_LoggerConnector``): its class is swapped, per trainer instance, for a subclass
  that overrides ``metrics``, ``callback_metrics``, ``logged_metrics``, ``progress_bar_metrics``, ``log_metrics``,
  ``reset_results``, ``epoch_end_reached``, ``on_batch_start`` and ``update_eval_epoch_metrics``, and reads
  ``_first_loop_iter`` (2.0: ``_epoch_end_reached``), ``_callback_metrics``, ``_logged_metrics``,
  ``_progress_bar_metrics``;
- ``trainer._results`` (the active ``_ResultCollection``: its identity, ``training`` and ``dataloader_idx``),
  ``trainer._active_loop`` (``_is_sequential``, from 2.1; ``num_dataloaders``);
- ``LightningModule._current_fx_name``, ``LightningModule._trainer`` and ``_FxValidator.functions`` (which hooks may log, and how).

Design (semantics §6): a put record is an extra entry of the active result collection. Lightning builds every
logger call, ``callback_metrics``, ``progress_bar_metrics`` and ``validate()``/``test()`` result from
``_LoggerConnector.metrics``; merging the records there keeps Lightning's grouping, steps, ``epoch`` key,
``log_every_n_steps`` gating, accumulation skips and sanity-check silence. The router itself never reduces,
syncs or computes: it stores tensors and converts them to Python numbers only when a destination consumes them,
all values of one call in one transfer.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections import defaultdict
from typing import Any

import torch
from torch import Tensor

from shim import versions
from shim.put import CALLBACKS_ONLY, PutMixin

_DATALOADER_SUFFIX = re.compile(r"/dataloader_idx_(\d+)$")
_ROUTING_CLASSES: dict[type, type] = {}
_ABSENT = object()


class _Records:
    """Put values of one result collection: step values (batch hooks) as ``(value, destinations)`` by ``(hook,
    name, dataloader_idx)``, epoch values (epoch hooks) as ``(value, destinations, dataloader_idx)`` by name.

    Step values are kept per hook as Lightning keeps them (its key is the hook and the name): where two hooks put
    one name, the dicts hold the value of the hook that put it first later in the collection's life, even when
    that value is older (a callback that puts every N steps overrides ``training_step``'s value until the epoch
    ends).

    Plain tuples, not ``PutData``: nothing reads a record inside a trainer but the merge below, and building one
    cost a sixth of a put.
    """

    __slots__ = ("step", "epoch", "hooks")

    def __init__(self) -> None:
        # None: the hook's value since the collection's reset, before it puts again (its place is kept).
        self.step: dict[tuple[str, str, int | None], tuple[Tensor, frozenset[str]] | None] = {}
        self.epoch: dict[str, tuple[Tensor, frozenset[str], int | None]] = {}
        # Epoch-level hook name -> the values its calls collect (``shim.hook_scope``), computed at each extraction.
        self.hooks: dict[str, Any] = {}


class _Target:
    """Where puts from one hook go while one trainer function and stage run.

    Cached per hook name: put() is on the hot path, and each loop owns one result collection for its whole life
    (TEL:92, EVL:75), so the (function, stage) pair decides the collection.
    """

    __slots__ = ("fn", "stage", "is_step", "results", "records", "dropped")

    def __init__(self, fn: Any, stage: Any, is_step: bool | None, results: Any, records: _Records | None,
                 dropped: bool) -> None:
        self.fn, self.stage, self.is_step, self.results, self.records = fn, stage, is_step, results, records
        self.dropped = dropped  # Trainer(barebones=True): Lightning drops self.log, so puts are dropped too


def to_python(tensors: dict[str, Tensor]) -> dict[str, float]:
    """Python floats for tensors, with one device-to-host transfer per device instead of one ``.item()`` each."""
    keys_by_device: dict[torch.device, list[str]] = defaultdict(list)
    for key, value in tensors.items():
        keys_by_device[value.device].append(key)
    out: dict[str, float] = {}
    for keys in keys_by_device.values():
        # float64 holds every float32/float64 value exactly, so the floats equal Lightning's per-key .item().
        stacked = torch.stack([tensors[k].detach().reshape(()).to(torch.float64) for k in keys])
        out.update(zip(keys, stacked.tolist()))
    return out


class _RoutingConnector:
    """Mixed into the trainer's ``_LoggerConnector`` class by ``attach``."""

    _put_records: dict[int, _Records]
    # Ids of the result collections anything was ever put into or a batch ran in -> their results-reset hook.
    _put_collections: dict[int, str]
    _put_targets: dict[str, _Target]
    _put_eval_compute_due: bool
    _put_callbacks_placed: bool = False
    _put_active: tuple[Any, Any, Any] | None = None  # (fn, stage, trainer._results), see _put_active_results
    # Provided by Lightning's _LoggerConnector, the class this is mixed into.
    trainer: Any
    _callback_metrics: dict[str, Tensor]
    _logged_metrics: dict[str, Tensor]
    _progress_bar_metrics: dict[str, Any]  # floats, and tensors until progress_bar_metrics converts them
    _epoch_end_reached: bool  # Lightning 2.0 only

    # -- records ------------------------------------------------------------------------------------------------

    def _put_new_target(self, fx: str) -> _Target:
        """Where puts from hook ``fx`` go in the running trainer function and stage (cached by ``route``)."""
        state = self.trainer.state
        is_step = _is_step_hook(self, fx)
        results = records = None
        if is_step is not None:
            results = self.trainer._results
            records = self._put_records.get(id(results))
            if records is None:
                records = self._put_records[id(results)] = _Records()
                self._put_note_collection(results)
        target = self._put_targets[fx] = _Target(state.fn, state.stage, is_step, results, records,
                                                 bool(self.trainer.barebones))
        return target

    def _put_note_collection(self, results: Any) -> None:
        """Remember ``results`` as a collection Lightning's resets may find logged Metrics in, with the hook that
        resets the Metrics the migrated code logs there: each loop owns its collection (the fit loop's validation,
        sanity check included, is a validation one)."""
        hook = ("on_train_results_reset" if results.training
                else "on_test_results_reset" if self.trainer.testing else "on_validation_results_reset")
        self._put_collections[id(results)] = hook

    def _put_active_results(self) -> Any:
        """``trainer._results``, cached per trainer function and stage as ``route``'s targets are (the pair decides
        the loop, and each loop owns one collection). The property walks the trainer's loops comparing enums by
        their strings, about 12 k instructions, and the merge and ``on_batch_start`` read it at every batch."""
        state = self.trainer.state
        active = self._put_active
        if active is None or active[0] is not state.fn or active[1] is not state.stage:
            active = self._put_active = (state.fn, state.stage, self.trainer._results)
        return active[2]

    def _put_merge(self, metrics: dict[str, dict[str, Any]]) -> None:
        results = self._put_active_results()
        records = self._put_records.get(id(results)) if results is not None else None
        if not records:
            return
        for running in records.hooks.values():
            running.flush(records, results)  # Lightning computes a hook's logged means where it extracts
        # Lightning 2.1+ marks the epoch end by `_first_loop_iter is None`; 2.0 by its `_epoch_end_reached` flag.
        first_loop_iter = getattr(self, "_first_loop_iter", _ABSENT)
        on_step = not self._epoch_end_reached if first_loop_iter is _ABSENT else first_loop_iter is not None
        dataloader_idx = results.dataloader_idx
        log, callback, pbar = metrics["log"], metrics["callback"], metrics["pbar"]
        if on_step:
            # Once per batch: one pass over the records, without a list of the chosen ones first (a third less).
            training = results.training
            for (_, name, dl), entry in records.step.items():
                # Eval step values belong to the dataloader that is running (_ResultCollection.valid_items); None
                # keeps a hook's place past a reset (``reset_results``).
                if entry is not None and (training or dl == dataloader_idx):
                    value, destinations = entry
                    if "loggers" in destinations:
                        log[name] = value
                    if "callbacks" in destinations:
                        callback[name] = value
                    if "progress_bar" in destinations:
                        pbar[name] = value  # converted when read (progress_bar_metrics)
            return
        for name, (value, destinations, dl) in records.epoch.items():
            # As _ResultCollection.valid_items: another dataloader's epoch values are left out.
            if dl == dataloader_idx:
                if "loggers" in destinations:
                    log[name] = value
                if "callbacks" in destinations:
                    callback[name] = value
                if "progress_bar" in destinations:
                    pbar[name] = value

    # -- Lightning's extraction points --------------------------------------------------------------------------

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        metrics = super().metrics  # type: ignore[misc]
        self._put_merge(metrics)
        return metrics

    # Lightning skips extraction when its own collection is empty (``if self.trainer._results:``); a module that
    # only puts has an empty collection, so these check for ``None`` instead.
    @property
    def callback_metrics(self) -> dict[str, Tensor]:
        if self._put_active_results() is not None:
            self._callback_metrics.update(self.metrics["callback"])
        return self._callback_metrics

    @property
    def logged_metrics(self) -> dict[str, Tensor]:
        if self._put_active_results() is not None:
            self._logged_metrics.update(self.metrics["log"])
        return self._logged_metrics

    @property
    def progress_bar_metrics(self) -> dict[str, float]:
        if self._put_active_results() is not None:
            self._progress_bar_metrics.update(self.metrics["pbar"])
        pending = {k: v for k, v in self._progress_bar_metrics.items() if isinstance(v, Tensor)}
        if pending:
            self._progress_bar_metrics.update(to_python(pending))
        return self._progress_bar_metrics

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        if not self.trainer.loggers or not metrics:
            return
        tensors = {k: v for k, v in metrics.items() if isinstance(v, Tensor)}
        super().log_metrics({**metrics, **to_python(tensors)}, step)  # type: ignore[misc]
        # Lightning keeps tensors in logged_metrics; the floats above were only for the loggers.
        self._logged_metrics.update(tensors)

    def reset_results(self) -> None:
        results = self.trainer._results
        if results is not None:
            # Lightning resets every Metric ever logged into the collection (``_ResultCollection.reset``; its keys
            # outlive resets): the train results after the train epoch's logger call, the eval results after every
            # on_validation_end/on_test_end hook (and both at the start of a run and around the sanity check). The
            # collection's results-reset hooks reset the Metrics the migrated code logged into it. Where nothing was
            # ever put into it and no batch ran with it (a fresh trainer's first reset, before a checkpoint's Metric
            # states may be in use; or barebones, where nothing is logged) Lightning's reset finds no Metric either.
            reset_hook = None if self.trainer.barebones else self._put_collections.get(id(results))
            dropped = self._put_records.pop(id(results), None)
            if dropped is not None and dropped.step:
                # Lightning's entries keep their place past a reset (hidden until logged again): so do the hooks'
                # step values, else a hook that puts later in a new epoch would move before one that put first.
                self._put_records[id(results)] = kept = _Records()
                kept.step = dict.fromkeys(dropped.step)
            self._put_targets.clear()  # they hold the records just dropped
            self._put_active = None
            if reset_hook is not None:
                self._put_call_hooks(reset_hook)
        super().reset_results()  # type: ignore[misc]

    # -- compute hooks: where Lightning computes self.log epoch aggregates ------------------------------------

    def epoch_end_reached(self) -> None:
        super().epoch_end_reached()  # type: ignore[misc]
        if self.trainer.training:
            self._put_call_compute_hooks("on_train_epoch_compute", "on_train_epoch_end")

    def on_batch_start(self, *args: Any, **kwargs: Any) -> None:
        super().on_batch_start(*args, **kwargs)  # type: ignore[misc]
        results = self._put_active_results()
        self._put_eval_compute_due = not results.training  # an eval batch (trainer.training, without its enum test)
        if id(results) not in self._put_collections:
            # A batch hook may log a Metric that the migrated code never puts (on step only, updated without a
            # forward): Lightning resets it all the same.
            self._put_note_collection(results)
        if not self._put_callbacks_placed:
            self._put_place_callback_aggregators()

    def _put_place_callback_aggregators(self) -> None:
        """Move PutMixin callbacks' aggregators to the module's device, once per run.

        A Callback is not a submodule of the LightningModule, so the strategy's ``.to(device)`` never reaches the
        Metrics it owns; by the first batch the module is where it will train.
        """
        self._put_callbacks_placed = True
        device = self.trainer.lightning_module.device
        for callback in self.trainer.callbacks:
            if isinstance(callback, PutMixin):
                for value in vars(callback).values():
                    if isinstance(value, torch.nn.Module):
                        value.to(device)

    def update_eval_epoch_metrics(self) -> dict[str, Any]:
        # Called when each eval dataloader is done (EVL:383-386), then once more after on_*_epoch_end. Lightning
        # computes a dataloader's epoch values at the first of these calls and stores them (not during the sanity
        # check), so the compute hooks run there: once per dataloader that ran batches.
        if self._put_eval_compute_due:
            self._put_eval_compute_due = False
            if self.trainer.testing:
                self._put_call_compute_hooks("on_test_epoch_compute", "on_test_epoch_end")
            else:
                self._put_call_compute_hooks("on_validation_epoch_compute", "on_validation_epoch_end")
        return super().update_eval_epoch_metrics()  # type: ignore[misc]

    def _put_call_compute_hooks(self, hook: str, epoch_end_fx: str) -> None:
        module = self.trainer.lightning_module
        previous_fx = module._current_fx_name
        # Puts and logs in compute hooks count as made in the stage's epoch-end hook (epoch records, weight 1).
        module._current_fx_name = epoch_end_fx
        try:
            self._put_call_hooks(hook)
        finally:
            module._current_fx_name = previous_fx

    def _put_call_hooks(self, hook: str) -> None:
        """``hook`` of the PutMixin callbacks (``(trainer, pl_module)``), then of the module (``()``)."""
        trainer = self.trainer
        module = trainer.lightning_module
        for callback in trainer.callbacks:
            if isinstance(callback, PutMixin) and callable(getattr(callback, hook, None)):
                getattr(callback, hook)(trainer, module)
        if callable(getattr(module, hook, None)):
            getattr(module, hook)()

def attach(trainer: Any) -> _RoutingConnector:
    """Install the router on ``trainer`` (idempotent) and return its logger connector."""
    connector = trainer._logger_connector
    if not isinstance(connector, _RoutingConnector):
        base = type(connector)
        routing_class = _ROUTING_CLASSES.get(base)
        if routing_class is None:
            package = base.__module__.split(".", 1)[0]  # "lightning" or "pytorch_lightning"
            version = getattr(sys.modules.get(package), "__version__", None)
            if version is not None:
                versions.check_package(package, version)
            routing_class = _ROUTING_CLASSES[base] = type(f"PutRouting{base.__name__}", (_RoutingConnector, base), {})
        connector.__class__ = routing_class
        connector._put_records = {}
        connector._put_collections = {}
        connector._put_targets = {}
        connector._put_eval_compute_due = False
    return connector


def trainer_of(module: Any) -> Any:
    """The trainer a LightningModule is attached to, or None (``module.trainer`` raises when there is none)."""
    return getattr(module, "_trainer", None)


def start_run(trainer: Any) -> None:
    """A fit/validate/test run is starting on ``trainer`` (Lightning just attached the module or a callback)."""
    connector = attach(trainer)
    connector._put_callbacks_placed = False
    connector._put_active = None  # a run may come with other loops (``trainer.fit_loop = ...``)


_STEP_HOOKS: dict[tuple[type, str], bool | None] = {}


def _is_step_hook(connector: Any, fx: str) -> bool | None:
    """True for batch hooks, False for epoch-level hooks, None where Lightning forbids logging.

    Read from ``_FxValidator.functions`` of the trainer's own Lightning package: batch hooks allow
    ``on_step=True``, epoch-level hooks only ``on_step=False``. Cached: put() is on the hot path.
    """
    key = (type(connector), fx)
    if key not in _STEP_HOOKS:
        module = type(connector).__mro__[2].__module__  # the Lightning connector class behind the routing mixin
        table = importlib.import_module(f"{module.rsplit('.', 1)[0]}.fx_validator")._FxValidator.functions
        options = table.get(fx)
        _STEP_HOOKS[key] = None if options is None else tuple(options["allowed_on_step"]) == (False, True)
    return _STEP_HOOKS[key]


def route(module: Any, name: str, value: Tensor, destinations: frozenset[str], callback_alias: str | None = None
          ) -> bool:
    """Hand a put to the router of ``module``'s trainer (with ``callback_alias``, the same value under that name
    for callbacks, as a second put would); False when there is no trainer or no hook is running (the caller keeps
    the records)."""
    trainer = getattr(module, "_trainer", None)  # trainer_of, inlined: put() is on the hot path
    if trainer is None:
        return False
    fx = module._current_fx_name
    if fx is None:
        return False
    # _running_target, inlined: put() is on the hot path.
    state = trainer.state
    targets = getattr(trainer._logger_connector, "_put_targets", None)
    target = targets.get(fx) if targets is not None else None
    if target is None or target.fn is not state.fn or target.stage is not state.stage:
        target = attach(trainer)._put_new_target(fx)
    if target.dropped:
        return True
    if target.is_step is None:
        raise ValueError(
            f"put({name!r}) inside `{fx}`: Lightning does not log in this hook, so there is no logger call"
            " or epoch to attach the value to. Put it from a batch or epoch hook instead."
        )
    results, records = target.results, target.records
    assert records is not None  # _put_new_target sets records whenever is_step is not None
    # The alias first: Lightning fills callback_metrics with a forked value's plain name before its _step/_epoch
    # name, and the dict keeps that order.
    if target.is_step:
        dataloader_idx = results.dataloader_idx
        if callback_alias is not None:
            records.step[(fx, callback_alias, dataloader_idx)] = (value, CALLBACKS_ONLY)
        records.step[(fx, name, dataloader_idx)] = (value, destinations)
    else:
        # Lightning files an epoch-hook value under the running dataloader (_Metadata.dataloader_idx): N in the
        # compute hooks of dataloader N, None in on_*_epoch_start/end.
        running = results.dataloader_idx
        if callback_alias is not None:
            store_epoch_value(records, results, callback_alias, value, CALLBACKS_ONLY, running)
        store_epoch_value(records, results, name, value, destinations, running)
    return True


def _running_target(trainer: Any, fx: str) -> _Target:
    """Where puts from hook ``fx`` go now: the connector's cached target while the trainer function and stage it
    was made for run (the pair decides the result collection), else a new one; attaches the router if needed."""
    state = trainer.state
    targets = getattr(trainer._logger_connector, "_put_targets", None)  # None until the router is attached
    target = targets.get(fx) if targets is not None else None
    if target is None or target.fn is not state.fn or target.stage is not state.stage:
        target = attach(trainer)._put_new_target(fx)
    return target


def store_epoch_value(records: _Records, results: Any, name: str, value: Tensor, destinations: frozenset[str],
                      dataloader_idx: int | None = None) -> None:
    """Record an epoch value of ``dataloader_idx``; a name ending in /dataloader_idx_N put in an eval epoch hook
    belongs to dataloader N."""
    match = None if results.training else _DATALOADER_SUFFIX.search(name)
    records.epoch[name] = (value, destinations, int(match.group(1)) if match else dataloader_idx)

def running_hook_records(module: Any) -> _Records | None:
    """The put records of the epoch-level hook running on ``module``'s trainer (they live as long as its result
    collection); None where no trainer runs a hook, or under ``Trainer(barebones=True)``."""
    trainer = getattr(module, "_trainer", None)
    if trainer is None:
        return None
    fx = module._current_fx_name
    if fx is None:
        return None
    target = _running_target(trainer, fx)
    if target.dropped:
        return None
    if target.is_step is not False:
        raise ValueError(f"`{fx}` is not an epoch-level hook: its values cannot be averaged over the hook's call")
    return target.records


def dataloader_suffixes_apply(trainer: Any) -> bool:
    """Whether Lightning adds ``/dataloader_idx_N`` in the running eval loop (EVL:420-427)."""
    loop = trainer._active_loop
    if loop is None or not hasattr(loop, "num_dataloaders"):
        return False  # the fit loop: train hooks get no suffix
    # 2.1+ suffixes only in the "sequential" mode its eval loop added (`_is_sequential`); 2.0's eval loop always
    # runs its dataloaders one after another.
    return bool(getattr(loop, "_is_sequential", True) and loop.num_dataloaders > 1)


def running_hook(module: Any) -> str | None:
    """The name of the hook Lightning is running on ``module`` (``validation_step``, ``on_validation_batch_end``,
    a Callback's hooks included); None outside one. Migrated code branches on it where one statement runs under
    two hooks of the same stage that Lightning keeps apart."""
    return getattr(module, "_current_fx_name", None)
