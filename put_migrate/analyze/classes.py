"""Walking a class: every log call of its methods, read in each way it runs, with what the class defines."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst
from libcst.metadata import CodeRange

from put_migrate.analyze.calls import CallFinder
from put_migrate.analyze.closure_literals import closure_literals
from put_migrate.analyze.context import helper_callers
from put_migrate.analyze.forwarded import forwarded_attributes
from put_migrate.analyze.hierarchy import live_ancestor_logs
from put_migrate.analyze.hook_arguments import names_shared_across_calls
from put_migrate.analyze.log_guard import OVERRIDDEN, class_log_guard
from put_migrate.analyze.metric_reach import MetricReach
from put_migrate.analyze.metric_values import tests_metric_objects
from put_migrate.analyze.metrics import find_metrics
from put_migrate.analyze.model import ClassAnalysis, ClassFacts, LogCall, MetricInfo, with_problem
from put_migrate.analyze.read import read_variants
from put_migrate.analyze.scope import assigned_self_attributes, methods_and_names, positional_params
from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import INT_PROPERTIES, ImportMap, LightningClass
from put_migrate.rules import LOG_OVERRIDDEN, NAME_AGGREGATED_TWICE
from put_migrate.value_properties import returns_a_value
from put_migrate.walk import visit


def analyze_class(cls: LightningClass, imports: ImportMap, positions: dict[cst.CSTNode, CodeRange]) -> ClassAnalysis:
    """Every ``log``/``log_dict`` call of ``cls``, sorted by position, with the class's metrics and taken names."""
    if cls.imports is not None:  # a class of a function body also sees the imports of its enclosing functions
        imports = cls.imports
    methods, used = methods_and_names(cls.node)
    assigned = assigned_self_attributes(cls.node) | _value_properties(cls.node)
    metrics = find_metrics(cls.node, imports)
    guard = class_log_guard(cls, methods)
    overrides_log = guard is OVERRIDDEN
    log_guard = guard if isinstance(guard, str) else None
    containers: frozenset[str] = frozenset()
    demo_methods, demo_attributes = cls.demo  # what a Lightning demo base (BoringModel) brings
    assigned |= demo_attributes
    used |= demo_methods | demo_attributes
    if cls.inherited is not None:  # what project base classes bring (repository index)
        for attr, collection in cls.inherited.metrics:
            if attr not in metrics and attr not in assigned:
                metrics[attr] = MetricInfo(attr, collection=collection)  # keys unknown: log_dict of it is PM215
        assigned |= cls.inherited.assigned | cls.inherited.value_properties
        used |= cls.inherited.assigned | cls.inherited.methods
        containers = cls.inherited.metric_containers
    if cls.kind == "module":  # known ints, unless this class or a project ancestor defines the name itself
        assigned |= INT_PROPERTIES - methods.keys() - (cls.inherited.methods if cls.inherited else frozenset())
    # ``self.m = m`` of a parameter: the caller may pass a Metric, which Lightning logs as one; a module's
    # ``self.log(name, self.m)`` is told apart at run time (plan/passed_in.py), other uses are PM220.
    passed_in = forwarded_attributes(cls.node) - metrics.keys()
    assigned -= passed_in
    # Under a guard, what predict_step reaches is a call Lightning rejects where the guard holds.
    followed = frozenset({"predict_step"}) if log_guard is not None else frozenset()
    callers = helper_callers(cls, methods, followed)
    single = frozenset(a for a, m in metrics.items() if not m.collection) | passed_in
    reach = MetricReach(cls.node, imports, {a: m.collection for a, m in metrics.items()}, single, containers, callers)
    facts = ClassFacts(
        cls, imports, positions, metrics, frozenset(assigned), containers, callers,
        log_guard, tests_metric_objects(cls.node), closure_literals(cls.node, cls.enclosing),
        frozenset(passed_in) if cls.kind == "module" else frozenset(), reach,
    )
    calls: list[LogCall] = []
    for name, function in methods.items():
        receivers = {"self"}
        params = positional_params(function)
        if cls.kind == "callback" and len(params) >= 3:
            receivers.add(params[2])
        if cls.kind == "callback" and name not in HOOKS and "pl_module" in params:
            receivers.add("pl_module")  # a helper given the module: its calls are found (and reported)
        finder = CallFinder(receivers)
        visit(function.body, finder)
        for found in finder.found:
            for call in read_variants(found, function, facts):
                if overrides_log:
                    call = with_problem(call, LOG_OVERRIDDEN.problem(f"{cls.name} defines its own log/log_dict"))
                calls.append(call)
    calls = names_shared_across_calls(_left_where_an_ancestor_logs(cls, set(methods), calls))
    calls.sort(key=lambda c: (c.line, c.column))
    return ClassAnalysis(cls, calls, metrics, used, methods, log_guard, imports)


def _left_where_an_ancestor_logs(cls: LightningClass, methods: set[str], calls: list[LogCall]) -> list[LogCall]:
    """An epoch value whose name an ancestor's call, still running on this class, logs too: Lightning aggregates
    both calls in one value (or raises), which one aggregator per class cannot reproduce."""
    if not live_ancestor_logs(cls, methods):
        return calls
    by_stage: dict[str | None, dict[str, str]] = {}  # an ancestor's hook of another stage keeps its own value
    found = []
    for call in calls:
        stage = call.spec.stage if call.spec is not None else None
        live = by_stage.get(stage)
        if live is None:
            live = by_stage[stage] = live_ancestor_logs(cls, methods, stage)
        shared = [item.name for item in call.items if item.name in live]
        if shared and call.on_epoch and call.spec is not None:
            name = shared[0]
            call = with_problem(call, NAME_AGGREGATED_TWICE.problem(
                f"{name!r} is also logged by {live[name]}, which runs on {cls.name} too; rename one of them"))
        found.append(call)
    return found


def _value_properties(node: cst.ClassDef) -> set[str]:
    """The class's own properties that return computed values (``put_migrate.value_properties``); only methods
    decorated with ``@property`` are read again with ``ast``."""
    names: set[str] = set()
    for statement in node.body.body:
        if isinstance(statement, cst.FunctionDef) and any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "property" for d in statement.decorators
        ):
            parsed = ast.parse(textwrap.dedent(cst.Module(body=[]).code_for_node(statement))).body[0]
            if isinstance(parsed, ast.FunctionDef) and returns_a_value(parsed):
                names.add(statement.name.value)
    return names
