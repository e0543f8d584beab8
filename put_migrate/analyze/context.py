"""Who runs a log statement: the hook itself, or the hooks that call the helper it is in (helper callers)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Literal

import libcst as cst

from put_migrate.analyze.constants import constant_str
from put_migrate.analyze.literals import code_of as _code_of
from put_migrate.analyze.literals import literal_bool, literal_str
from put_migrate.analyze.local_kwargs import item_of, only_spread
from put_migrate.analyze.scope import assigns_name, positional_params
from put_migrate.hooks import HOOKS
from put_migrate.lightning_classes import ImportMap, LightningClass, dotted_name
from put_migrate.walk import visit


@dataclass(frozen=True)
class Context:
    """One way a log statement runs: under which hook, and what is known there about the function's names."""

    hook: str  # the hook Lightning sees as running (``_current_fx_name``)
    hook_function: cst.FunctionDef = field(compare=False, repr=False)
    env: tuple[tuple[str, str], ...] = ()  # names of the logging function bound to literal strings
    batch_name: str | None = None  # the logging function's name for the hook's batch, when it has it
    batch_problem: str | None = None  # why the batch cannot be used (PM211 detail)
    dataloader_idx_name: str | None = None  # the logging function's name for the hook's dataloader_idx
    dataloader_idx_missing: bool = False  # the hook has a dataloader_idx this function cannot name
    via: str | None = None  # the helper, when the statement is in one
    in_loop: bool = False  # the helper call sits in a loop of the hook
    # Options whose value is an expression: the value this variant assumes, as (option, expression code, value).
    assumed: tuple[tuple[str, str, bool], ...] = ()
    # reduce_fx given as an expression: (its code, the reduction this variant assumes; "" for any other value).
    assumed_reduction: tuple[str, str] | None = None
    # The helper's ``**kwargs`` parameter and the literal keywords this caller puts in it.
    kwargs: tuple[str, tuple[tuple[str, cst.BaseExpression], ...]] | None = field(default=None, compare=False)
    # In a Callback's helper: the helper's parameter that the calling hook gives its ``pl_module``.
    module_name: str | None = None
    # The hook rebinds its dataloader_idx parameter: its suffix and aggregators follow the running dataloader.
    dataloader_idx_rebound: bool = False
    # Names of the logging function bound to literal True/False by the caller (``self._log(..., train=False)``, or
    # the parameter's default): an option given as one of them, or its ``not``, is known in this context.
    truths: tuple[tuple[str, bool], ...] = ()
    # The subclass whose hook runs the helper, when the hook is not the class's own (``subclass_callers``).
    caller_class: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class HelperCall:
    """A ``self.<helper>(...)`` call (or another use of ``self.<helper>``) in a method of the class."""

    hook: str
    hook_function: cst.FunctionDef = field(compare=False, repr=False)
    call: cst.Call | None = field(compare=False, repr=False)
    in_loop: bool = False
    problem: str | None = None  # why this caller cannot be followed (PM205 detail)
    # ``self.<hook> = self.<method>`` in ``__init__``: the method runs as that hook (``hook``), with its own
    # parameters in the hook's places (pytorch-lightning's profiler example).
    alias: bool = False
    # The method is no hook: the Callbacks of the run call it on their module from this hook (``hook``), which is
    # then the hook Lightning sees running (``callback_entries``); ``hook_function`` is the method itself.
    entry: bool = False
    # The call is in a method of this subclass of the class (``subclass_callers``), not of the class itself.
    subclass: str | None = None


# Lightning 1.x epoch-end hooks and the Lightning 2 hooks that replace them.
REMOVED_EPOCH_END = {
    "training_epoch_end": "on_train_epoch_end",
    "validation_epoch_end": "on_validation_epoch_end",
    "test_epoch_end": "on_test_epoch_end",
}


def removed_hook_problem(hook: str) -> str:
    """Why a call reached from a Lightning 1.x epoch-end hook is left: Lightning 2 never runs it."""
    return (
        f"`{hook}` is a Lightning 1.x hook, removed in Lightning 2.0 (Lightning 2 refuses to run a module that"
        f" defines it, so this call never runs from there): move its code to `{REMOVED_EPOCH_END[hook]}` (keep the"
        " step outputs in an attribute), then run put-migrate again"
    )


# How a function uses ``self.<name>``: called in its own body, called in a function nested in it, or otherwise.
UseKind = Literal["call", "nested call", "other use"]


class SelfUses(cst.CSTVisitor):
    """The uses of ``self.<name>`` in one function body, for the names in ``names``, handed to ``record(name, kind,
    node, in_loop)`` in the order they occur: a call in the body itself (the ``Call``, with whether a loop holds
    it), a call in a function, lambda or class nested in it (the ``Call``), or any other use (the ``Attribute``)."""

    def __init__(self, names: Collection[str], record: Callable[[str, UseKind, cst.CSTNode, bool], None]) -> None:
        self.names, self.record = names, record
        self.nested = 0
        self.loops = 0
        self.calls: set[int] = set()  # the ``self.<name>`` of each call seen, or otherwise accounted for

    def _enter(self, node: cst.CSTNode) -> None:
        self.nested += 1

    def _leave(self, node: cst.CSTNode) -> None:
        self.nested -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter  # type: ignore[assignment]
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave  # type: ignore[assignment]

    def visit_For(self, node: cst.For) -> None:
        self.loops += 1

    def leave_For(self, node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, node: cst.While) -> None:
        self.loops -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self" and func.attr.value in self.names:
            self.calls.add(id(func))
            self.record(func.attr.value, "nested call" if self.nested else "call", node, self.loops > 0)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # visit_Call runs before the callee's Attribute is visited, so a call's func is already known.
        if dotted_name(node.value) == "self" and node.attr.value in self.names and id(node) not in self.calls:
            self.record(node.attr.value, "other use", node, False)


def helper_callers(
    cls: LightningClass, methods: dict[str, cst.FunctionDef], followed: frozenset[str] = frozenset()
) -> dict[str, list[HelperCall]]:
    """For each method, the ``self.<method>(...)`` calls that reach it (the intra-class call graph, one level).

    A caller that is not a Lightning hook, or any other use of ``self.<method>`` (passed around, called from a
    nested function), is recorded with a problem: Lightning would take the defaults from a hook we cannot see.
    The hooks in ``followed`` are followed although they may not log (the reader decides what Lightning does).
    """
    found: dict[str, list[HelperCall]] = {}
    known = methods  # the methods whose uses are recorded (with the ancestors' methods that run, below)
    if cls.kind not in ("module", "callback"):
        return found

    class Visitor(SelfUses):
        def __init__(self, hook: str, function: cst.FunctionDef) -> None:
            super().__init__(known, self.record_use)
            self.hook, self.function = hook, function

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Name) and func.value == "self" and "forward" in known and self.nested == 0:
                # ``self(...)`` runs ``forward`` (through ``nn.Module.__call__``) under the calling hook.
                problem = None
                if HOOKS.get(self.hook) is None and self.hook not in followed:
                    problem = f"`self(...)` is called from `{self.hook}`, which is not a Lightning hook that may log"
                found.setdefault("forward", []).append(
                    HelperCall(self.hook, self.function, node, self.loops > 0, problem)
                )
                return
            super().visit_Call(node)

        def record_use(self, method: str, kind: UseKind, node: cst.CSTNode, in_loop: bool) -> None:
            problem = None
            if kind == "nested call":
                problem = (
                    f"`self.{method}(...)` is called in a function nested in `{self.hook}`, which runs "
                    "wherever that function is run (a closure returned or handed on): call it from the hook itself"
                )
            elif kind == "other use":
                problem = f"`self.{method}` is used in `{self.hook}` other than as a direct call"
            elif self.hook in REMOVED_EPOCH_END:
                problem = removed_hook_problem(self.hook)
            elif HOOKS.get(self.hook) is None and self.hook not in followed:
                problem = _NOT_A_HOOK_CALLER
            call = node if kind == "call" and isinstance(node, cst.Call) else None
            found.setdefault(method, []).append(
                HelperCall(self.hook, self.function, call, in_loop and call is not None, problem)
            )

        def visit_Assign(self, node: cst.Assign) -> None:
            if self.hook != "__init__" or self.nested or len(node.targets) != 1:
                return
            target = node.targets[0].target
            if not (isinstance(target, cst.Attribute) and dotted_name(target.value) == "self"):
                return
            hook = target.attr.value
            spec = HOOKS.get(hook)
            if spec is None or spec.kind != "batch" or hook in known:
                return
            value = node.value
            candidates = [value.body, value.orelse] if isinstance(value, cst.IfExp) else [value]
            if not all(
                isinstance(c, cst.Attribute) and dotted_name(c.value) == "self" and c.attr.value in methods
                for c in candidates
            ):
                return
            for candidate in candidates:
                assert isinstance(candidate, cst.Attribute)
                self.calls.add(id(candidate))
                found.setdefault(candidate.attr.value, []).append(
                    HelperCall(hook, methods[candidate.attr.value], None, False, None, alias=True)
                )

    from put_migrate.analyze.hierarchy import inherited_methods  # it reads the index's records, not this module's

    # An ancestor's method that runs on this class (a hook, or a helper on the way from one) may call its methods.
    inherited, other_uses = inherited_methods(cls, methods)
    known = {**inherited, **methods}
    for name, function in [*methods.items(), *inherited.items()]:
        visit(function.body, Visitor(name, function))
    for method, where, problem in other_uses:
        found.setdefault(method, []).append(HelperCall(where, known[method], None, False, problem))
    _follow_callback_entries(cls, methods, found)
    return found


# Placeholder for the problem of a call made by a method that is no hook, settled by _follow_callback_entries.
_NOT_A_HOOK_CALLER = "<called from a method that is not a hook>"


def _follow_callback_entries(cls: LightningClass, methods: dict[str, cst.FunctionDef],
                             found: dict[str, list[HelperCall]]) -> None:
    """Settle the calls made by methods that are no hook: where the class never uses such a method and the run's
    Callbacks call it on their module from known hooks (``callback_entries``), its calls are followed from those
    hooks; else each keeps its problem, which names the Callback's call that leaves the hook unknown."""
    callers = {c.hook for calls in found.values() for c in calls if c.problem == _NOT_A_HOOK_CALLER}
    settled: dict[str, tuple[str, ...] | str] = {}
    for method in sorted(callers):
        if method in methods and not found.get(method):  # only Callbacks may call it: ask the run which
            settled[method] = callback_hooks(cls, method)
    for callee, calls in found.items():
        for i, call in enumerate(calls):
            if call.problem != _NOT_A_HOOK_CALLER:
                continue
            hooks = settled.get(call.hook, "")
            if isinstance(hooks, tuple):
                calls[i] = replace(call, problem=None)
                continue
            unknown = f" (the run calls it where the hook is unknown: {hooks})" if hooks else ""
            calls[i] = replace(call, problem=(
                f"called from `{call.hook}`, which is not a Lightning hook that may log (whoever calls"
                f" `{call.hook}` decides which hook runs: a callback may call it from its own hooks, each with"
                f" its own defaults and step values){unknown}; keep the log calls out of what `{call.hook}`"
                f" reaches: return the values from `{callee}` and log them in the hooks that call it"
            ))
    for method, hooks in settled.items():
        if isinstance(hooks, tuple):
            found[method] = [HelperCall(hook, methods[method], None, entry=True) for hook in hooks]


def callback_hooks(cls: LightningClass, method: str) -> tuple[str, ...] | str:
    """The hooks of the run's Callbacks that call ``method`` of module ``cls`` on their module, when they are all
    known (``callback_entries``); else why not ("" where nothing in the run calls it, or there is no run)."""
    if cls.kind != "module" or cls.project is None:
        return ""
    return cls.project.callback_hooks(method)


def unknown_callers(cls: LightningClass, method: str) -> str:
    """Why the Callbacks' calls of ``method`` do not tell the hooks it runs under, as a clause (or nothing)."""
    why = callback_hooks(cls, method)
    return f" (the run calls it where the hook is unknown: {why})" if isinstance(why, str) and why else ""


def hook_context(function: cst.FunctionDef, cls: LightningClass, hook: str | None = None) -> Context:
    """The context of a hook's own statements: its batch and dataloader_idx parameters (or ``*args`` items);
    ``hook``: the hook the function runs as, when it is not its name (an alias assigned in ``__init__``)."""
    hook = hook or function.name.value
    spec = HOOKS.get(hook)
    params = positional_params(function)
    offset = 1 if cls.kind == "module" else 3  # self (, trainer, pl_module)
    batch_name = dataloader_idx_name = None
    batch_problem = None
    dataloader_idx_rebound = False
    # Lightning passes a hook's arguments positionally (``*hook_kwargs.values()``), so a ``*args`` parameter holds
    # those past the named ones; ``dataloader_idx`` is passed only with several sequential eval dataloaders.
    star = function.params.star_arg
    star_name = star.name.value if isinstance(star, cst.Param) else None
    star_reassigned = star_name is not None and assigns_name(function, star_name)
    dataloader_idx_missing = False
    if spec is not None and spec.batch_param is not None:
        index = spec.batch_param + offset
        if index < len(params):
            batch_name = params[index]
            if batch_name == "dataloader_iter":
                batch_name = None
            elif assigns_name(function, batch_name):
                batch_problem = f"`{batch_name}` is reassigned in `{hook}`"
        elif star_name is not None:
            batch_name = f"{star_name}[{index - len(params)}]"
            if star_reassigned:
                batch_problem = f"`{star_name}` is reassigned in `{hook}`"
    if spec is not None and spec.dataloader_idx_param is not None:
        index = spec.dataloader_idx_param + offset
        if index < len(params):
            dataloader_idx_name = params[index]
            if assigns_name(function, dataloader_idx_name):
                # self.log suffixes by the running dataloader, not by what the name holds when it is called.
                dataloader_idx_name, dataloader_idx_rebound = None, True
        elif star_name is not None and not star_reassigned:
            k = index - len(params)
            dataloader_idx_name = f"{star_name}[{k}] if len({star_name}) > {k} else 0"
        else:
            dataloader_idx_missing = star_name is not None
    return Context(hook, function, (), batch_name, batch_problem, dataloader_idx_name,
                   dataloader_idx_missing or dataloader_idx_rebound, dataloader_idx_rebound=dataloader_idx_rebound)


def entry_context(method: cst.FunctionDef, hook: str, step: cst.FunctionDef | None) -> Context:
    """The context of a module method that a Callback's ``hook`` calls on its module (``callback_entries``): what
    the Callback passes is not followed, so the batch and the dataloader_idx are the ones in flight. ``step``: the
    class's own ``validation_step``/``test_step`` for an eval hook; where it takes no ``dataloader_idx`` (nor
    ``*args``, nor a ``dataloader_iter``), Lightning refuses several dataloaders at the start of the loop, so the
    hook never gets a dataloader_idx."""
    spec = HOOKS.get(hook)
    missing = spec is not None and spec.dataloader_idx_param is not None
    if missing and step is not None:
        params = positional_params(step)
        missing = "dataloader_idx" in params or "dataloader_iter" in params or isinstance(step.params.star_arg, cst.Param)
    return Context(hook, method, via=method.name.value, dataloader_idx_missing=missing)


def helper_context(
    helper: cst.FunctionDef, caller: HelperCall, cls: LightningClass, outer: Context | None = None,
    imports: ImportMap | None = None,
) -> tuple[Context | None, str | None]:
    """The context of a helper's statements when ``caller`` runs it (``outer``: the context the calling helper
    runs in, when the caller is a helper itself); or the reason it cannot be known. ``imports``: the class's, to
    read an argument naming a module's string constant (``KEYS.ACCURACY``) as its literal."""
    if outer is None and (caller.problem is not None or caller.call is None):
        return None, caller.problem
    assert caller.call is not None
    hook_ctx = outer if outer is not None else hook_context(caller.hook_function, cls)
    outer_env = dict(outer.env) if outer is not None else {}
    if outer is not None:  # the calling helper may rebind what holds the batch or the dataloader_idx
        rebound = {n for n in (outer.batch_name, outer.dataloader_idx_name) if n and assigns_name(caller.hook_function, n)}
        if outer.batch_name in rebound:
            hook_ctx = replace(hook_ctx, batch_problem=f"`{outer.batch_name}` is reassigned in `{caller.hook}`")
        if outer.dataloader_idx_name in rebound:
            hook_ctx = replace(hook_ctx, dataloader_idx_name=None, dataloader_idx_missing=True)
    params = [*helper.params.posonly_params, *helper.params.params]
    if not params or params[0].name.value != "self":
        return None, f"`{helper.name.value}` is not a plain method"
    bound: dict[str, cst.BaseExpression] = {}
    positional = [p.name.value for p in params[1:]]
    keyword_only = {p.name.value for p in helper.params.kwonly_params}
    star_kwargs = helper.params.star_kwarg.name.value if helper.params.star_kwarg is not None else None
    forwarded: list[tuple[str, cst.BaseExpression]] = []
    from_star: dict[str, str] = {}  # helper parameter -> the item of the hook's ``*args`` it receives
    for index, arg in enumerate(caller.call.args):
        if arg.star:
            items = _hook_arguments_forwarded(arg, index, caller, outer, positional)
            if items is None:
                return None, (
                    f"`{caller.hook}` calls `{helper.name.value}` with `{arg.star}{_code_of(arg.value)}`: forward only the "
                    "hook's own `*args`/`**kwargs`, whole and after the other positional arguments, or pass the "
                    "arguments one by one"
                )
            from_star.update(items)
            continue
        if arg.keyword is None:
            if index >= len(positional):
                return None, f"`{caller.hook}` calls `{helper.name.value}` with too many arguments"
            bound[positional[index]] = arg.value
        elif arg.keyword.value in positional or arg.keyword.value in keyword_only:
            bound[arg.keyword.value] = arg.value
        elif star_kwargs is not None and _constant(arg.value) and not assigns_name(helper, star_kwargs):
            # A literal keyword collected by the helper's ``**kwargs``: the same literal where it is forwarded.
            forwarded.append((arg.keyword.value, arg.value))
        elif star_kwargs is not None and only_spread(helper, star_kwargs):
            # Any other keyword collected by ``**kwargs``, which the helper only spreads: read from it again there.
            forwarded.append((arg.keyword.value, item_of(star_kwargs, arg.keyword.value)))
        else:
            return None, f"`{caller.hook}` calls `{helper.name.value}` with an unknown argument"
    for param in [*params[1:], *helper.params.kwonly_params]:  # literal defaults count as literal arguments
        if param.name.value not in bound and param.name.value not in from_star and param.default is not None:
            bound[param.name.value] = param.default
    env = []
    truths = []
    outer_truths = dict(outer.truths) if outer is not None else {}
    batch_name = dataloader_idx_name = None
    for name, expression in bound.items():
        truth = literal_bool(expression)
        if truth is None and isinstance(expression, cst.Name):
            truth = outer_truths.get(expression.value)
        if truth is not None and not assigns_name(helper, name):
            truths.append((name, truth))
        if assigns_name(helper, name):
            # A rebound batch parameter still holds the hook's batch before its first assignment (checked per call).
            if isinstance(expression, cst.Name) and expression.value == hook_ctx.batch_name:
                batch_name = name
            continue
        text = literal_str(expression)
        if text is None and isinstance(expression, cst.Name) and expression.value in outer_env:
            text = outer_env[expression.value]  # a literal the calling helper was given
        if text is None:
            text = constant_str(expression, caller.hook_function, cls, imports)
        if text is not None:
            env.append((name, text))
        elif isinstance(expression, cst.Name):
            if expression.value == hook_ctx.batch_name:
                batch_name = name
            if expression.value == hook_ctx.dataloader_idx_name:
                dataloader_idx_name = name
    for name, item in from_star.items():
        if item == hook_ctx.batch_name and not assigns_name(helper, name):
            batch_name = name
    module_name = None
    if cls.kind == "callback" and outer is None:
        # The hook's ``pl_module`` (its third parameter), passed on by name to a helper parameter never rebound.
        hook_params = positional_params(caller.hook_function)
        module = hook_params[2] if len(hook_params) > 2 else None
        module_name = next((name for name, expression in bound.items() if isinstance(expression, cst.Name)
                            and expression.value == module and not assigns_name(helper, name)), None)
    batch_problem = hook_ctx.batch_problem
    if hook_ctx.batch_name is not None and batch_name is None and batch_problem is None:
        batch_problem = f"`{caller.hook}` does not pass `{hook_ctx.batch_name}` to `{helper.name.value}`"
    return Context(
        hook_ctx.hook,
        hook_ctx.hook_function,
        tuple(sorted(env)),
        batch_name,
        batch_problem,
        dataloader_idx_name,
        hook_ctx.dataloader_idx_missing or (hook_ctx.dataloader_idx_name is not None and dataloader_idx_name is None),
        helper.name.value if outer is None else f"{outer.via} -> {helper.name.value}",
        caller.in_loop or (outer is not None and outer.in_loop),
        kwargs=(star_kwargs, tuple(forwarded)) if star_kwargs is not None else None,
        module_name=module_name,
        truths=tuple(sorted(truths)),
        caller_class=outer.caller_class if outer is not None else None,
    ), None


def _hook_arguments_forwarded(
    arg: cst.Arg, index: int, caller: HelperCall, outer: Context | None, positional: list[str]
) -> dict[str, str] | None:
    """The helper parameters that a hook's own ``*args``/``**kwargs``, forwarded whole (``self.step("train", *args,
    **kwargs)``), fill: Lightning passes a hook's arguments positionally, so ``**kwargs`` is empty and the helper's
    parameters after the ``index`` given before ``*args`` receive its items in order. None for anything else."""
    function = caller.hook_function
    star_param = function.params.star_arg if arg.star == "*" else function.params.star_kwarg
    if (
        outer is not None  # a helper's own ``*args`` holds what its caller gave it
        or not isinstance(arg.value, cst.Name)
        or not isinstance(star_param, cst.Param)
        or star_param.name.value != arg.value.value
        or assigns_name(function, arg.value.value)
        or HOOKS.get(caller.hook) is None
    ):
        return None
    if arg.star == "**":
        return {}
    args = caller.call.args if caller.call is not None else ()
    if any(a.keyword is not None or a.star for a in args[:index]) or any(
        a.keyword is None and not a.star for a in args[index + 1:]
    ):
        return None
    return {name: f"{arg.value.value}[{i}]" for i, name in enumerate(positional[index:])}


def _constant(node: cst.BaseExpression) -> bool:
    """A literal that means the same wherever it is written: True/False/None, a number or a string."""
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)) or literal_str(node) is not None
