"""What one planning attempt builds up, in one object: statements by key, aggregators, compute hooks, resets, names."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from put_migrate.analyze import ClassAnalysis
from put_migrate.analyze.hierarchy import class_prefix, inherited_attributes
from put_migrate.analyze.hook_arguments import DATALOADER_IDX_IN_FLIGHT
from put_migrate.hooks import RESERVED_ATTRIBUTES
from put_migrate.plan.model import Aggregator
from put_migrate.plan.names import NameAllocator
from put_migrate.plan.statements import Named, Reset, Statement
from put_migrate.rules import PutName, Rule

if TYPE_CHECKING:
    import libcst as cst

    from put_migrate.plan.sync import SyncedItem


class Leave(Exception):
    """A log statement that cannot be migrated with certainty: it is left as it was, with this finding."""

    def __init__(self, rule: Rule, detail: str) -> None:
        super().__init__(rule.code, detail)
        self.problem = rule.problem(detail)


class BuildState:
    """One attempt at planning a class. Every name, aggregator and statement is chosen afresh in each attempt."""

    def __init__(self, analysis: ClassAnalysis, indent: str) -> None:
        self.analysis = analysis
        self.indent = indent
        self.callback = analysis.cls.kind == "callback"
        self.hook_trainer = "trainer" if self.callback else "self.trainer"  # the Trainer, as a hook reaches it
        self.names = NameAllocator(set(analysis.used_names) | RESERVED_ATTRIBUTES, inherited_attributes(analysis.cls),
                                   class_prefix(analysis.cls.name))
        # id(original statement) -> the statements that replace it (log statements and ``self.metric(...)`` ones).
        self.replacements: dict[int, list[Statement]] = {}
        self.dispatches: set[int] = set()  # replacements that are an if/elif chain between variants
        self.forward_locals: dict[int, str] = {}  # id(a ``self.metric(...)`` statement) -> the local it now binds
        self.imports: set[tuple[str, str]] = set()
        self.aggregators: dict[tuple, Aggregator] = {}  # (stage, name[, signature]) -> its aggregator
        self.compute: dict[str, list[Statement]] = {}  # stage -> compute-hook statements
        self.compute_order: list[str] = []  # stages in the order their compute hooks were first needed
        self.per_hook: set[tuple[str, str]] = set()  # (stage, name) with an aggregator per hook (batch_end_pair)
        self.late_compute: dict[str, list[Statement]] = {}  # stage -> compute statements put after all others
        self.resets: dict[str, list[Reset]] = {}  # stage -> Metric resets
        self.computed: set[tuple[str, str]] = set()  # (stage, name) of Metric values with compute statements
        # id(statement) -> (function, its code) for statements that are only synced values with one reduction.
        self.packables: dict[int, tuple[cst.FunctionDef, SyncedItem]] = {}
        self.anchors: dict[str, str] = {}  # stage -> the hook after which a new compute hook goes
        self.batch_size_locals: dict[int, str] = {}  # id(log statement) -> the local its updates are weighed by
        self.insertions: dict[int, list[str]] = {}  # id(statement) -> statements inserted before it
        self.put_names: dict[int, list[PutName]] = {}  # id(LogCall) -> the names its rewrite puts
        # id(epoch-level hook) -> (its HookValues local, the hook), for hooks whose values are averaged per name.
        self.hook_values: dict[int, tuple[str, cst.FunctionDef]] = {}
        self.hook_scoped: set[int] = set()  # functions whose epoch values go through hook_value (plan/hook_scope.py)

    def record(self, call, item, names: list[Named], hook: str, aggregator: str = "", attribute: str = "") -> None:
        """The names one item of a call is put as, where they go and what computes them (for the reports)."""
        self.put_names.setdefault(id(call), []).extend(
            PutName(item.name, name, destinations, hook, aggregator, attribute, suffixed)
            for name, destinations, suffixed in names
        )

    def add_compute(self, stage: str, statements: list[Statement]) -> None:
        if stage not in self.compute:
            self.compute[stage] = []
            self.compute_order.append(stage)
        self.compute[stage].extend(statements)

    def add_reset(self, stage: str, attr: str, logged: str | None = None) -> None:
        """Reset the Metric ``self.<attr>`` where Lightning resets the stage's results; ``logged``: a name its log
        calls mark (``plan/logged_metrics.py``), cleared with it."""
        bucket = self.resets.setdefault(stage, [])
        index = next((i for i, r in enumerate(bucket) if r.attr == attr), None)
        if index is None:
            bucket.append(Reset(attr))
            index = len(bucket) - 1
        if logged is not None and logged not in bucket[index].logged:
            bucket[index] = replace(bucket[index], logged=(*bucket[index].logged, logged))
            self.imports.add(("shim", "reset_logged"))

    def step_suffix(self, call) -> str | None:
        """Eval step names get "/dataloader_idx_N" exactly when Lightning adds it (several dataloaders, §2)."""
        if call.dataloader_idx_param is None or not call.add_dataloader_idx:
            return None
        self.imports.add(("shim", "dataloader_suffix"))
        return f"dataloader_suffix({call.trainer}, {self.dataloader_idx(call)})"

    def dataloader_idx(self, call) -> str:
        """The call's expression for its hook's dataloader_idx (importing ``dataloader_idx_in_flight`` if used)."""
        if call.dataloader_idx_param.startswith(f"{DATALOADER_IDX_IN_FLIGHT}("):
            self.imports.add(("shim", DATALOADER_IDX_IN_FLIGHT))
        return call.dataloader_idx_param
