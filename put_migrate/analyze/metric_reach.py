"""Values that may be torchmetrics ``Metric`` objects although the call does not log ``self.<metric>`` itself.

Lightning logs a Metric object as one (its forward value on step, ``compute()`` at epoch end, its own reset) whatever
expression reaches it: an item of a ``ModuleList``/``ModuleDict``/``MetricCollection`` or of a list of Metrics
(``self.metrics[-1]``), a loop variable over one (``for m in self.metrics``, ``zip(..., self.metricss)``), an
attribute of such an item (``predictor.criterion``), a local bound to a Metric (``m = self.mse``), a helper's
parameter a hook passes one to. A plain ``put`` of those raises, and an aggregator fed them fails at the first batch.
A call's result (``m(preds, y)``, ``m.compute()``) is a value.
"""

from __future__ import annotations

from enum import Enum
from functools import cached_property

import libcst as cst

from put_migrate.analyze.context import HelperCall
from put_migrate.analyze.literals import code_of
from put_migrate.analyze.scope import positional_params, values_bound_to
from put_migrate.lightning_classes import ImportMap, dotted_name, uses_torchmetrics
from put_migrate.walk import find_all

_CONTAINER_CALLS = frozenset({"ModuleList", "ModuleDict", "MetricCollection"})
_DISPLAYS = (cst.List, cst.Tuple, cst.Set, cst.Dict, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class Reach(Enum):
    METRIC = "a Metric"  # is a Metric object
    HOLDER = "holds Metrics"  # a container of Metrics or of modules that may hold some
    ITEM = "an item"  # an item of a holder: a Metric, or a module whose attributes may be Metrics


def metric_holders(class_node: cst.ClassDef, imports: ImportMap, metrics: dict[str, bool]) -> frozenset[str]:
    """Attributes the class assigns a ``ModuleList``/``ModuleDict``/``MetricCollection`` (of anything: their items
    may be Metrics built elsewhere), or a display (list, dict, ...) with a torchmetrics call or a Metric attribute
    in it; ``metrics`` maps each known Metric attribute to whether it is a collection."""
    holders = {attr for attr, collection in metrics.items() if collection}
    for assign in find_all(class_node, lambda node: isinstance(node, (cst.Assign, cst.AnnAssign))):
        assert isinstance(assign, (cst.Assign, cst.AnnAssign))
        if assign.value is None or not _holds_metrics(assign.value, imports, metrics):
            continue
        targets = [t.target for t in assign.targets] if isinstance(assign, cst.Assign) else [assign.target]
        for target in targets:
            if isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                holders.add(target.attr.value)
    return frozenset(holders)


def _holds_metrics(value: cst.BaseExpression, imports: ImportMap, metrics: dict[str, bool]) -> bool:
    if isinstance(value, cst.IfExp):
        return _holds_metrics(value.body, imports, metrics) or _holds_metrics(value.orelse, imports, metrics)
    if isinstance(value, cst.Call):
        callee = dotted_name(value.func) or ""
        return callee.split(".")[-1] in _CONTAINER_CALLS
    if isinstance(value, _DISPLAYS):
        return bool(find_all(value, lambda node: _names_a_metric(node, imports, metrics)))
    return False


def _names_a_metric(node: cst.CSTNode, imports: ImportMap, metrics: dict[str, bool]) -> bool:
    if isinstance(node, cst.Call):
        return uses_torchmetrics(imports, node.func) is not None
    return isinstance(node, cst.Attribute) and dotted_name(node.value) == "self" and node.attr.value in metrics


def composed_metrics(class_node: cst.ClassDef, metrics: frozenset[str], holders: frozenset[str]) -> frozenset[str]:
    """Attributes the class assigns arithmetic of Metrics (``self.a + self.b``, ``sum(self.losses) / 2``): a
    torchmetrics ``CompositionalMetric``, logged by Lightning as a Metric object."""
    composed: set[str] = set()

    def of_metrics(node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.BinaryOperation):
            return of_metrics(node.left) or of_metrics(node.right)
        if isinstance(node, cst.UnaryOperation):
            return of_metrics(node.expression)
        if isinstance(node, cst.Call) and dotted_name(node.func) == "sum" and node.args:
            inner = node.args[0].value
            return isinstance(inner, cst.Attribute) and dotted_name(inner.value) == "self" and (
                inner.attr.value in holders
            )
        return isinstance(node, cst.Attribute) and dotted_name(node.value) == "self" and node.attr.value in metrics

    for assign in find_all(class_node, lambda node: isinstance(node, cst.Assign)):
        assert isinstance(assign, cst.Assign)
        if not isinstance(assign.value, (cst.BinaryOperation, cst.UnaryOperation)) or not of_metrics(assign.value):
            continue
        for target in (t.target for t in assign.targets):
            if isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                composed.add(target.attr.value)
    return frozenset(composed)


class MetricReach:
    """Answers, for one class, whether an expression in one of its methods may evaluate to a Metric object. The
    class-wide facts (holders, composed Metrics) are read on first need: most logged values are call results."""

    def __init__(
        self, class_node: cst.ClassDef, imports: ImportMap, metrics: dict[str, bool], single: frozenset[str],
        inherited_holders: frozenset[str], callers: dict[str, list[HelperCall]],
    ) -> None:
        self._class_node = class_node
        self._imports = imports
        self._known = metrics  # Metric attribute -> whether it is a collection
        self._single = single  # attributes holding one Metric (or what a caller passed in)
        self._inherited_holders = inherited_holders
        self.callers = callers

    @cached_property
    def holders(self) -> frozenset[str]:
        return metric_holders(self._class_node, self._imports, self._known) | self._inherited_holders

    @cached_property
    def composed(self) -> frozenset[str]:
        return composed_metrics(self._class_node, self._single, self.holders)

    @cached_property
    def metrics(self) -> frozenset[str]:
        return self._single | self.composed

    def origin(self, value: cst.BaseExpression, function: cst.FunctionDef) -> str | None:
        """Where ``value`` may take a Metric object from (code, for the message), or None. ``self.<metric>`` itself
        is not reported: the codemod logs it as the Metric it is."""
        own = value.attr.value if isinstance(value, cst.Attribute) and dotted_name(value.value) == "self" else None
        if own is not None and own in self._single:
            return None
        if own is not None and own in self.composed:
            return f"`{code_of(value)}`, assigned arithmetic of Metrics (a CompositionalMetric)"
        if _called(value, function):
            # Called (``m(preds, target)``, ``m.update(...)``) and logged itself: an object, not a tensor or a number.
            return f"`{code_of(value)}(...)`, called in `{function.name.value}`"
        if own is not None:
            return None
        found = self._reach(value, function, set(), 0)
        if found is None or found[0] is Reach.HOLDER:
            return None
        return found[1]

    def _reach(
        self, value: cst.BaseExpression, function: cst.FunctionDef, seen: set[tuple[int, str]], depth: int
    ) -> tuple[Reach, str] | None:
        if depth > 8:
            return None
        if isinstance(value, cst.Attribute):
            if dotted_name(value.value) == "self":
                attr = value.attr.value
                if attr in self.metrics:
                    return Reach.METRIC, f"`{code_of(value)}`"
                return (Reach.HOLDER, f"`{code_of(value)}`") if attr in self.holders else None
            base = self._reach(value.value, function, seen, depth + 1)
            # An attribute of a Metric is a state or a method; of an item, possibly a Metric the item holds.
            return (Reach.ITEM, base[1]) if base is not None and base[0] is Reach.ITEM else None
        if isinstance(value, cst.Subscript):
            base = self._reach(value.value, function, seen, depth + 1)
            if base is None or base[0] is Reach.METRIC:
                return None
            sliced = any(isinstance(s.slice, cst.Slice) for s in value.slice)
            return (base[0] if sliced else Reach.ITEM), base[1]
        if isinstance(value, cst.Name):
            return self._name(value.value, function, seen, depth)
        return None

    def _name(
        self, name: str, function: cst.FunctionDef, seen: set[tuple[int, str]], depth: int
    ) -> tuple[Reach, str] | None:
        key = (id(function), name)
        if key in seen:
            return None
        seen.add(key)
        for bound in values_bound_to(function, name):
            found = self._reach(bound, function, seen, depth + 1)
            if found is not None:
                return found[0], f"`{name} = {code_of(bound)}`" if found[0] is Reach.METRIC else found[1]
        for loop in find_all(function.body, lambda node: isinstance(node, (cst.For, cst.CompFor))):
            assert isinstance(loop, (cst.For, cst.CompFor))
            walked = _walked_by(loop.target, loop.iter, name)
            found = self._reach(walked, function, seen, depth + 1) if walked is not None else None
            if found is not None and found[0] is not Reach.METRIC:
                return Reach.ITEM, f"`{code_of(loop.iter)}`"
        if name in positional_params(function)[1:] or name in _keyword_params(function):
            return self._argument(name, function, seen, depth)
        return None

    def _argument(
        self, name: str, function: cst.FunctionDef, seen: set[tuple[int, str]], depth: int
    ) -> tuple[Reach, str] | None:
        """What a caller in the class passes to the helper parameter ``name``."""
        params = positional_params(function)[1:]
        for caller in self.callers.get(function.name.value, []):
            if caller.call is None or caller.entry:
                continue
            for index, arg in enumerate(caller.call.args):
                if arg.star:
                    continue
                position = params[index] if index < len(params) else None
                bound = arg.keyword.value if arg.keyword is not None else position
                if bound != name:
                    continue
                found = self._reach(arg.value, caller.hook_function, seen, depth + 1)
                if found is not None and found[0] is not Reach.HOLDER:
                    return Reach.ITEM, f"`{caller.hook}` passes `{code_of(arg.value)}` as `{name}`"
        return None


def _called(value: cst.BaseExpression, function: cst.FunctionDef) -> bool:
    """``value(...)``, ``value.update(...)`` or ``value.forward(...)`` is called in ``function``."""
    if isinstance(value, (cst.Name, cst.Call)) or not isinstance(value, (cst.Attribute, cst.Subscript)):
        return False
    code = code_of(value)

    def calls_it(node: cst.CSTNode) -> bool:
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("update", "forward"):
            func = func.value
        return isinstance(func, (cst.Attribute, cst.Subscript)) and code_of(func) == code

    return bool(find_all(function.body, calls_it))


def _keyword_params(function: cst.FunctionDef) -> list[str]:
    return [p.name.value for p in function.params.kwonly_params]


def _walked_by(target: cst.BaseExpression, iterable: cst.BaseExpression, name: str) -> cst.BaseExpression | None:
    """What the loop variable ``name`` takes items of: the iterable, the ``zip``/``enumerate`` argument in its
    place, the mapping whose ``.values()``/``.items()`` it walks; None when the loop does not bind ``name``."""
    if isinstance(target, cst.Name):
        if target.value != name:
            return None
        if _method(iterable) == "values":
            assert isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute)
            return iterable.func.value
        return iterable
    if not isinstance(target, (cst.Tuple, cst.List)):
        return None
    parts = [e.value for e in target.elements]
    if not any(_binds(part, name) for part in parts):
        return None
    call = iterable if isinstance(iterable, cst.Call) else None
    args = [a.value for a in call.args if not a.star and a.keyword is None] if call is not None else []
    callee = dotted_name(call.func) if call is not None else None
    if callee == "zip":
        places = list(zip(parts, args))
    elif callee == "enumerate" and args and len(parts) == 2:
        places = [(parts[1], args[0])]
    elif _method(iterable) == "items" and len(parts) == 2:
        assert isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute)
        places = [(parts[1], iterable.func.value)]
    else:
        return iterable  # unpacking items of something else: each part may be an item of it
    for part, walked in places:
        found = _walked_by(part, walked, name)
        if found is not None:
            return found
    return None


def _binds(target: cst.BaseExpression, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    return isinstance(target, (cst.Tuple, cst.List)) and any(_binds(e.value, name) for e in target.elements)


def _method(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args:
        return node.func.attr.value
    return None
