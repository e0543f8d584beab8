"""The plan of one class, as data: ``MigrationPlan`` and the ``Aggregator``s its ``__init__`` creates."""

from __future__ import annotations

from dataclasses import dataclass, field

from put_migrate.analyze import ClassAnalysis
from put_migrate.rules import Finding


@dataclass
class Aggregator:
    attr: str
    stage: str
    name: str
    kind: str  # Mean / Sum / Max / Min
    sync: bool
    group: str | None
    per_dataloader: bool
    forked: bool
    destinations: tuple[str, ...]
    hook: str  # the hook whose calls update it (Lightning keys results by hook and name)
    keyed: bool = False  # one aggregator per run-time name (``log_dict`` of a mapping): ``Keyed(Mean)``
    metric_values: bool = False  # the mapping's values may be Metric objects: ``KeyedMetrics(Mean)``

    def signature(self) -> tuple:
        return (self.kind, self.sync, self.group, self.per_dataloader, self.forked, self.destinations, self.hook,
                self.keyed, self.metric_values)

    def constructor(self) -> str:
        if self.keyed:
            # A partial pickles (ddp_spawn, which pickles the module), a lambda would not.
            inner = f"functools.partial({self.kind}, sync_on_compute=True)" if self.sync else self.kind
            if self.per_dataloader:  # one Keyed container per eval dataloader
                return f"PerDataloader(functools.partial(Keyed, {inner}))"
            return f"{'KeyedMetrics' if self.metric_values else 'Keyed'}({inner})"
        args = []
        if self.sync:
            args.append("sync_on_compute=True")
        if self.group is not None:
            args.append(f"process_group={self.group}")
        if not self.per_dataloader:
            return f"{self.kind}({', '.join(args)})"
        if args:
            return f"PerDataloader(functools.partial({self.kind}, {', '.join(args)}))"
        return f"PerDataloader({self.kind})"


@dataclass
class MigrationPlan:
    analysis: ClassAnalysis
    # id(original SimpleStatementLine) -> statements (source text) that replace it; [] removes it.
    replacements: dict[int, list[str]] = field(default_factory=dict)
    init_statements: list[str] = field(default_factory=list)
    # hook name -> statements appended to it (the method is created when the class has none).
    hook_additions: dict[str, list[str]] = field(default_factory=dict)
    # hook name -> name of the method after which a newly created hook is placed.
    hook_anchors: dict[str, str] = field(default_factory=dict)
    imports: set[tuple[str, str]] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    # Replacements that are one ``if``/``elif`` chain choosing between the variants of a statement; neighbours
    # with the same conditions are merged by the renderer.
    dispatches: set[int] = field(default_factory=set)
    # New hooks that must first call the base class's (a class derived from a project class).
    super_calls: set[str] = field(default_factory=set)
    # id(a statement of a function's body) -> statements inserted before it (``batch_size = ...``).
    insertions: dict[int, list[str]] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.replacements)
