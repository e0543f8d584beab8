"""Turn every ``self.log``/``self.log_dict``/``pl_module.log`` call of a Lightning class into a plain ``LogCall``.

Nothing here decides the rewrite: a ``LogCall`` says where the call is (hook, stage), what Lightning resolves its
arguments to (on_step/on_epoch defaults from the hook, SELF_LOG_SEMANTICS.md §1; reduce_fx spellings, §3.2), and,
when the call cannot be read with certainty, the rule code of the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import libcst as cst
from libcst.metadata import CodeRange

from put_migrate.hooks import FORBIDDEN_HOOKS, HOOKS, HookSpec
from put_migrate.lightning_classes import ImportMap, LightningClass, dotted_name, uses_torchmetrics

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
    cls.node.visit(attrs)
    used |= attrs.names
    assigned = _assigned_self_attributes(cls.node)
    metrics = _find_metrics(cls.node, imports)

    overrides_log = "log" in methods or "log_dict" in methods
    calls: list[LogCall] = []
    for name, function in methods.items():
        receivers = {"self"}
        params = _positional_params(function)
        if cls.kind == "callback" and len(params) >= 3:
            receivers.add(params[2])
        finder = _CallFinder(receivers)
        function.body.visit(finder)
        for found in finder.found:
            call = _read_call(found, function, cls, imports, metrics, positions, assigned)
            if overrides_log:
                call = _with_problem(call, ("PM207", f"{cls.name} defines its own log/log_dict"))
            calls.append(call)
    calls.sort(key=lambda c: (c.line, c.column))
    return ClassAnalysis(cls, calls, metrics, used, methods)


class _SelfAttributes(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            self.names.add(node.attr.value)


def _find_metrics(class_node: cst.ClassDef, imports: ImportMap) -> dict[str, MetricInfo]:
    """``self.x = torchmetrics.Something(...)`` anywhere in the class."""
    metrics: dict[str, MetricInfo] = {}

    class Visitor(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if len(node.targets) != 1 or not isinstance(node.value, cst.Call):
                return
            target = node.targets[0].target
            if not (isinstance(target, cst.Attribute) and dotted_name(target.value) == "self"):
                return
            qualified = uses_torchmetrics(imports, node.value.func)
            if qualified is None:
                return
            attr = target.attr.value
            if qualified.split(".")[-1] != "MetricCollection":
                metrics[attr] = MetricInfo(attr)
                return
            metrics[attr] = _collection_info(attr, node.value)

    class_node.visit(Visitor())
    return metrics


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


class _CallFinder(cst.CSTVisitor):
    """``<receiver>.log(...)``/``.log_dict(...)`` calls, with the statement that is only that call."""

    def __init__(self, receivers: set[str]) -> None:
        self.receivers = receivers
        self.found: list[_Found] = []
        self.loops = 0
        self.nested = 0
        self.lines: list[cst.SimpleStatementLine] = []

    def visit_For(self, node: cst.For) -> None:
        self.loops += 1

    def leave_For(self, node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, node: cst.While) -> None:
        self.loops -= 1

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
            _Found(node, func.attr.value, func.value.value, statement, self.loops > 0, self.nested > 0)
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


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _read_call(
    found: _Found,
    function: cst.FunctionDef,
    cls: LightningClass,
    imports: ImportMap,
    metrics: dict[str, MetricInfo],
    positions: dict[cst.CSTNode, CodeRange],
    assigned: set[str],
) -> LogCall:
    hook = function.name.value
    spec = HOOKS.get(hook)
    start = positions[found.call].start
    params = _positional_params(function)
    offset = 1 if cls.kind == "module" else 3  # self (, trainer, pl_module)
    trainer = "self.trainer" if cls.kind == "module" else (params[1] if len(params) > 1 else "trainer")
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
        in_loop=found.in_loop,
    )

    def problem(code: str, detail: str) -> LogCall:
        return _with_problem(base, (code, detail))

    if found.nested:
        return problem("PM218", f"inside `{hook}`")
    if found.statement is None:
        return problem("PM210", "its value is used or it shares its line")
    names = LOG_PARAMS if found.method == "log" else LOG_DICT_PARAMS
    args, bind_problem = _bind_args(found.call, names)
    if bind_problem:
        return problem(*bind_problem)
    if hook in FORBIDDEN_HOOKS:
        return problem("PM206", f"`{hook}`")
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
        text = _literal_str(reduce_node)
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
    if found.method == "log":
        if "name" not in args or "value" not in args:
            return problem("PM201", "name or value missing")
        name = _literal_str(args["name"])
        if name is None:
            return problem("PM204", _code(args["name"]))
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
        if isinstance(dictionary, cst.Dict):
            for element in dictionary.elements:
                key = _literal_str(element.key) if isinstance(element, cst.DictElement) else None
                if key is None:
                    return problem("PM215", "a key is not a literal string")
                assert isinstance(element, cst.DictElement)
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
            if collection is None or not collection.collection or collection.keys is None:
                return problem("PM215", _code(dictionary) if dictionary is not None else "no argument")
            for key in collection.keys:
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
        index = (spec.batch_param if spec.batch_param is not None else -10) + offset
        candidate = params[index] if 0 <= index < len(params) else None
        if spec.kind == "step_other" or candidate is None or candidate == "dataloader_iter":
            return problem("PM211", f"`{hook}` has no batch parameter")
        if _assigns_name(function, candidate):
            return problem("PM211", f"`{candidate}` is reassigned in `{hook}`")
        batch_param = candidate

    dataloader_idx_param = None
    if spec.dataloader_idx_param is not None:
        index = spec.dataloader_idx_param + offset
        if index < len(params):
            dataloader_idx_param = params[index]

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
        dataloader_idx_param=dataloader_idx_param,
    )


def _unknown_attribute(value: cst.BaseExpression, receiver: str, assigned: set[str]) -> Optional[str]:
    """``self.x`` never assigned in the class, or ``pl_module.x``: possibly a Metric we cannot see."""
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

    class_node.visit(Visitor())
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


def _metric_of(value: cst.BaseExpression, metrics: dict[str, MetricInfo], receiver: str) -> Optional[MetricInfo]:
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.value.value == receiver:
        return metrics.get(value.attr.value) if receiver == "self" else None
    return None


def _assigns_name(function: cst.FunctionDef, name: str) -> bool:
    class Visitor(cst.CSTVisitor):
        found = False

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                Visitor.found = True

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                Visitor.found = True

    function.body.visit(Visitor())
    return Visitor.found
