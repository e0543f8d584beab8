"""Turn every ``self.log``/``self.log_dict``/``pl_module.log`` call of a Lightning class into a plain ``LogCall``.

Nothing here decides the rewrite: a ``LogCall`` says where the call is (hook, stage), what Lightning resolves its
arguments to (on_step/on_epoch defaults from the hook, SELF_LOG_SEMANTICS.md §1; reduce_fx spellings, §3.2), and,
when the call cannot be read with certainty, the rule code of the problem.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import libcst as cst
from libcst.metadata import CodeRange

from put_migrate.hooks import FORBIDDEN_HOOKS, HOOKS, HookSpec
from put_migrate.lightning_classes import INT_PROPERTIES, ImportMap, LightningClass, dotted_name, uses_torchmetrics
from put_migrate.walk import visit

LOG_PARAMS = (
    "name",
    "value",
    "prog_bar",
    "logger",
    "on_step",
    "on_epoch",
    "reduce_fx",
    "enable_graph",
    "sync_dist",
    "sync_dist_group",
    "add_dataloader_idx",
    "batch_size",
    "metric_attribute",
    "rank_zero_only",
)
LOG_DICT_PARAMS = ("dictionary",) + LOG_PARAMS[2:12] + ("rank_zero_only",)

_REDUCE_STRINGS = {"mean": "mean", "avg": "mean", "sum": "sum", "max": "max", "min": "min"}
_REDUCE_CALLABLES = {
    "torch.mean": "mean",
    "torch.sum": "sum",
    "torch.max": "max",
    "torch.min": "min",
}
_REDUCE_BUILTINS = {"sum": "sum", "max": "max", "min": "min"}

Problem = tuple[str, str]  # (rule code, detail)

# Attributes holding a ModuleDict/ModuleList of metrics, for the class being analysed.
_CONTAINERS: ContextVar[frozenset[str]] = ContextVar("_CONTAINERS", default=frozenset())


@dataclass(frozen=True)
class MetricInfo:
    """An attribute assigned a torchmetrics ``Metric`` (or ``MetricCollection``) somewhere in the class."""

    attr: str
    collection: bool = False
    keys: Optional[tuple[str, ...]] = None  # MetricCollection built from a dict literal with literal keys
    prefix: str = ""
    postfix: str = ""


@dataclass(frozen=True)
class LogItem:
    """One logged name and its value (``log`` has one, ``log_dict`` one per key)."""

    name: str
    value: cst.BaseExpression = field(compare=False, repr=False)
    metric: Optional[MetricInfo] = None  # the value is ``self.<metric>`` (or one entry of a MetricCollection)
    collection_key: Optional[str] = None  # the entry's key in the MetricCollection, without prefix/postfix
    dynamic: bool = False  # ``value`` is a whole mapping whose keys are only known at run time (``log_dict(d)``)


@dataclass(frozen=True)
class LogCall:
    call: cst.Call = field(compare=False, repr=False)
    statement: Optional[cst.SimpleStatementLine] = field(compare=False, repr=False)
    function: cst.FunctionDef = field(compare=False, repr=False)
    method: str  # "log" or "log_dict"
    receiver: str  # "self" or the callback hook's pl_module parameter
    hook: str
    spec: Optional[HookSpec]
    line: int
    column: int
    items: tuple[LogItem, ...] = ()
    on_step: bool = False
    on_epoch: bool = False
    prog_bar: bool = False
    logger: bool = True
    reduce: str = "mean"
    sync_dist: bool = False
    sync_group: Optional[cst.BaseExpression] = field(default=None, compare=False, repr=False)
    rank_zero_only: bool = False
    add_dataloader_idx: bool = True
    batch_size: Optional[cst.BaseExpression] = field(default=None, compare=False, repr=False)
    batch_param: Optional[str] = None  # the hook's batch parameter, when the weight must be inferred from it
    dataloader_idx_param: Optional[str] = None
    trainer: str = "self.trainer"  # how to reach the Trainer in this hook
    in_loop: bool = False
    problem: Optional[Problem] = None
    # The helper method the call is in, when a hook reaches it through ``self.<helper>(...)`` (``hook`` is then the
    # calling hook, the one Lightning sees as running), and the names bound to literal strings in this variant
    # (helper parameters, ``for`` variables over literal tuples) that its name depends on.
    via: Optional[str] = None
    bindings: tuple[tuple[str, str], ...] = ()

    @property
    def forked(self) -> bool:
        return self.on_step and self.on_epoch

    @property
    def sync(self) -> bool:
        return self.sync_dist and not self.rank_zero_only


@dataclass
class ClassAnalysis:
    cls: LightningClass
    calls: list[LogCall]
    metrics: dict[str, MetricInfo]
    used_names: set[str]  # attributes (self.x), methods and class-level names: taken for new attributes
    methods: dict[str, cst.FunctionDef]


# ---------------------------------------------------------------------------------------------------------------
# Walking a class


def analyze_class(cls: LightningClass, imports: ImportMap, positions: dict[cst.CSTNode, CodeRange]) -> ClassAnalysis:
    if cls.imports is not None:  # a class of a function body also sees the imports of its enclosing functions
        imports = cls.imports
    methods: dict[str, cst.FunctionDef] = {}
    used: set[str] = set()
    for statement in cls.node.body.body:
        if isinstance(statement, cst.FunctionDef):
            methods[statement.name.value] = statement
            used.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    used.update(t.value for t in targets if isinstance(t, cst.Name))
    attrs = _SelfAttributes()
    visit(cls.node, attrs)
    used |= attrs.names
    assigned = _assigned_self_attributes(cls.node)
    metrics = _find_metrics(cls.node, imports)
    overrides_log = "log" in methods or "log_dict" in methods
    containers: frozenset[str] = frozenset()
    demo_methods, demo_attributes = cls.demo  # what a Lightning demo base (BoringModel) brings
    assigned |= demo_attributes
    used |= demo_methods | demo_attributes
    if cls.inherited is not None:  # what project base classes bring (repository index)
        for attr, collection in cls.inherited.metrics:
            if attr not in metrics and attr not in assigned:
                metrics[attr] = MetricInfo(attr, collection=collection)  # keys unknown: log_dict of it is PM215
        assigned |= cls.inherited.assigned
        used |= cls.inherited.assigned | cls.inherited.methods
        overrides_log = overrides_log or bool({"log", "log_dict"} & cls.inherited.methods)
        containers = cls.inherited.metric_containers
    if cls.kind == "module":  # known ints, unless this class or a project ancestor defines the name itself
        assigned |= INT_PROPERTIES - methods.keys() - (cls.inherited.methods if cls.inherited else frozenset())
    assigned = set(assigned)
    _CONTAINERS.set(containers)
    callers = _helper_callers(cls, methods)
    calls: list[LogCall] = []
    for name, function in methods.items():
        receivers = {"self"}
        params = _positional_params(function)
        if cls.kind == "callback" and len(params) >= 3:
            receivers.add(params[2])
        if cls.kind == "callback" and name not in HOOKS and "pl_module" in params:
            receivers.add("pl_module")  # a helper given the module: its calls are found (and reported)
        finder = _CallFinder(receivers)
        visit(function.body, finder)
        for found in finder.found:
            for call in _read_variants(found, function, cls, imports, metrics, positions, assigned, callers):
                if overrides_log:
                    call = _with_problem(call, ("PM207", f"{cls.name} defines its own log/log_dict"))
                calls.append(call)
    calls.sort(key=lambda c: (c.line, c.column))
    return ClassAnalysis(cls, calls, metrics, used, methods)


# ---------------------------------------------------------------------------------------------------------------
# Who runs a log statement: the hook itself, or the hooks that call the helper it is in


@dataclass(frozen=True)
class _Context:
    """One way a log statement runs: under which hook, and what is known there about the function's names."""

    hook: str  # the hook Lightning sees as running (``_current_fx_name``)
    hook_function: cst.FunctionDef = field(compare=False, repr=False)
    env: tuple[tuple[str, str], ...] = ()  # names of the logging function bound to literal strings
    batch_name: Optional[str] = None  # the logging function's name for the hook's batch, when it has it
    batch_problem: Optional[str] = None  # why the batch cannot be used (PM211 detail)
    dataloader_idx_name: Optional[str] = None  # the logging function's name for the hook's dataloader_idx
    dataloader_idx_missing: bool = False  # the hook has a dataloader_idx this function cannot name
    via: Optional[str] = None  # the helper, when the statement is in one
    in_loop: bool = False  # the helper call sits in a loop of the hook


@dataclass(frozen=True)
class _HelperCall:
    hook: str
    hook_function: cst.FunctionDef = field(compare=False, repr=False)
    call: Optional[cst.Call] = field(compare=False, repr=False)
    in_loop: bool = False
    problem: Optional[str] = None  # why this caller cannot be followed (PM205 detail)


def _helper_callers(cls: LightningClass, methods: dict[str, cst.FunctionDef]) -> dict[str, list[_HelperCall]]:
    """For each method, the ``self.<method>(...)`` calls that reach it (the intra-class call graph, one level).

    A caller that is not a Lightning hook, or any other use of ``self.<method>`` (passed around, called from a
    nested function), is recorded with a problem: Lightning would take the defaults from a hook we cannot see.
    """
    found: dict[str, list[_HelperCall]] = {}
    if cls.kind != "module":  # Callback helpers would also need the pl_module and trainer parameters mapped
        return found

    class Visitor(cst.CSTVisitor):
        def __init__(self, hook: str, function: cst.FunctionDef) -> None:
            self.hook, self.function = hook, function
            self.nested = 0
            self.loops = 0
            self.calls: set[int] = set()

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
            if (
                isinstance(func, cst.Attribute)
                and dotted_name(func.value) == "self"
                and func.attr.value in methods
                and self.nested == 0
            ):
                self.calls.add(id(func))
                spec = HOOKS.get(self.hook)
                problem = None
                if spec is None:
                    problem = f"called from `{self.hook}`, which is not a Lightning hook that may log"
                found.setdefault(func.attr.value, []).append(
                    _HelperCall(self.hook, self.function, node, self.loops > 0, problem)
                )

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if dotted_name(node.value) == "self" and node.attr.value in methods and id(node) not in self.calls:
                # visit_Call runs before the callee's Attribute is visited, so a call's func is already known.
                found.setdefault(node.attr.value, []).append(
                    _HelperCall(self.hook, self.function, None, False, f"`self.{node.attr.value}` is used in `{self.hook}` other than as a direct call")
                )

    for name, function in methods.items():
        visit(function.body, Visitor(name, function))
    return found


def _hook_context(function: cst.FunctionDef, cls: LightningClass) -> _Context:
    hook = function.name.value
    spec = HOOKS.get(hook)
    params = _positional_params(function)
    offset = 1 if cls.kind == "module" else 3  # self (, trainer, pl_module)
    batch_name = dataloader_idx_name = None
    batch_problem = None
    # Lightning passes a hook's arguments positionally (``*hook_kwargs.values()``), so a ``*args`` parameter holds
    # those past the named ones; ``dataloader_idx`` is passed only with several sequential eval dataloaders.
    star = function.params.star_arg
    star_name = star.name.value if isinstance(star, cst.Param) else None
    star_reassigned = star_name is not None and _assigns_name(function, star_name)
    dataloader_idx_missing = False
    if spec is not None and spec.batch_param is not None:
        index = spec.batch_param + offset
        if index < len(params):
            batch_name = params[index]
            if batch_name == "dataloader_iter":
                batch_name = None
            elif _assigns_name(function, batch_name):
                batch_problem = f"`{batch_name}` is reassigned in `{hook}`"
        elif star_name is not None:
            batch_name = f"{star_name}[{index - len(params)}]"
            if star_reassigned:
                batch_problem = f"`{star_name}` is reassigned in `{hook}`"
    if spec is not None and spec.dataloader_idx_param is not None:
        index = spec.dataloader_idx_param + offset
        if index < len(params):
            dataloader_idx_name = params[index]
        elif star_name is not None and not star_reassigned:
            k = index - len(params)
            dataloader_idx_name = f"{star_name}[{k}] if len({star_name}) > {k} else 0"
        else:
            dataloader_idx_missing = star_name is not None
    return _Context(hook, function, (), batch_name, batch_problem, dataloader_idx_name, dataloader_idx_missing)


def _helper_context(helper: cst.FunctionDef, caller: _HelperCall, cls: LightningClass) -> tuple[Optional[_Context], Optional[str]]:
    """The context of a helper's statements when ``caller`` runs it; or the reason it cannot be known."""
    if caller.problem is not None or caller.call is None:
        return None, caller.problem
    hook_ctx = _hook_context(caller.hook_function, cls)
    params = [*helper.params.posonly_params, *helper.params.params]
    if not params or params[0].name.value != "self":
        return None, f"`{helper.name.value}` is not a plain method"
    bound: dict[str, cst.BaseExpression] = {}
    positional = [p.name.value for p in params[1:]]
    keyword_only = {p.name.value for p in helper.params.kwonly_params}
    for index, arg in enumerate(caller.call.args):
        if arg.star:
            return None, f"`{caller.hook}` calls `{helper.name.value}` with `{arg.star}`"
        if arg.keyword is None:
            if index >= len(positional):
                return None, f"`{caller.hook}` calls `{helper.name.value}` with too many arguments"
            bound[positional[index]] = arg.value
        elif arg.keyword.value in positional or arg.keyword.value in keyword_only:
            bound[arg.keyword.value] = arg.value
        else:
            return None, f"`{caller.hook}` calls `{helper.name.value}` with an unknown argument"
    for param in [*params[1:], *helper.params.kwonly_params]:  # literal defaults count as literal arguments
        if param.name.value not in bound and param.default is not None:
            bound[param.name.value] = param.default
    env = []
    batch_name = dataloader_idx_name = None
    for name, expression in bound.items():
        if _assigns_name(helper, name):
            # A rebound batch parameter still holds the hook's batch before its first assignment (checked per call).
            if isinstance(expression, cst.Name) and expression.value == hook_ctx.batch_name:
                batch_name = name
            continue
        text = _literal_str(expression)
        if text is not None:
            env.append((name, text))
        elif isinstance(expression, cst.Name):
            if expression.value == hook_ctx.batch_name:
                batch_name = name
            if expression.value == hook_ctx.dataloader_idx_name:
                dataloader_idx_name = name
    batch_problem = hook_ctx.batch_problem
    if hook_ctx.batch_name is not None and batch_name is None and batch_problem is None:
        batch_problem = f"`{caller.hook}` does not pass `{hook_ctx.batch_name}` to `{helper.name.value}`"
    return _Context(
        caller.hook,
        caller.hook_function,
        tuple(sorted(env)),
        batch_name,
        batch_problem,
        dataloader_idx_name,
        hook_ctx.dataloader_idx_missing or (hook_ctx.dataloader_idx_name is not None and dataloader_idx_name is None),
        helper.name.value,
        caller.in_loop,
    ), None


_MAX_VARIANTS = 32


def _literal_loops(found: _Found, function: cst.FunctionDef, name_node: Optional[cst.BaseExpression]):
    """Enclosing ``for v in ("a", "b"):`` loops whose variable the name uses: (variable, values) each."""
    if name_node is None:
        return [], found.in_loop
    used = _names_in_expression(name_node)
    literal: list[tuple[str, tuple[str, ...]]] = []
    other = False
    for loop in found.loops:
        values = None
        if (
            isinstance(loop, cst.For)
            and loop.asynchronous is None
            and isinstance(loop.target, cst.Name)
            and loop.target.value in used
            and isinstance(loop.iter, (cst.Tuple, cst.List))
            and loop.orelse is None
        ):
            texts = [None if isinstance(el, cst.StarredElement) else _literal_str(el.value) for el in loop.iter.elements]
            if texts and all(t is not None for t in texts) and not _assigns_name(loop.body, loop.target.value):
                values = tuple(t for t in texts if t is not None)
        if values is None:
            other = True
        else:
            literal.append((loop.target.value, values))
    return literal, other


def _names_in_expression(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            visit(n.value, self)
            return False

    visit(node, Visitor())
    return names


def _read_variants(found, function, cls, imports, metrics, positions, assigned, callers) -> list[LogCall]:
    """One ``LogCall`` per way the statement runs (caller hook x literal loop values), or one with a problem."""
    hook = function.name.value
    contexts: list[_Context] = []
    if hook in HOOKS or hook in FORBIDDEN_HOOKS or cls.kind != "module":
        contexts.append(_hook_context(function, cls))
    else:
        reached = callers.get(hook, [])
        problem = None
        if not reached:
            problem = f"`{hook}` is not called from any hook of {cls.name}"
        for caller in reached:
            context, why = _helper_context(function, caller, cls)
            if context is None:
                problem = problem or why
            else:
                contexts.append(context)
        if problem is not None:
            call = _read_call(found, function, _Context(hook, function), cls, imports, metrics, positions, assigned)
            if call.problem is None or call.problem[0] == "PM205":
                call = replace(call, problem=("PM205", problem))
            return [call]
    name_node = _name_argument(found)
    loops, other_loops = _literal_loops(found, function, name_node)
    variants: list[_Context] = []
    for context in contexts:
        expanded = [context]
        for variable, values in loops:
            expanded = [
                replace(c, env=tuple(sorted({**dict(c.env), variable: value}.items())))
                for c in expanded
                for value in values
            ]
        for c in expanded:
            variants.append(replace(c, in_loop=c.in_loop or other_loops))
    if len(variants) > _MAX_VARIANTS:
        call = _read_call(found, function, contexts[0], cls, imports, metrics, positions, assigned)
        return [_with_problem(call, ("PM204", f"{len(variants)} combinations of names"))]
    return [_read_call(found, function, c, cls, imports, metrics, positions, assigned) for c in variants]


def _name_argument(found: _Found) -> Optional[cst.BaseExpression]:
    """The expression naming what is logged (``name`` of log); None for log_dict or when it cannot be bound."""
    if found.method != "log":
        return None
    args, problem = _bind_args(found.call, LOG_PARAMS)
    return None if problem else args.get("name")


class _SelfAttributes(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            self.names.add(node.attr.value)


def _find_metrics(class_node: cst.ClassDef, imports: ImportMap) -> dict[str, MetricInfo]:
    """``self.x = torchmetrics.Something(...)`` anywhere in the class, and ``self.x = c.clone(prefix=...)`` of a
    MetricCollection ``c`` built in the same method (a local bound once) or held by ``self.y``."""
    metrics: dict[str, MetricInfo] = {}
    # Locals bound to a MetricCollection(...) call, per function; None once the name is bound more than once.
    local_collections: dict[int, dict[str, Optional[MetricInfo]]] = {}
    clones: list[tuple[str, int, cst.BaseExpression, cst.Call]] = []  # (attr, id(function), collection, clone call)

    class Visitor(cst.CSTVisitor):
        def __init__(self) -> None:
            self.functions: list[int] = [0]

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.functions.append(id(node))

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.functions.pop()

        def _bind(self, target: cst.BaseExpression, info: Optional[MetricInfo] = None) -> None:
            if isinstance(target, cst.Name):
                bound = local_collections.setdefault(self.functions[-1], {})
                bound[target.value] = None if target.value in bound else info
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._bind(element.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._bind(node.target)

        def visit_For(self, node: cst.For) -> None:
            self._bind(node.target)

        def visit_Assign(self, node: cst.Assign) -> None:
            qualified = uses_torchmetrics(imports, node.value.func) if isinstance(node.value, cst.Call) else None
            collection = qualified is not None and qualified.split(".")[-1] == "MetricCollection"
            local = None
            if collection and len(node.targets) == 1 and isinstance(node.value, cst.Call):
                local = _collection_info("", node.value)
            for assign_target in node.targets:
                self._bind(assign_target.target, local)
            if len(node.targets) != 1 or not isinstance(node.value, cst.Call):
                return
            target = node.targets[0].target
            if not (isinstance(target, cst.Attribute) and dotted_name(target.value) == "self"):
                return
            attr = target.attr.value
            func = node.value.func
            if qualified is None:
                if isinstance(func, cst.Attribute) and func.attr.value == "clone":
                    clones.append((attr, self.functions[-1], func.value, node.value))
                return
            if not collection:
                metrics[attr] = MetricInfo(attr)
                return
            metrics[attr] = _collection_info(attr, node.value)

    visit(class_node, Visitor())
    for attr, function, source, call in clones:
        base: Optional[MetricInfo] = None
        if isinstance(source, cst.Name):
            base = local_collections.get(function, {}).get(source.value)
        elif isinstance(source, cst.Attribute) and dotted_name(source.value) == "self":
            base = metrics.get(source.attr.value)
        elif isinstance(source, cst.Call):
            qualified = uses_torchmetrics(imports, source.func)
            if qualified is not None and qualified.split(".")[-1] == "MetricCollection":
                base = _collection_info(attr, source)
        if base is None or not base.collection:
            continue
        info = _cloned_info(attr, base, call)
        if attr in metrics and metrics[attr] != info:  # cloned differently in two places: keys not known
            info = MetricInfo(attr, collection=True)
        metrics[attr] = info
    return metrics


def _cloned_info(attr: str, base: MetricInfo, call: cst.Call) -> MetricInfo:
    """``MetricCollection.clone(prefix=None, postfix=None)``: a copy whose prefix/postfix are replaced when the
    argument is a non-empty string (torchmetrics ``collections.py``), else kept."""
    prefix, postfix = base.prefix, base.postfix
    for index, arg in enumerate(call.args):
        keyword = arg.keyword.value if arg.keyword is not None else ("prefix", "postfix", None)[min(index, 2)]
        text = _literal_str(arg.value)
        if arg.star or keyword not in ("prefix", "postfix") or (text is None and not _is_none(arg.value)):
            return MetricInfo(attr, collection=True)  # keys unknown: log_dict of it is PM215
        if text and keyword == "prefix":
            prefix = text
        elif text:
            postfix = text
    return replace(base, attr=attr, prefix=prefix, postfix=postfix)


def _collection_info(attr: str, call: cst.Call) -> MetricInfo:
    keys: Optional[tuple[str, ...]] = None
    prefix = postfix = ""
    literal = True
    for index, arg in enumerate(call.args):
        if arg.star:
            literal = False
        elif arg.keyword is None and index == 0 or (arg.keyword and arg.keyword.value == "metrics"):
            if isinstance(arg.value, cst.Dict):
                keys = tuple(_literal_str(el.key) or "" for el in arg.value.elements if isinstance(el, cst.DictElement))
                if "" in keys or len(keys) != len(arg.value.elements):
                    keys = None
        elif arg.keyword and arg.keyword.value in ("prefix", "postfix"):
            text = _literal_str(arg.value)
            if text is None and not _is_none(arg.value):
                literal = False
            elif arg.keyword.value == "prefix":
                prefix = text or ""
            else:
                postfix = text or ""
        elif arg.keyword is None:  # further positional metrics: keys we cannot name
            keys = None
    return MetricInfo(attr, collection=True, keys=keys if literal else None, prefix=prefix, postfix=postfix)


@dataclass
class _Found:
    call: cst.Call
    method: str
    receiver: str
    statement: Optional[cst.SimpleStatementLine]
    in_loop: bool
    nested: bool
    loops: tuple[cst.CSTNode, ...] = ()


class _CallFinder(cst.CSTVisitor):
    """``<receiver>.log(...)``/``.log_dict(...)`` calls, with the statement that is only that call."""

    def __init__(self, receivers: set[str]) -> None:
        self.receivers = receivers
        self.found: list[_Found] = []
        self.loops: list[cst.CSTNode] = []
        self.nested = 0
        self.lines: list[cst.SimpleStatementLine] = []

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(node)

    def leave_For(self, node: cst.For) -> None:
        self.loops.pop()

    def visit_While(self, node: cst.While) -> None:
        self.loops.append(node)

    def leave_While(self, node: cst.While) -> None:
        self.loops.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nested -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.nested += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.nested -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.nested += 1

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.nested -= 1

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.lines.append(node)

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.lines.pop()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in ("log", "log_dict")):
            return
        if not (isinstance(func.value, cst.Name) and func.value.value in self.receivers):
            return
        statement = None
        if self.lines:
            line = self.lines[-1]
            if len(line.body) == 1 and isinstance(line.body[0], cst.Expr) and line.body[0].value is node:
                statement = line
        self.found.append(
            _Found(
                node, func.attr.value, func.value.value, statement, bool(self.loops), self.nested > 0,
                tuple(self.loops),
            )
        )


# ---------------------------------------------------------------------------------------------------------------
# Reading one call


def _positional_params(function: cst.FunctionDef) -> list[str]:
    params = [*function.params.posonly_params, *function.params.params]
    return [p.name.value for p in params]


def _with_problem(call: LogCall, problem: Problem) -> LogCall:
    if call.problem is not None:
        return call
    return replace(call, problem=problem)


def _bind_args(call: cst.Call, names: Sequence[str]) -> tuple[dict[str, cst.BaseExpression], Optional[Problem]]:
    bound: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            return bound, ("PM201", f"`{arg.star}` argument")
        if arg.keyword is None:
            if index >= len(names):
                return bound, ("PM201", "too many positional arguments")
            bound[names[index]] = arg.value
        else:
            if arg.keyword.value not in names:
                return bound, ("PM201", f"unknown argument `{arg.keyword.value}`")
            bound[arg.keyword.value] = arg.value
    return bound, None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _literal_bool(node: cst.BaseExpression) -> Optional[bool]:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def _literal_str(node: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString) and all(isinstance(p, cst.FormattedStringText) for p in node.parts):
        return "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
    return None


def _literal_name(node: Optional[cst.BaseExpression], env: dict[str, str]) -> Optional[str]:
    """A name whose every part is known: literal strings, and names bound to literal strings in ``env``
    (``f"{stage}_loss"``, ``stage + "_loss"``, ``"val_" + key``)."""
    if node is None:
        return None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = _literal_name(node.left, env), _literal_name(node.right, env)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.Name):
        return env.get(node.value)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = _literal_name(node.left, env), _literal_name(node.right, env)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        if "b" in node.prefix.lower():
            return None
        raw = "r" in node.prefix.lower()
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                if "\\" in part.value and not raw:
                    return None  # escapes: not worth decoding here
                text.append(part.value.replace("{{", "{").replace("}}", "}"))
            elif (
                isinstance(part, cst.FormattedStringExpression)
                and part.format_spec is None
                and part.conversion in (None, "s")
                and part.equal is None
                and isinstance(part.expression, cst.Name)
                and part.expression.value in env
            ):
                text.append(env[part.expression.value])
            else:
                return None
        return "".join(text)
    return None


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _read_call(
    found: _Found,
    function: cst.FunctionDef,
    context: _Context,
    cls: LightningClass,
    imports: ImportMap,
    metrics: dict[str, MetricInfo],
    positions: dict[cst.CSTNode, CodeRange],
    assigned: set[str],
) -> LogCall:
    hook = context.hook
    spec = HOOKS.get(hook)
    start = positions[found.call].start
    hook_params = _positional_params(context.hook_function)
    trainer = "self.trainer" if cls.kind == "module" else (hook_params[1] if len(hook_params) > 1 else "trainer")
    star = context.hook_function.params.star_arg
    if cls.kind != "module" and len(hook_params) <= 1 and isinstance(star, cst.Param):
        trainer = f"{star.name.value}[0]"  # ``def on_..._batch_end(self, *args)``: the trainer comes first
    env = dict(context.env)
    base = LogCall(
        call=found.call,
        statement=found.statement,
        function=function,
        method=found.method,
        receiver=found.receiver,
        hook=hook,
        spec=spec,
        line=start.line,
        column=start.column,
        trainer=trainer,
        in_loop=context.in_loop,
        via=context.via,
    )

    def problem(code: str, detail: str) -> LogCall:
        return _with_problem(base, (code, detail))

    if found.nested:
        return problem("PM218", f"inside `{function.name.value}`")
    if found.statement is None:
        return problem("PM210", "its value is used or it shares its line")
    names = LOG_PARAMS if found.method == "log" else LOG_DICT_PARAMS
    args, bind_problem = _bind_args(found.call, names)
    if bind_problem:
        return problem(*bind_problem)
    if hook in FORBIDDEN_HOOKS:
        return problem("PM206", f"`{hook}`" if context.via is None else f"`{hook}` (through `{context.via}`)")
    if spec is None:
        return problem("PM205", f"`{hook}`")

    options: dict[str, object] = {}
    for option in ("prog_bar", "logger", "on_step", "on_epoch", "sync_dist", "add_dataloader_idx", "rank_zero_only"):
        node = args.get(option)
        if node is None or (_is_none(node) and option in ("logger", "on_step", "on_epoch")):
            continue
        value = _literal_bool(node)
        if value is None:
            code = "PM203" if option in ("on_step", "on_epoch") else "PM202"
            return problem(code, f"{option}={_code(node)}")
        options[option] = value
    for option in ("enable_graph", "metric_attribute"):  # no-ops (§0); only a literal keeps the drop obviously safe
        node = args.get(option)
        if node is not None and _literal_bool(node) is None and _literal_str(node) is None and not _is_none(node):
            return problem("PM202", f"{option}={_code(node)}")

    on_step = options.get("on_step", spec.default_on_step)
    on_epoch = options.get("on_epoch", spec.default_on_epoch)
    if not on_step and not on_epoch:
        return problem("PM213", "on_step=False and on_epoch=False")
    if spec.epoch_only and (on_step or not on_epoch):
        return problem("PM213", f"`{hook}` only accepts on_step=False, on_epoch=True")

    reduce = "mean"
    if "reduce_fx" in args:
        reduce_node = args["reduce_fx"]
        text = _literal_name(reduce_node, env)
        qualified = imports.qualify(reduce_node)
        if text is not None and text.lower() in _REDUCE_STRINGS:
            reduce = _REDUCE_STRINGS[text.lower()]
        elif qualified in _REDUCE_CALLABLES:
            reduce = _REDUCE_CALLABLES[qualified]
        elif isinstance(reduce_node, cst.Name) and reduce_node.value in _REDUCE_BUILTINS and qualified is None:
            reduce = _REDUCE_BUILTINS[reduce_node.value]
        else:
            return problem("PM209", f"reduce_fx={_code(reduce_node)}")

    # Names and values.
    items: list[LogItem] = []
    used: set[str] = set()  # names of ``env`` the logged names depend on
    if found.method == "log":
        if "name" not in args or "value" not in args:
            return problem("PM201", "name or value missing")
        name = _literal_name(args["name"], env)
        if name is None:
            return problem("PM204", _code(args["name"]))
        used.update(_names_in_expression(args["name"]))
        value = args["value"]
        bad = _bad_value(value, metrics)
        if bad:
            return problem("PM216", bad)
        metric = _metric_of(value, metrics, found.receiver)
        if metric is not None and metric.collection:
            return problem("PM216", "a MetricCollection goes to log_dict")
        unknown = _unknown_attribute(value, found.receiver, assigned) if metric is None else None
        if unknown:
            return problem("PM220", unknown)
        items.append(LogItem(name, value, metric))
    else:
        dictionary = args.get("dictionary")
        literal_keys = isinstance(dictionary, cst.Dict) and all(
            isinstance(e, cst.DictElement) and _literal_name(e.key, env) is not None for e in dictionary.elements
        )
        if isinstance(dictionary, cst.Dict) and literal_keys:
            for element in dictionary.elements:
                key = _literal_name(element.key, env) if isinstance(element, cst.DictElement) else None
                if key is None:
                    return problem("PM215", "a key is not a literal string")
                assert isinstance(element, cst.DictElement)
                used.update(_names_in_expression(element.key))
                bad = _bad_value(element.value, metrics)
                if bad:
                    return problem("PM216", bad)
                metric = _metric_of(element.value, metrics, found.receiver)
                if metric is not None and metric.collection:
                    return problem("PM216", "a MetricCollection inside log_dict")
                unknown = _unknown_attribute(element.value, found.receiver, assigned) if metric is None else None
                if unknown:
                    return problem("PM220", unknown)
                items.append(LogItem(key, element.value, metric))
        else:
            collection = _metric_of(dictionary, metrics, found.receiver) if dictionary is not None else None
            if collection is None and dictionary is not None:
                dynamic_problem = _dynamic_mapping_problem(dictionary, metrics, found.receiver, assigned, function)
                if dynamic_problem is not None:
                    return problem(*dynamic_problem)
                items.append(LogItem(f"<{_code(dictionary)}>", dictionary, dynamic=True))
                collection = None
            elif collection is None or not collection.collection or collection.keys is None:
                return problem("PM215", _code(dictionary) if dictionary is not None else "no argument")
            for key in collection.keys if collection is not None else ():
                items.append(LogItem(f"{collection.prefix}{key}{collection.postfix}", dictionary, collection, key))
        if len({item.name for item in items}) != len(items):
            return problem("PM215", "repeated key")
    for item in items:
        if "/dataloader_idx_" in item.name:
            return problem("PM216", f"name {item.name!r} contains '/dataloader_idx_' (Lightning raises)")

    # Weight for mean epoch aggregation (§3.3).
    batch_size = args.get("batch_size")
    if batch_size is not None and _is_none(batch_size):
        batch_size = None
    batch_param = None
    needs_weight = on_epoch and reduce == "mean" and batch_size is None and any(i.metric is None for i in items)
    if needs_weight and spec.kind != "epoch":
        if spec.kind == "step_other" or (context.batch_name is None and context.batch_problem is None):
            return problem("PM211", f"`{hook}` has no batch parameter")
        if context.batch_problem is not None:
            return problem("PM211", context.batch_problem)
        assert context.batch_name is not None
        if context.via is not None and not _unbound_until(function, context.batch_name, found):
            return problem("PM211", f"`{context.batch_name}` is reassigned in `{context.via}` before the call")
        batch_param = context.batch_name

    if context.dataloader_idx_missing and options.get("add_dataloader_idx", True):
        if context.via is None:
            return problem("PM217", f"`{hook}` reassigns the `*args` that holds its dataloader_idx")
        return problem("PM217", f"`{hook}` does not pass its dataloader_idx to `{context.via}`")

    sync_group = args.get("sync_dist_group")
    if sync_group is not None and _is_none(sync_group):
        sync_group = None

    return replace(
        base,
        items=tuple(items),
        on_step=on_step,
        on_epoch=on_epoch,
        prog_bar=bool(options.get("prog_bar", False)),
        logger=bool(options.get("logger", True)),
        reduce=reduce,
        sync_dist=bool(options.get("sync_dist", False)),
        sync_group=sync_group,
        rank_zero_only=bool(options.get("rank_zero_only", False)),
        add_dataloader_idx=bool(options.get("add_dataloader_idx", True)),
        batch_size=batch_size,
        batch_param=batch_param,
        dataloader_idx_param=context.dataloader_idx_name,
        bindings=context.env,
    )


def _unknown_attribute(value: cst.BaseExpression, receiver: str, assigned: set[str]) -> Optional[str]:
    """``self.x`` never assigned in the class, or ``pl_module.x``: possibly a Metric we cannot see; or an item of a
    ``ModuleDict``/``ModuleList`` of metrics that a base class builds."""
    if isinstance(value, cst.Subscript) and isinstance(value.value, cst.Attribute):
        if dotted_name(value.value.value) == "self" and value.value.attr.value in _CONTAINERS.get():
            return _code(value)
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name):
        owner = value.value.value
        if owner == receiver and (receiver != "self" or value.attr.value not in assigned):
            return _code(value)
    return None


def _assigned_self_attributes(class_node: cst.ClassDef) -> set[str]:
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def _target(self, target: cst.BaseExpression) -> None:
            if isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                names.add(target.attr.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._target(element.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            self._target(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._target(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._target(node.target)

    visit(class_node, Visitor())
    for statement in class_node.body.body:  # class-level names are attributes too
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
    return names


def _bad_value(value: cst.BaseExpression, metrics: dict[str, MetricInfo]) -> Optional[str]:
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "a string"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "a dict"
    if isinstance(value, (cst.List, cst.Tuple, cst.Set, cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return "a sequence"
    if _is_none(value):
        return "None"
    return None


def _dynamic_mapping_problem(
    mapping: cst.BaseExpression,
    metrics: dict[str, MetricInfo],
    receiver: str,
    assigned: set[str],
    function: Optional[cst.FunctionDef] = None,
) -> Optional[Problem]:
    """Why ``log_dict(mapping)`` of run-time keys cannot be migrated, or None (its values are put as they are)."""
    if isinstance(mapping, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.List, cst.Tuple,
                            cst.Set, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.Integer, cst.Float)):
        return ("PM216", "log_dict takes a mapping")
    if isinstance(mapping, cst.Dict):
        for element in mapping.elements:
            if not isinstance(element, cst.DictElement):
                return ("PM215", "a ** entry")
            if _metric_of(element.value, metrics, receiver) is not None:
                return ("PM215", f"a Metric under a non-literal key: {_code(element.key)}")
            bad = _bad_value(element.value, metrics)
            if bad:
                return ("PM216", bad)
    if isinstance(mapping, cst.DictComp) and _metric_of(mapping.value, metrics, receiver) is not None:
        return ("PM215", f"a Metric under a non-literal key: {_code(mapping.key)}")
    unknown = _unknown_attribute(mapping, receiver, assigned)
    if unknown:
        return ("PM220", unknown)
    holder = _collection_holder(mapping, function, receiver)
    if holder:
        return ("PM215", f"{holder} may be a MetricCollection, whose values Lightning logs as Metric objects")
    return None


def _collection_holder(
    mapping: cst.BaseExpression, function: Optional[cst.FunctionDef], receiver: str
) -> Optional[str]:
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
        return _code(mapping)
    if isinstance(mapping, cst.Name) and function is not None:
        for value in _values_bound_to(function, mapping.value):
            if holds(value):
                return f"`{mapping.value} = {_code(value)}`"
    return None


def _values_bound_to(function: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
    """The values assigned to the plain name ``name`` in ``function`` (``name = v``, ``name: T = v``, ``name := v``)."""
    values: list[cst.BaseExpression] = []

    class Visitor(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
                values.append(node.value)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name and node.value is not None:
                values.append(node.value)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                values.append(node.value)

    visit(function.body, Visitor())
    return values


def _metric_of(value: cst.BaseExpression, metrics: dict[str, MetricInfo], receiver: str) -> Optional[MetricInfo]:
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value == receiver:
        return metrics.get(value.attr.value) if receiver == "self" else None
    return None


def _unbound_until(function: cst.FunctionDef, name: str, found: _Found) -> bool:
    """``name`` keeps its value from the call of ``function`` until the log call: no statement of the body up to the
    one holding the call (that one included) assigns it, and the call is in no loop of ``function``."""
    if not _assigns_name(function, name):
        return True
    if found.in_loop or not isinstance(function.body, cst.IndentedBlock) or found.statement is None:
        return False
    for statement in function.body.body:
        if _assigns_name(statement, name):
            return False
        if statement is found.statement or _contains(statement, found.statement):
            return True
    return False


def _contains(node: cst.CSTNode, target: cst.CSTNode) -> bool:
    class Visitor(cst.CSTVisitor):
        found = False

        def on_visit(self, visited: cst.CSTNode) -> bool:
            if visited is target:
                self.found = True
            return not self.found

    visitor = Visitor()
    visit(node, visitor)
    return visitor.found


def _assigns_name(node: cst.CSTNode, name: str) -> bool:
    class Visitor(cst.CSTVisitor):
        found = False

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                Visitor.found = True

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                Visitor.found = True

    visit(node, Visitor())
    return Visitor.found
