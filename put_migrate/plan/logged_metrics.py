"""A Metric object logged from a batch hook: Lightning computes it at the epoch end (on_epoch) wherever a log call of
it ran since the loop last reset its results, updated or not (torchmetrics then warns and computes its default
state), and not where the metric was only updated; it resets the Metric with the results only once a log call of it
has run in the loop, on_epoch or on_step only. The compute hook's ``if self.m.update_called:`` and a plain reset
tell the same where the metric is updated in an epoch exactly when it is logged: each log call sits next to an
update (``self.m(...)`` or ``self.m.update(...)``) in one block, nothing between them able to leave the block, and
nothing else updates, resets or hands on ``self.m`` (a reset where no value of the stage waits for its epoch end is
fine): no other method of the class, nor a method of a project ancestor that runs on it or of a subclass in the run.
Elsewhere the log calls of the metric in the stage mark their names (``shim.mark_logged``), the compute hook tests
the mark (``was_logged``) and the reset clears the marks (``reset_logged``), as Lightning's results keep a flag per
name."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze import LogCall, LogItem
from put_migrate.analyze.hierarchy import method_resolution, reached_otherwise, runs_on
from put_migrate.lightning_classes import dotted_name, sub_blocks
from put_migrate.plan.state import BuildState
from put_migrate.plan.syntax import forward_statement
from put_migrate.walk import find_all, visit

_EXITS = (cst.Return, cst.Raise, cst.Break, cst.Continue)


def updates_tell_logged(state: BuildState, call: LogCall, attr: str) -> bool:
    """Whether ``self.<attr>.update_called`` tells where the log calls of ``call``'s stage logged it (module
    docstring); where not, every log call of the metric in the stage marks its name."""
    assert call.spec is not None
    stage = call.spec.stage
    logging = [c for c in state.analysis.calls if c.spec is not None and c.spec.stage == stage
               and any(_logs(i, attr) for i in c.items)]
    # A step-only log call guards no compute, but Lightning's reset of the Metric waits for it all the same.
    guarded = {id(c) for c in logging if c.spec is not None and c.spec.kind != "epoch"}
    if not guarded:
        return True  # put where it is logged: no guard in the compute hook, a reset after the put
    updates = [_update_beside(c.function, c.statement, attr) if c.statement is not None else None for c in logging]
    if any(u is None for c, u in zip(logging, updates) if id(c) in guarded):
        return False  # a log call that may run without an update
    if _ancestor_uses(state, attr) or _subclass_uses(state, attr):
        return False  # an update there is not beside a log call
    paired = {id(u) for u in updates if u is not None}
    logs = {id(c.call) for c in state.analysis.calls}
    return not any(
        _other_use(function, attr, paired, logs, resets_allowed=name in _quiet_hooks(stage))
        for name, function in state.analysis.methods.items()
    )


def _ancestor_uses(state: BuildState, attr: str) -> bool:
    """A project ancestor's method other than ``__init__`` that runs on an instance of the class names
    ``self.<attr>`` (it may update, reset or hand on the Metric)."""
    cls = state.analysis.cls
    if cls.inherited is None:
        return False
    order = method_resolution(cls)
    own = (set(state.analysis.methods), reached_otherwise(cls.node))
    return any(
        name == attr and method != "__init__" and runs_on(order, own, ancestor, method)
        for ancestor in cls.inherited.chain
        for method, name in (*ancestor.self_uses, *ancestor.metric_uses)
    )


def _logs(item: LogItem, attr: str) -> bool:
    """The item logs ``self.<attr>``: a Metric attribute, or one assigned a parameter (a Metric or a value)."""
    if item.metric is not None:
        return item.metric.attr == attr
    value = item.value
    return item.passed_in and isinstance(value, cst.Attribute) and value.attr.value == attr


def _quiet_hooks(stage: str) -> set[str]:
    """Hooks where no logged value of ``stage`` waits for its epoch end: a reset there changes nothing Lightning
    computes (Lightning resets the stage's Metrics at the end of each train epoch and of each eval loop)."""
    return {"__init__", "setup", "on_fit_start", "on_train_start", f"on_{stage}_start", f"on_{stage}_epoch_start"}


def _update_beside(function: cst.FunctionDef, statement: cst.BaseStatement, attr: str) -> cst.BaseStatement | None:
    """The nearest update of ``self.<attr>`` in the block of ``statement`` with nothing between them that may leave
    the block; None where there is none."""
    for body in _blocks(function):
        if statement not in body:
            continue
        index = body.index(statement)
        candidates = sorted((i for i, s in enumerate(body) if _is_update(s, attr)), key=lambda i: abs(i - index))
        for i in candidates:
            low, high = min(i, index), max(i, index)
            if not any(find_all(s, lambda n: isinstance(n, _EXITS)) for s in body[low + 1:high]):
                return body[i]
        return None
    return None


def _blocks(function: cst.FunctionDef) -> list[list[cst.BaseStatement]]:
    """The statement lists of the function's body and of every compound statement in it."""
    found: list[list[cst.BaseStatement]] = []

    def walk(body: list[cst.BaseStatement]) -> None:
        found.append(body)
        for statement in body:
            if isinstance(statement, cst.BaseCompoundStatement) and not isinstance(
                statement, (cst.FunctionDef, cst.ClassDef)
            ):
                for block in sub_blocks(statement):
                    walk(list(block.body))

    if isinstance(function.body, cst.IndentedBlock):
        walk(list(function.body.body))
    return found


def _is_update(statement: cst.BaseStatement, attr: str) -> bool:
    return forward_statement(statement, attr) or forward_statement(statement, f"{attr}.update")


def _other_use(function: cst.FunctionDef, attr: str, paired: set[int], logs: set[int], resets_allowed: bool) -> bool:
    """``function`` uses ``self.<attr>`` other than in a paired update, a log call's argument, an assignment,
    ``compute()`` or (``resets_allowed``) ``reset()``."""
    target = f"self.{attr}"
    harmless = {f"{target}.compute"} | ({f"{target}.reset"} if resets_allowed else set())
    found: list[cst.Attribute] = []

    class Visitor(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
            return id(node) not in paired

        def visit_Call(self, node: cst.Call) -> bool:
            return id(node) not in logs

        def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
            return dotted_name(node.target) != target

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            dotted = dotted_name(node)
            if dotted in harmless:
                return False
            if dotted == target:
                found.append(node)
                return False
            return True

    visit(function.body, Visitor())
    return bool(found)


def _subclass_uses(state: BuildState, attr: str) -> bool:
    """A project class of the run derived from the class names ``self.<attr>`` in a method other than
    ``__init__``: the class's code runs on its instances, next to that use."""
    cls = state.analysis.cls
    index = cls.project
    if cls.kind != "module" or index is None or not cls.key:
        return False
    for module in index.self_naming_modules(attr):
        for name in sorted(index.module_classes.get(module, ())):
            sub = index.classes.get(f"{module}.{name}")
            if sub is None or sub.key == cls.key or not any(a.key == cls.key for a in index.ancestors(sub)):
                continue
            if any(used == attr and method != "__init__" for method, used in (*sub.self_uses, *sub.metric_uses)):
                return True
    return False
