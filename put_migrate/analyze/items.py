"""Log items: the names and values a ``log``/``log_dict`` call logs, or why they cannot be migrated."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.arguments import Arguments
from put_migrate.analyze.calls import Found
from put_migrate.analyze.context import callback_hooks
from put_migrate.analyze.literals import code_of, is_none, literal_name
from put_migrate.analyze.model import ClassFacts, LogItem, MetricInfo
from put_migrate.analyze.scope import positional_params, values_bound_to
from put_migrate.analyze.subclass_callers import subclass_callers
from put_migrate.hooks import HookSpec
from put_migrate.lightning_classes import dotted_name
from put_migrate.rules import (
    ATTRIBUTE_OF_UNKNOWN_TYPE,
    CALLBACK_METRIC,
    MAPPING_UNKNOWN,
    METRIC_REACHED,
    NAME_NOT_LITERAL,
    STAR_ARGUMENTS,
    VALUE_REJECTED,
    Problem,
)
from put_migrate.walk import find_all


def log_items(
    found: Found,
    args: Arguments,
    env: dict[str, str],
    facts: ClassFacts,
    function: cst.FunctionDef,
    runtime_names: bool = False,
) -> list[LogItem] | Problem:
    """One item per logged name (``log``: one; ``log_dict``: one per key, or one for a run-time mapping).
    ``runtime_names``: a ``log`` name computed at run time is an item (epoch-level hooks), not a problem."""
    if found.method == "log":
        items = _log_item(found, args, env, facts, function, runtime_names)
    else:
        items = _log_dict_items(found, args, env, facts, function)
    if isinstance(items, Problem):
        return items
    for item in items:
        if "/dataloader_idx_" in item.name:
            return VALUE_REJECTED.problem(f"name {item.name!r} contains '/dataloader_idx_' (Lightning raises)")
    return items


def _log_item(
    found: Found, args: Arguments, env: dict[str, str], facts: ClassFacts, function: cst.FunctionDef,
    runtime_names: bool,
) -> list[LogItem] | Problem:
    if "name" not in args or "value" not in args:
        return STAR_ARGUMENTS.problem("name or value missing")
    name = literal_name(args["name"], env)
    if name is None and runtime_names:
        # An epoch-level hook whose calls are collected (HookValues): the name is evaluated where it is logged.
        value = args["value"]
        if _value_problem(value, found.receiver, facts, "a MetricCollection goes to log_dict") is not None:
            return NAME_NOT_LITERAL.problem(code_of(args["name"]))
        if _reached_metric(value, facts, function) is not None:
            return NAME_NOT_LITERAL.problem(code_of(args["name"]))
        return [LogItem(code_of(args["name"]), value, metric_of(value, facts.metrics, found.receiver),
                        runtime_name=True)]
    name_expression = None
    if name is None:
        if not _may_be_a_string(args["name"]):
            return NAME_NOT_LITERAL.problem(code_of(args["name"]))
        name, name_expression = f"<{code_of(args['name'])}>", args["name"]
    value = args["value"]
    if _passed_in(value, found.receiver, facts):
        return [LogItem(name, value, name_expression=name_expression, passed_in=True)]
    problem = _value_problem(value, found.receiver, facts, "a MetricCollection goes to log_dict")
    if problem is None:
        problem = _reached_metric(value, facts, function)
        if problem is not None and name_expression is not None:
            # A Metric under a run-time name is left for its name first, as one logged as `self.<metric>` is.
            problem = NAME_NOT_LITERAL.problem(code_of(name_expression))
    if problem is not None:
        return problem
    return [LogItem(name, value, metric_of(value, facts.metrics, found.receiver), name_expression=name_expression)]


def _reached_metric(value: cst.BaseExpression, facts: ClassFacts, function: cst.FunctionDef) -> Problem | None:
    origin = facts.reach.origin(value, function) if facts.reach is not None else None
    return METRIC_REACHED.problem(f"`{code_of(value)}` (from {origin})") if origin is not None else None


def runtime_name_problem(items: list[LogItem], spec: HookSpec) -> Problem | None:
    """Why a name known only at run time cannot be migrated: in an epoch-level hook (Lightning averages the calls
    of one invocation by name), or naming a Metric object (it needs compute and reset code per name)."""
    for item in items:
        if item.name_expression is not None and (spec.kind == "epoch" or item.metric is not None):
            return NAME_NOT_LITERAL.problem(code_of(item.name_expression))
    return None


def _may_be_a_string(name: cst.BaseExpression) -> bool:
    """A name expression that may evaluate to a string at run time (not a number, container or ``None``)."""
    return not (bad_value(name) not in (None, "a string") or isinstance(name, (cst.Integer, cst.Float, cst.Imaginary)))


def _log_dict_items(
    found: Found, args: Arguments, env: dict[str, str], facts: ClassFacts, function: cst.FunctionDef
) -> list[LogItem] | Problem:
    items: list[LogItem] = []
    dictionary = args.get("dictionary")
    literal_keys = isinstance(dictionary, cst.Dict) and all(
        isinstance(e, cst.DictElement) and literal_name(e.key, env) is not None for e in dictionary.elements
    )
    if isinstance(dictionary, cst.Dict) and literal_keys:
        for element in dictionary.elements:
            key = literal_name(element.key, env) if isinstance(element, cst.DictElement) else None
            if key is None:
                return MAPPING_UNKNOWN.problem("a key is not a literal string")
            assert isinstance(element, cst.DictElement)
            if _passed_in(element.value, found.receiver, facts):
                items.append(LogItem(key, element.value, passed_in=True))
                continue
            problem = _value_problem(element.value, found.receiver, facts, "a MetricCollection inside log_dict")
            if problem is None:
                problem = _reached_metric(element.value, facts, function)
            if problem is not None:
                return problem
            items.append(LogItem(key, element.value, metric_of(element.value, facts.metrics, found.receiver)))
    else:
        collection = metric_of(dictionary, facts.metrics, found.receiver) if dictionary is not None else None
        if collection is None and dictionary is not None:
            collection = _collection_by_getattr(dictionary, function, env, facts, found.receiver)
        if collection is None and dictionary is not None:
            dynamic_problem = _dynamic_mapping_problem(dictionary, found.receiver, facts, function)
            if dynamic_problem is not None:
                return dynamic_problem
            items.append(LogItem(f"<{code_of(dictionary)}>", dictionary, dynamic=True))
        elif dictionary is None or collection is None or not collection.collection:
            return MAPPING_UNKNOWN.problem(code_of(dictionary) if dictionary is not None else "no argument")
        elif collection.keys is None:
            # Members named at run time (a list of metrics, a run-time prefix): the rewrite puts the collection's
            # own names, so only the conflict checks lose them.
            items.append(LogItem(f"<self.{collection.attr}>", dictionary, collection))
        else:
            for key in collection.keys:
                items.append(LogItem(f"{collection.prefix}{key}{collection.postfix}", dictionary, collection, key))
    if len({item.name for item in items}) != len(items):
        return MAPPING_UNKNOWN.problem("repeated key")
    return items


def _collection_by_getattr(
    mapping: cst.BaseExpression, function: cst.FunctionDef, env: dict[str, str], facts: ClassFacts, receiver: str
) -> MetricInfo | None:
    """The MetricCollection a local holds when it is bound once, to ``getattr(self, <name>[, default])`` with a
    name known here (a literal, or an f-string over literal-bound names: ``f"{stage}_metrics"``)."""
    if receiver != "self" or not isinstance(mapping, cst.Name) or mapping.value in positional_params(function):
        return None
    values = values_bound_to(function, mapping.value)
    if len(values) != 1:
        return None
    call = values[0]
    if not (
        isinstance(call, cst.Call)
        and dotted_name(call.func) == "getattr"
        and len(call.args) in (2, 3)
        and all(arg.keyword is None and not arg.star for arg in call.args)
        and dotted_name(call.args[0].value) == "self"
    ):
        return None
    attr = literal_name(call.args[1].value, env)
    info = facts.metrics.get(attr) if attr is not None else None
    return info if info is not None and info.collection else None


def _value_problem(
    value: cst.BaseExpression, receiver: str, facts: ClassFacts, in_collection: str
) -> Problem | None:
    """Why one logged value cannot be migrated: a type Lightning rejects (PM216), a Callback's own Metric (PM224:
    Lightning raises, or with ``metric_attribute=`` logs it as a Metric object), or an unknown attribute (PM220)."""
    bad = bad_value(value)
    if bad:
        return VALUE_REJECTED.problem(bad)
    if facts.cls.kind == "callback" and metric_of(value, facts.metrics, "self"):
        return CALLBACK_METRIC.problem(code_of(value))
    metric = metric_of(value, facts.metrics, receiver)
    if metric is not None and metric.collection:
        return VALUE_REJECTED.problem(in_collection)
    unknown = _unknown_attribute(value, receiver, facts) if metric is None else None
    if unknown:
        return ATTRIBUTE_OF_UNKNOWN_TYPE.problem(unknown)
    return None


def _passed_in(value: cst.BaseExpression, receiver: str, facts: ClassFacts) -> bool:
    """``self.m`` of a module where ``m`` holds what a caller passed in: a Metric or a value."""
    return (
        receiver == "self"
        and isinstance(value, cst.Attribute)
        and dotted_name(value.value) == "self"
        and value.attr.value in facts.passed_in
    )


def metric_of(value: cst.BaseExpression, metrics: dict[str, MetricInfo], receiver: str) -> MetricInfo | None:
    """The Metric (or MetricCollection) a value is, when it is ``self.<metric>``."""
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value == receiver:
        return metrics.get(value.attr.value) if receiver == "self" else None
    return None


def bad_value(value: cst.BaseExpression) -> str | None:
    """What the value is, when Lightning rejects its type (a string, a dict, a sequence, None)."""
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "a string"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "a dict"
    if isinstance(value, (cst.List, cst.Tuple, cst.Set, cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return "a sequence"
    if is_none(value):
        return "None"
    return None


def _unknown_attribute(value: cst.BaseExpression, receiver: str, facts: ClassFacts) -> str | None:
    """``self.x`` never assigned in the class, or ``pl_module.x``: possibly a Metric we cannot see; or an item of a
    ``ModuleDict``/``ModuleList`` of metrics that a base class builds."""
    if (
        isinstance(value, cst.Subscript)
        and isinstance(value.value, cst.Attribute)
        and dotted_name(value.value.value) == "self"
        and value.value.attr.value in facts.containers
    ):
        return code_of(value)
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name):
        owner = value.value.value
        if owner == receiver and (receiver != "self" or value.attr.value not in facts.assigned):
            return code_of(value)
    return None


_NOT_MAPPINGS = (
    cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.List, cst.Tuple, cst.Set, cst.ListComp,
    cst.SetComp, cst.GeneratorExp, cst.Integer, cst.Float,
)


def _dynamic_mapping_problem(
    mapping: cst.BaseExpression, receiver: str, facts: ClassFacts, function: cst.FunctionDef
) -> Problem | None:
    """Why ``log_dict(mapping)`` of run-time keys cannot be migrated, or None (its values are put as they are)."""
    if isinstance(mapping, _NOT_MAPPINGS):
        return VALUE_REJECTED.problem("log_dict takes a mapping")
    if isinstance(mapping, cst.Dict):
        for element in mapping.elements:
            if not isinstance(element, cst.DictElement):
                return MAPPING_UNKNOWN.problem("a ** entry")
            if metric_of(element.value, facts.metrics, receiver) is not None:
                return MAPPING_UNKNOWN.problem(f"a Metric under a non-literal key: {code_of(element.key)}")
            bad = bad_value(element.value)
            if bad:
                return VALUE_REJECTED.problem(bad)
    if isinstance(mapping, cst.DictComp) and metric_of(mapping.value, facts.metrics, receiver) is not None:
        return MAPPING_UNKNOWN.problem(f"a Metric under a non-literal key: {code_of(mapping.key)}")
    unknown = _unknown_attribute(mapping, receiver, facts)
    if unknown:
        return ATTRIBUTE_OF_UNKNOWN_TYPE.problem(unknown)
    for value in _mapping_values(mapping, function):
        if metric_of(value, facts.metrics, receiver) is not None or _reached_metric(value, facts, function):
            return MAPPING_UNKNOWN.problem(f"`{code_of(mapping)}` may hold a Metric object (`{code_of(value)}`)")
    holder = _collection_holder(mapping, function, receiver) or _holder_argument(mapping, function, receiver, facts)
    if holder:
        return MAPPING_UNKNOWN.problem(
            f"{holder} may be a MetricCollection, whose values Lightning logs as Metric objects"
        )
    return None


def _mapping_values(mapping: cst.BaseExpression, function: cst.FunctionDef) -> list[cst.BaseExpression]:
    """The values a mapping the hook builds may hold: a display's values, a comprehension's value, and for a local
    the values of the displays bound to it and of its ``name[key] = value`` assignments."""
    if isinstance(mapping, cst.Dict):
        return [e.value for e in mapping.elements if isinstance(e, cst.DictElement)]
    if isinstance(mapping, cst.DictComp):
        return [mapping.value]
    if not isinstance(mapping, cst.Name):
        return []
    values: list[cst.BaseExpression] = []
    for bound in values_bound_to(function, mapping.value):
        if isinstance(bound, (cst.Dict, cst.DictComp)):
            values += _mapping_values(bound, function)
    for assign in find_all(function.body, lambda node: isinstance(node, cst.Assign)):
        assert isinstance(assign, cst.Assign)
        if any(isinstance(t.target, cst.Subscript) and dotted_name(t.target.value) == mapping.value
               for t in assign.targets):
            values.append(assign.value)
    return values


def _holder_argument(
    mapping: cst.BaseExpression, function: cst.FunctionDef, receiver: str, facts: ClassFacts
) -> str | None:
    """The argument a hook passes to the helper parameter ``mapping``, when it may be a MetricCollection."""
    if not isinstance(mapping, cst.Name):
        return None
    params = [p.name.value for p in (*function.params.posonly_params, *function.params.params)][1:]
    callers = facts.callers.get(function.name.value, [])
    if any(c.entry for c in callers) or (
        not callers and isinstance(callback_hooks(facts.cls, function.name.value), tuple)
    ):
        return f"`{mapping.value}` (a Callback passes it)"  # what a Callback passes is not read: it may be one
    callers = [*callers, *subclass_callers(facts.cls, function.name.value)[0]]  # a subclass's hook may pass one
    for caller in callers:
        if caller.call is None:
            continue
        for index, arg in enumerate(caller.call.args):
            bound = arg.keyword.value if arg.keyword is not None else (params[index] if index < len(params) else None)
            if bound == mapping.value and arg.star == "":
                holder = _collection_holder(arg.value, caller.hook_function, receiver)
                if holder:
                    origin = _attribute_origin(arg.value, facts.cls.node)
                    shown = caller.hook if caller.subclass is None else f"{caller.subclass}.{caller.hook}"
                    return f"`{mapping.value}` (`{shown}` passes {holder}{origin})"
    return None


def _attribute_origin(value: cst.BaseExpression, class_node: cst.ClassDef) -> str:
    """Where the class assigns the attribute ``self.<x>`` a hook passes on, as a clause naming the method and the
    value (a call's arguments left out): what the codemod would need to read to know its keys and values."""
    attribute = value.attr.value if isinstance(value, cst.Attribute) and dotted_name(value.value) == "self" else None
    if attribute is None:
        return ""
    found: list[str] = []
    for method in class_node.body.body:
        if not isinstance(method, cst.FunctionDef):
            continue
        for assign in find_all(method.body, lambda node: isinstance(node, cst.Assign)):
            assert isinstance(assign, cst.Assign)
            for target in (t.target for t in assign.targets):
                elements = [e.value for e in target.elements] if isinstance(target, (cst.Tuple, cst.List)) else []
                if any(isinstance(t, cst.Attribute) and dotted_name(t) == f"self.{attribute}"
                       for t in [target, *elements]):
                    how = "by unpacking" if elements else "as"
                    shown = assign.value
                    if isinstance(shown, cst.Call) and shown.args:
                        shown = shown.with_changes(args=[cst.Arg(cst.Ellipsis())])
                    found.append(f"assigned in `{method.name.value}` {how} `{code_of(shown)}`")
    if not found:
        return ""
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f", {found[0]}{more}: its keys and values are known only at run time"


def _collection_holder(mapping: cst.BaseExpression, function: cst.FunctionDef, receiver: str) -> str | None:
    """The mapping, when it is (or a local bound to) an attribute of ``self`` or the receiver, an item of one, or a
    ``getattr(...)`` result: a MetricCollection the codemod does not know (its values are Metric objects, which
    need compute/reset code). Dict displays and call results (``self.coll(p, t)``, ``coll.compute()``) hold values."""

    def holds(node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Subscript):
            node = node.value
        dotted = dotted_name(node)
        if dotted is not None and "." in dotted and dotted.split(".")[0] in (receiver, "self"):
            return True
        return isinstance(node, cst.Call) and dotted_name(node.func) == "getattr"

    if holds(mapping):
        return code_of(mapping)
    if isinstance(mapping, cst.Name):
        for value in values_bound_to(function, mapping.value):
            if holds(value):
                return f"`{mapping.value} = {code_of(value)}`"
    return None
