"""The records analysis produces: ``MetricInfo``, ``LogItem``, ``LogCall``, ``ClassAnalysis``, and ``ClassFacts``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import libcst as cst
from libcst.metadata import CodeRange

from put_migrate.hooks import HookSpec
from put_migrate.lightning_classes import ImportMap, LightningClass
from put_migrate.rules import Problem

if TYPE_CHECKING:
    from put_migrate.analyze.closure_literals import ClosureLiterals
    from put_migrate.analyze.context import HelperCall
    from put_migrate.analyze.metric_reach import MetricReach


@dataclass(frozen=True)
class MetricInfo:
    """An attribute assigned a torchmetrics ``Metric`` (or ``MetricCollection``) somewhere in the class."""

    attr: str
    collection: bool = False
    keys: tuple[str, ...] | None = None  # MetricCollection built from a dict literal with literal keys
    prefix: str = ""
    postfix: str = ""


@dataclass(frozen=True)
class LogItem:
    """One logged name and its value (``log`` has one, ``log_dict`` one per key)."""

    name: str
    value: cst.BaseExpression = field(compare=False, repr=False)
    metric: MetricInfo | None = None  # the value is ``self.<metric>`` (or one entry of a MetricCollection)
    collection_key: str | None = None  # the entry's key in the MetricCollection, without prefix/postfix
    dynamic: bool = False  # ``value`` is a whole mapping whose keys are only known at run time (``log_dict(d)``)
    # The name's expression, when the name is only known at run time (``name`` is then ``<its code>``).
    name_expression: cst.BaseExpression | None = field(default=None, compare=False, repr=False)
    runtime_name: bool = False  # ``name`` is the source of an expression computed at run time (epoch-level hooks)
    # A run-time mapping whose every arm is a known dict (``a if c else b``): all the keys it can have.
    known_keys: tuple[str, ...] | None = None
    # The value is ``self.<attr>`` assigned a parameter: a Metric or a plain value, told apart at run time.
    passed_in: bool = False
    # A run-time mapping whose epoch values go to its hook's shared ``Keyed`` (plan/mapping_collisions.py).
    shared_keyed: bool = False


@dataclass(frozen=True)
class LogCall:
    """One way a log call runs, with what Lightning resolves its arguments to, or the problem that leaves it."""

    call: cst.Call = field(compare=False, repr=False)
    statement: cst.SimpleStatementLine | None = field(compare=False, repr=False)
    function: cst.FunctionDef = field(compare=False, repr=False)
    method: str  # "log" or "log_dict"
    receiver: str  # "self" or the callback hook's pl_module parameter
    hook: str
    spec: HookSpec | None
    line: int
    column: int
    items: tuple[LogItem, ...] = ()
    on_step: bool = False
    on_epoch: bool = False
    prog_bar: bool = False
    logger: bool = True
    reduce: str = "mean"
    sync_dist: bool = False
    sync_group: cst.BaseExpression | None = field(default=None, compare=False, repr=False)
    rank_zero_only: bool = False
    add_dataloader_idx: bool = True
    # add_dataloader_idx=False where several dataloaders may log one name: Lightning raises at the second one.
    names_shared_by_dataloaders: bool = False
    batch_size: cst.BaseExpression | None = field(default=None, compare=False, repr=False)
    batch_param: str | None = None  # the hook's batch parameter, when the weight must be inferred from it
    # ``batch_size`` is read from a dict the function built (``**kw``): ``None`` there means inferred, as not given.
    batch_size_optional: bool = False
    # A run-time mapping whose values may be torchmetrics Metric objects (the class tests ``isinstance(v, Metric)``).
    metric_values: bool = False
    weight_in_flight: bool = False  # the weight is inferred from the batch in flight (the batch is not at hand)
    dataloader_idx_param: str | None = None
    trainer: str = "self.trainer"  # how to reach the Trainer in this hook
    in_loop: bool = False
    problem: Problem | None = None
    # The helper method the call is in, when a hook reaches it through ``self.<helper>(...)`` (``hook`` is then the
    # calling hook, the one Lightning sees as running), and the names bound to literal strings in this variant
    # (helper parameters, ``for`` variables over literal tuples) that its name depends on.
    via: str | None = None
    # The subclass whose hook (``hook``) calls the helper, when it is not the class's own hook: named in messages.
    caller_class: str | None = field(default=None, compare=False)
    bindings: tuple[tuple[str, str], ...] = ()
    # Options given as expressions, as (option, expression code, the value this variant is for): the rewrite
    # chooses between the variants with an ``if`` on the expressions where the call was.
    conditions: tuple[tuple[str, str, bool], ...] = ()
    raises: str | None = None  # Lightning raises this message for the assumed option values (no other field is read)
    # reduce_fx given as an expression Lightning reads at run time: its code (``reduce`` is the reduction this variant
    # assumes; a variant with ``raises`` is the one for any other value).
    reduce_expression: str | None = None
    # The expression whose run-time value Lightning's message names where ``raises`` has ``{}``.
    raises_value: str | None = None
    # Literal names of the hook, logged before this run-time name with other options: Lightning raises if it is one.
    name_collisions: tuple[str, ...] = ()

    @property
    def forked(self) -> bool:
        return self.on_step and self.on_epoch

    @property
    def sync(self) -> bool:
        return self.sync_dist and not self.rank_zero_only

    @property
    def caller(self) -> str:
        """The calling hook as messages name it: ``UserAE.validation_step`` where a subclass's hook calls."""
        return self.hook if self.caller_class is None else f"{self.caller_class}.{self.hook}"


@dataclass
class ClassAnalysis:
    """Every log call of one Lightning class, and the names and metrics the class holds."""

    cls: LightningClass
    calls: list[LogCall]
    metrics: dict[str, MetricInfo]
    used_names: set[str]  # attributes (self.x), methods and class-level names: taken for new attributes
    methods: dict[str, cst.FunctionDef]
    log_guard: str | None = None  # the condition under which the class's ``log`` forwards to Lightning's
    imports: ImportMap | None = field(default=None, repr=False)  # the imports the class sees


@dataclass(frozen=True)
class ClassFacts:
    """What the whole class tells about each of its log calls, handed to every reader of a call."""

    cls: LightningClass
    imports: ImportMap
    positions: dict[cst.CSTNode, CodeRange] = field(repr=False)
    metrics: dict[str, MetricInfo]
    assigned: frozenset[str]  # attributes known not to be Metrics: assigned in the class, its bases, Lightning
    containers: frozenset[str]  # attributes holding a ModuleDict/ModuleList of metrics, built by a base class
    callers: dict[str, list[HelperCall]] = field(repr=False)  # the ``self.<method>(...)`` uses of each method
    log_guard: str | None = None  # the condition under which the class's ``log`` forwards to Lightning's
    tests_metric_objects: bool = False  # the class tests ``isinstance(v, Metric)``: its mappings may hold Metrics
    # Literals the class's methods read from the functions around it (``analyze.closure_literals``).
    closure: ClosureLiterals | None = field(default=None, repr=False)
    passed_in: frozenset[str] = frozenset()  # ``self.m = m`` of a parameter: a Metric or a value (analyze/forwarded.py)
    reach: MetricReach | None = field(default=None, repr=False)  # Metrics reached indirectly (metric_reach.py)


def with_problem(call: LogCall, problem: Problem) -> LogCall:
    """``call`` left for ``problem``, unless it already has one (the first problem found is the one reported)."""
    if call.problem is not None:
        return call
    return replace(call, problem=problem)
