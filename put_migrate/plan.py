"""Decide, as data, how one Lightning class is migrated: a ``MigrationPlan`` built from its ``LogCall`` records.

The plan holds generated statements as source text (rendered by ``render.py``), keyed by the statement they replace,
plus the scaffolding: aggregator attributes for ``__init__``, compute-hook bodies, Metric resets, imports, bases.
A call that cannot be migrated with certainty gets a ``Finding`` and is left exactly as it was.
See docs/design/generated-code.md (the contract) and docs/argument-mapping.md.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass, field, replace
from typing import Optional

import libcst as cst

from put_migrate.analyze import ClassAnalysis, LogCall, MetricInfo, _code
from put_migrate.hooks import COMPUTE_HOOKS, METRIC_RESET_HOOKS, RESERVED_ATTRIBUTES
from put_migrate.rules import Finding, make_finding
from put_migrate.walk import visit

_AGGREGATORS = {"mean": "Mean", "sum": "Sum", "max": "Max", "min": "Min"}
_DESTINATION_ORDER = ("callbacks", "loggers", "progress_bar")


@dataclass
class Aggregator:
    attr: str
    stage: str
    name: str
    kind: str  # Mean / Sum / Max / Min
    sync: bool
    group: Optional[str]
    per_dataloader: bool
    forked: bool
    destinations: tuple[str, ...]
    hook: str  # the hook whose calls update it (Lightning keys results by hook and name)
    keyed: bool = False  # one aggregator per run-time name (``log_dict`` of a mapping): ``Keyed(Mean)``

    def signature(self) -> tuple:
        return (self.kind, self.sync, self.group, self.per_dataloader, self.forked, self.destinations, self.hook,
                self.keyed)

    def constructor(self) -> str:
        if self.keyed:
            # A partial pickles (ddp_spawn, which pickles the module), a lambda would not.
            inner = f"functools.partial({self.kind}, sync_on_compute=True)" if self.sync else self.kind
            if self.per_dataloader:  # one Keyed container per eval dataloader
                return f"PerDataloader(functools.partial(Keyed, {inner}))"
            return f"Keyed({inner})"
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
    # (stage, name) of Metric values that already have their compute-hook statements.
    computed: set[tuple[str, str]] = field(default_factory=set)
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


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _braces(text: str) -> str:
    """Literal text inside an f-string."""
    return text.replace("{", "{{").replace("}", "}}")


def _destinations(*, callbacks: bool, loggers: bool, progress_bar: bool) -> tuple[str, ...]:
    chosen = {"callbacks": callbacks, "loggers": loggers, "progress_bar": progress_bar}
    return tuple(d for d in _DESTINATION_ORDER if chosen[d])


def _dest_code(destinations: tuple[str, ...]) -> str:
    return "[" + ", ".join(_quote(d) for d in destinations) + "]"


def identifier(name: str) -> str:
    """``"val/loss"`` -> ``val_loss``."""
    ident = re.sub(r"\W+", "_", name).strip("_") or "metric"
    if ident[0].isdigit():
        ident = f"m_{ident}"
    if keyword.iskeyword(ident):
        ident += "_"
    return ident


def _is_simple(node: cst.BaseExpression) -> bool:
    """An expression that can be written several times without evaluating anything twice."""
    if isinstance(node, (cst.Name, cst.Integer, cst.Float)):
        return True
    if isinstance(node, cst.Attribute):
        return _is_simple(node.value) and not isinstance(node.value, (cst.Integer, cst.Float))
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, (cst.Integer, cst.Float))
    return False


def _plain(node: cst.BaseExpression) -> str:
    """Source of an expression, safe on the right of ``=`` (multi-line expressions get parentheses)."""
    code = _code(node)
    return f"({code})" if "\n" in code and not node.lpar else code


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)  # ``x.attr``: only ``x`` is a name in scope
        return False


def _indent(code: str, indent: str) -> str:
    return "\n".join((indent + line) if line.strip() else line for line in code.split("\n"))


def _same_fate(calls: list[LogCall]) -> list[LogCall]:
    """Variants of one log statement are migrated together or left together (with the first problem found)."""
    problems: dict[int, tuple[str, str]] = {}
    for call in calls:
        if call.problem is not None and call.statement is not None:
            problems.setdefault(id(call.statement), call.problem)
    return [
        replace(c, problem=problems[id(c.statement)])
        if c.problem is None and c.statement is not None and id(c.statement) in problems
        else c
        for c in calls
    ]


def _names_in(node: cst.CSTNode) -> set[str]:
    visitor = _Names()
    visit(node, visitor)
    return visitor.names


class _Planner:
    def __init__(self, analysis: ClassAnalysis, path: str, indent: str) -> None:
        self.analysis = analysis
        self.path = path
        self.indent = indent
        self.cls = analysis.cls
        self.callback = analysis.cls.kind == "callback"
        self.taken_attrs = set(analysis.used_names) | RESERVED_ATTRIBUTES
        self.local_names: dict[int, set[str]] = {}  # id(function) -> names in use
        # id(statement) -> (function, its code) for statements that are only synced values with one reduction.
        self.packables: dict[int, tuple[cst.FunctionDef, _SyncedItem]] = {}
        self._packable: Optional[_SyncedItem] = None
        self.loop_names: dict[int, tuple[str, str]] = {}  # id(function) -> loop variables over run-time mappings

    # -- names ------------------------------------------------------------------------------------------------
    def new_attr(self, name: str, reduce: str) -> str:
        base = identifier(name)
        candidates = [base, f"{base}_{reduce}"] + [f"{base}_{n}" for n in range(2, 100)]
        for candidate in candidates:
            if candidate not in self.taken_attrs:
                self.taken_attrs.add(candidate)
                return candidate
        raise AssertionError("no free attribute name")

    def new_local(self, scope_key: int, scope_names: set[str], base: str) -> str:
        taken = self.local_names.setdefault(scope_key, set(scope_names))
        base = identifier(base)
        for candidate in [base, f"{base}_value"] + [f"{base}_{n}" for n in range(2, 100)]:
            if candidate not in taken and candidate not in ("self",) and not keyword.iskeyword(candidate):
                taken.add(candidate)
                return candidate
        raise AssertionError("no free local name")

    def local_in(self, function: cst.FunctionDef, base: str) -> str:
        return self.new_local(id(function), _names_in(function), base)

    # -- the plan ---------------------------------------------------------------------------------------------
    def plan(self) -> MigrationPlan:
        calls = _same_fate(self._check_conflicts(list(self.analysis.calls)))
        while True:
            plan = MigrationPlan(self.analysis)
            self.taken_attrs = set(self.analysis.used_names) | RESERVED_ATTRIBUTES
            self.local_names = {}
            self.packables = {}
            self.loop_names = {}
            retry = self._build(plan, calls)
            if retry is None:
                return plan
            calls = _same_fate(retry)

    def _check_conflicts(self, calls: list[LogCall]) -> list[LogCall]:
        """Lightning keys epoch values by (hook, name); several hooks or differing options cannot share one."""
        groups: dict[tuple[str, str], list[LogCall]] = {}
        for call in calls:
            if call.problem is not None or call.spec is None or not call.on_epoch:
                continue
            for item in call.items:
                groups.setdefault((call.spec.stage, item.name), []).append(call)
        bad: dict[int, str] = {}
        for (stage, name), members in groups.items():
            hooks = {c.hook for c in members}
            options = {(c.on_step, c.on_epoch, c.reduce, c.sync, c.prog_bar, c.logger) for c in members}
            if len(hooks) > 1:
                for c in members:
                    bad[id(c)] = f"{name!r} is logged on_epoch from {', '.join(sorted(hooks))}"
            elif len(options) > 1:
                for c in members:
                    bad[id(c)] = f"{name!r} is logged with different options (Lightning raises)"
            elif members[0].spec is not None and members[0].spec.kind == "epoch" and len(members) > 1:
                for c in members:
                    bad[id(c)] = f"{name!r} is logged more than once in {members[0].hook}"
        return [replace(c, problem=("PM214", bad[id(c)])) if id(c) in bad else c for c in calls]

    def _build(self, plan: MigrationPlan, calls: list[LogCall]) -> Optional[list[LogCall]]:
        aggregators: dict[tuple[str, str], Aggregator] = {}
        compute: dict[str, list[str]] = {}  # stage -> compute-hook statements
        compute_order: list[str] = []
        resets: dict[str, list[str]] = {}
        anchors: dict[str, str] = {}
        statements_of: dict[int, list[LogCall]] = {}  # the variants of each log statement, in order
        for call in calls:
            if call.problem is None:
                statements_of.setdefault(id(call.statement), []).append(call)
        for key, members in statements_of.items():
            try:
                plan.replacements[key] = self._rewrite_variants(
                    members, plan, aggregators, compute, compute_order, resets
                )
            except _Leave as leave:
                return [replace(c, problem=(leave.code, leave.detail)) if id(c.statement) == key else c for c in calls]
            for call in members:
                assert call.spec is not None
                # New compute hooks go after the last step hook of their stage that logs (else its last hook).
                if call.spec.kind != "epoch" or call.spec.stage not in anchors:
                    anchors[call.spec.stage] = call.hook

        self._pack_statements(plan)
        self._hoist_batch_size(plan, calls)
        if any(aggregators.values()):
            plan.init_statements = [f"self.{a.attr} = {a.constructor()}" for a in aggregators.values()]
            problem = self._init_problem()
            if problem is not None:
                needing = {a.hook for a in aggregators.values()}
                return [
                    replace(c, problem=("PM212", problem))
                    if c.problem is None and c.on_epoch and c.hook in needing and c.spec and c.spec.kind != "epoch"
                    else c
                    for c in calls
                ]
        self._move_train_resets(resets, compute, compute_order)
        inherited = self.cls.inherited
        if inherited is not None:
            # PutMixin has no-op compute hooks, so a new compute hook of a derived class can always start with
            # super(): whatever an ancestor computes (now, or once it is migrated, in this run or a later one)
            # still runs. (PM221, "migrate the base first and run again", is retired.)
            for stage in compute_order:
                hook = COMPUTE_HOOKS[stage]  # type: ignore[index]
                if hook not in self.analysis.methods:
                    plan.super_calls.add(hook)
            for stage in resets:
                plan.super_calls.add(METRIC_RESET_HOOKS[stage])  # type: ignore[index]
        for stage in compute_order:
            hook = COMPUTE_HOOKS[stage]  # type: ignore[index]
            plan.hook_additions[hook] = compute[stage]
            plan.hook_anchors[hook] = anchors[stage]
        for stage, statements in resets.items():
            hook = METRIC_RESET_HOOKS[stage]  # type: ignore[index]
            plan.hook_additions.setdefault(hook, []).extend(statements)
            plan.hook_anchors[hook] = COMPUTE_HOOKS[stage] if stage in compute else anchors[stage]  # type: ignore
        reported: dict[tuple[int, int], list[LogCall]] = {}  # one finding per call in the source
        for call in calls:
            reported.setdefault((call.line, call.column), []).append(call)
        for (line, column), members in reported.items():
            call = members[0]
            if call.problem is not None:
                code, detail = call.problem
                plan.findings.append(make_finding(self.path, line, column, code, detail))
            else:
                code = "PM103" if self.callback else ("PM102" if call.method == "log_dict" else "PM101")
                names = list(dict.fromkeys(repr(i.name) for c in members for i in c.items))
                plan.findings.append(make_finding(self.path, line, column, code, ", ".join(names)))
        if plan.replacements:
            plan.imports.add(("shim", "PutMixin"))
        return None

    def _move_train_resets(self, resets, compute, compute_order) -> None:
        """Train-stage Metric resets go at the end of the train compute hook, where the values were just consumed
        (put), unless a reader may still need the Metric in ``on_train_epoch_end``.

        Lightning resets logged Metrics after the train-epoch logger call, whatever the hooks do (§3.4). A reset
        appended to the class's ``on_train_epoch_end`` is skipped when a subclass overrides that hook without
        ``super()``; the compute hooks are generated, and a derived class's compute hook always calls ``super()``,
        so a reset there always runs. Between the compute hook and Lightning's reset only the ``on_train_epoch_end``
        hooks run: when this class's ``on_train_epoch_end`` (or a method it calls) touches the Metric, it must still
        see the epoch's state, so the reset stays appended there, after the user's code."""
        statements = resets.get("train")
        if not statements:
            return
        read = _self_attributes_reached(self.analysis.methods, METRIC_RESET_HOOKS["train"])
        moved = [s for s in statements if s.split(".")[1] not in read]
        if not moved:
            return
        kept = [s for s in statements if s not in moved]
        if kept:
            resets["train"] = kept
        else:
            del resets["train"]
        if "train" not in compute_order:
            compute_order.append("train")
        compute.setdefault("train", []).extend(moved)

    def _pack_statements(self, plan: MigrationPlan) -> None:
        """Neighbouring statements that only log synced values with the same op and group share one reduction
        (``a, b = reduce_step_values(self.trainer, x, y)``): one collective where Lightning runs one per value.
        The first statement evaluates every value, as the originals would in turn; the others keep their puts."""
        by_function: dict[int, list[int]] = {}
        functions: dict[int, cst.FunctionDef] = {}
        for key, (function, _) in self.packables.items():
            by_function.setdefault(id(function), []).append(key)
            functions[id(function)] = function
        for function_id, keys in by_function.items():
            if len(keys) < 2:
                continue
            positions = _statement_positions(functions[function_id])
            ordered = sorted((positions[k], k) for k in keys if k in positions)
            runs: list[list[int]] = []
            for (block, index), key in ordered:
                if runs:
                    (last_block, last_index), last_key = positions[runs[-1][-1]], runs[-1][-1]
                    if (
                        last_block == block
                        and last_index == index - 1
                        and self.packables[last_key][1].reduction.key == self.packables[key][1].reduction.key
                    ):
                        runs[-1].append(key)
                        continue
                runs.append([key])
            for run in runs:
                if len(run) < 2:
                    continue
                items = [self.packables[key][1] for key in run]
                merged = items[0]
                for item in items[1:]:
                    merged = self._merge(merged, item, functions[function_id])
                plan.replacements[run[0]] = [*merged.pre, merged.reduction.code(), *items[0].post]
                for key, item in zip(run[1:], items[1:]):
                    plan.replacements[key] = list(item.post)

    def _hoist_batch_size(self, plan: MigrationPlan, calls: list[LogCall]) -> None:
        """Lightning infers the batch size once per batch: a function with two or more updates weighted by
        ``extract_batch_size(batch)`` gets one ``batch_size = extract_batch_size(batch)`` before the first of them."""
        by_function: dict[int, list[LogCall]] = {}
        for call in calls:
            if call.problem is None and call.batch_param is not None and id(call.statement) in plan.replacements:
                by_function.setdefault(id(call.function), []).append(call)
        for members in by_function.values():
            function = members[0].function
            params = {c.batch_param for c in members}
            if len(params) != 1 or not isinstance(function.body, cst.IndentedBlock):
                continue
            param = params.pop()
            needle = f"extract_batch_size({param})"
            keys = list(dict.fromkeys(id(c.statement) for c in members))
            if sum("\n".join(plan.replacements[k]).count(needle) for k in keys) < 2:
                continue
            first = min(members, key=lambda c: (c.line, c.column))
            path = _block_path(list(function.body.body), first.statement)
            if not path:
                continue
            top_body, top_index = path[0]
            local = self.local_in(function, "batch_size")
            for key in keys:
                plan.replacements[key] = [code.replace(needle, local) for code in plan.replacements[key]]
            plan.insertions.setdefault(id(top_body[top_index]), []).append(f"{local} = {needle}")

    def _init_problem(self) -> Optional[str]:
        init = self.analysis.methods.get("__init__")
        if init is None:
            return None
        if _super_init_index(init) is None:
            return "aggregators are created after super().__init__()"
        return None

    # -- one statement, one or several variants ---------------------------------------------------------------
    def _rewrite_variants(self, members, plan, aggregators, compute, compute_order, resets) -> list[str]:
        """The code for one log statement. A statement that runs in several ways (a helper reached from several
        hooks or with several literal arguments, a loop over literal names) gets one branch per distinct rewrite,
        chosen by the literal argument that tells them apart, else by the trainer's running stage."""
        scope = id(members[0].function)
        before = set(self.local_names[scope]) if scope in self.local_names else None
        taken: set[str] = set()
        codes: list[list[str]] = []
        packables = []
        for call in members:
            if before is None:
                self.local_names.pop(scope, None)
            else:
                self.local_names[scope] = set(before)  # branches may reuse a local name
            codes.append(self._rewrite(call, plan, aggregators, compute, compute_order, resets))
            packables.append(self._packable)
            taken |= self.local_names.get(scope, set())
        if taken:
            self.local_names[scope] = taken
        groups: list[tuple[list[LogCall], list[str]]] = []
        for call, code in zip(members, codes):
            for group_calls, group_code in groups:
                if group_code == code:
                    group_calls.append(call)
                    break
            else:
                groups.append(([call], code))
        if len(groups) == 1:
            if packables[0] is not None:
                self.packables[id(members[0].statement)] = (members[0].function, packables[0])
            return groups[0][1]
        plan.dispatches.add(id(members[0].statement))
        return [self._dispatch(groups)]

    def _dispatch(self, groups: list[tuple[list[LogCall], list[str]]]) -> str:
        members = [call for group_calls, _ in groups for call in group_calls]
        variables = set.intersection(*(set(dict(c.bindings)) for c in members))
        for variable in sorted(variables):
            values = [{dict(c.bindings)[variable] for c in group_calls} for group_calls, _ in groups]
            if sum(len(v) for v in values) == len(set().union(*values)):
                branches = []
                for value_set, (_, code) in zip(values, groups):
                    ordered = sorted(value_set)
                    if len(ordered) == 1:
                        condition = f"{variable} == {_quote(ordered[0])}"
                    else:
                        condition = f"{variable} in ({', '.join(_quote(v) for v in ordered)})"
                    branches.append((condition, code))
                return self._if_chain(branches)
        stages = [{c.spec.stage for c in group_calls} for group_calls, _ in groups]
        if all(len(s) == 1 for s in stages) and len({next(iter(s)) for s in stages}) == len(groups):
            # The hook that runs decides the stage; Trainer.training/testing tell it (validation: also sanity check).
            trainer = members[0].trainer
            conditions = {"train": f"{trainer}.training", "test": f"{trainer}.testing", "validation": None}
            order = sorted(range(len(groups)), key=lambda i: ("train", "test", "validation").index(next(iter(stages[i]))))
            branches = [(conditions[next(iter(stages[i]))], groups[i][1]) for i in order]
            branches = [(c if index < len(branches) - 1 else None, code) for index, (c, code) in enumerate(branches)]
            return self._if_chain(branches)
        hooks = sorted({c.hook for c in members})
        raise _Leave(
            "PM205",
            f"`{members[0].via}` logs differently for {', '.join(hooks)}, and no literal argument tells the callers "
            "apart",
        )

    def _if_chain(self, branches: list[tuple[Optional[str], list[str]]]) -> str:
        lines = []
        for index, (condition, codes) in enumerate(branches):
            if condition is None:
                lines.append("else:")
            else:
                lines.append(f"{'if' if index == 0 else 'elif'} {condition}:")
            lines.extend(_indent(code, self.indent) for code in (codes or ["pass"]))
        return "\n".join(lines)

    # -- one call ---------------------------------------------------------------------------------------------
    def _rewrite(self, call, plan, aggregators, compute, compute_order, resets) -> list[str]:
        spec = call.spec
        assert spec is not None and call.statement is not None
        stage = spec.stage
        out: list[str] = []
        step_dests = _destinations(callbacks=stage == "train", loggers=call.logger, progress_bar=call.prog_bar)
        epoch_dests = _destinations(callbacks=True, loggers=call.logger, progress_bar=call.prog_bar)
        per_dataloader = call.dataloader_idx_param is not None and call.add_dataloader_idx
        if per_dataloader and any(item.metric is not None for item in call.items):
            # One Metric object for every dataloader: Lightning computes it per dataloader key as it goes (§2).
            raise _Leave("PM217", f"a Metric object logged in `{call.hook}`, which takes a dataloader_idx")
        if spec.kind == "epoch" and call.in_loop:
            raise _Leave("PM219", f"in a loop in `{call.hook}`")
        collection_forward: Optional[str] = None
        for item in call.items:
            if item.metric is not None:
                if item.metric.collection:
                    collection_forward = self._collection_item(
                        call, item, out, plan, compute, compute_order, resets, step_dests, epoch_dests,
                        collection_forward,
                    )
                else:
                    self._metric_item(call, item, out, plan, compute, compute_order, resets, step_dests, epoch_dests)
                continue
            if item.dynamic:
                self._mapping_item(call, item, out, plan, aggregators, compute, compute_order, step_dests, epoch_dests)
                continue
            self._tensor_item(call, item, out, plan, aggregators, compute, compute_order, step_dests, epoch_dests)
        packed = self._pack(out, call.function)
        self._packable = packed[0] if len(packed) == 1 and isinstance(packed[0], _SyncedItem) else None
        return _lines(packed)

    def _put(self, name: str, value: str, destinations: tuple[str, ...], suffix: Optional[str] = None) -> str:
        """``self.put("name", ...)``; with ``suffix`` (an expression) the name is an f-string ending with it."""
        if suffix is None:
            return f"self.put({_quote(name)}, {value}, {_dest_code(destinations)})"
        name_code = "f" + _quote(_braces(name) + "{" + suffix + "}")
        return f"self.put({name_code}, {value}, {_dest_code(destinations)})"

    def _step_puts(self, name: str, value: str, forked: bool, stage: str, destinations: tuple[str, ...],
                   suffix: Optional[str] = None) -> list[str]:
        """The step part of a logged value (§2.1): a forked name is put as ``name_step``, and in the train stage
        also as ``name`` for callbacks, which hold both."""
        if not forked:
            return [self._put(name, value, destinations, suffix)]
        puts = [self._put(f"{name}_step", value, destinations, suffix)]
        if stage == "train":
            puts.append(self._put(name, value, ("callbacks",)))
        return puts

    def _step_suffix(self, call: LogCall, plan: MigrationPlan) -> Optional[str]:
        """Eval step names get "/dataloader_idx_N" exactly when Lightning adds it (several dataloaders, §2)."""
        if call.dataloader_idx_param is None or not call.add_dataloader_idx:
            return None
        plan.imports.add(("shim", "dataloader_suffix"))
        return f"dataloader_suffix({call.trainer}, {call.dataloader_idx_param})"

    def _reduction(self, call: LogCall, plan: MigrationPlan, local: str, value: cst.BaseExpression) -> _StepReduction:
        """A value with sync_dist reduced across ranks as Lightning's ``strategy.reduce`` of a clone does (RES:225,
        §5), through ``shim.reduce_step_values`` (numbers too; several values packed into one collective)."""
        plan.imports.add(("shim", "reduce_step_values"))
        group = _code(call.sync_group) if call.sync_group is not None else None
        return _StepReduction(call.trainer, call.reduce, group, (local,), (_code(value),), (_is_simple(value),))

    def _pack(self, entries: list, function: cst.FunctionDef) -> list:
        """Consecutive synced items with the same trainer, op and group share one reduction."""
        packed: list = []
        for entry in entries:
            previous = packed[-1] if packed else None
            if (
                isinstance(entry, _SyncedItem)
                and isinstance(previous, _SyncedItem)
                and previous.reduction.key == entry.reduction.key
            ):
                packed[-1] = self._merge(previous, entry, function)
            else:
                packed.append(entry)
        return packed

    def _merge(self, first: _SyncedItem, second: _SyncedItem, function: cst.FunctionDef) -> _SyncedItem:
        """``first`` and ``second`` reduced together. The values keep their order of evaluation: when ``second``
        binds its value first (it is used again), ``first``'s expressions are bound before it."""
        if second.pre and not all(first.reduction.simple):
            pre = list(first.pre)
            values = list(first.reduction.values)
            for index, (value, simple) in enumerate(zip(first.reduction.values, first.reduction.simple)):
                if not simple:
                    local = self.local_in(function, first.reduction.locals[index])
                    pre.append(f"{local} = {value if chr(10) not in value else f'({value})'}")
                    values[index] = local
            reduction = replace(
                first.reduction, values=tuple(values), simple=tuple(True for _ in values)
            )
            first = _SyncedItem(tuple(pre), reduction, first.post)
        return first.merged(second)

    def _tensor_item(self, call, item, out, plan, aggregators, compute, compute_order, step_dests, epoch_dests):
        spec = call.spec
        stage = spec.stage
        value = item.value
        direct_epoch = call.on_epoch and spec.kind == "epoch"
        uses = 0
        if call.on_step:
            uses += 2 if (call.forked and stage == "train") else 1
        if call.on_epoch:
            uses += 1
        pre: list[str] = []
        if uses > 1 and not _is_simple(value):
            local = self.local_in(call.function, item.name)
            pre.append(f"{local} = {_plain(value)}")
            value = cst.Name(local)
        value_code = _code(value) if "\n" not in _code(value) else _plain(value)
        reduction: Optional[_StepReduction] = None
        lines: list[str] = []

        if call.on_step:
            step_value = value_code
            if call.sync:
                local = self.local_in(call.function, f"{item.name}_step" if call.forked else item.name)
                reduction = self._reduction(call, plan, local, value)
                step_value = local
            suffix = self._step_suffix(call, plan)
            lines += self._step_puts(item.name, step_value, call.forked, stage, step_dests, suffix)
        if call.on_epoch and direct_epoch:
            # A mean over one value with weight 1 is the value itself (contract: epoch-level hooks).
            epoch_value = value_code
            if call.sync:
                epoch_value = self.local_in(call.function, item.name)
                reduction = self._reduction(call, plan, epoch_value, value)
            lines.append(self._put(item.name, epoch_value, epoch_dests))
        elif call.on_epoch:
            self._epoch_update(call, item, value_code, lines, plan, aggregators, compute, compute_order, epoch_dests)
        if reduction is None:
            out.extend(pre + lines)
        else:
            out.append(_SyncedItem(tuple(pre), reduction, tuple(lines)))

    def _mapping_item(self, call, item, out, plan, aggregators, compute, compute_order, step_dests, epoch_dests):
        """``log_dict(d)`` of names known only at run time: ``put_dict`` for step-only and epoch-level values, else
        a loop over ``d.items()`` with the step puts and per-name aggregators (``shim.metrics.Keyed``)."""
        spec = call.spec
        mapping = item.value
        direct = not call.on_epoch or spec.kind == "epoch"
        # Eval step names of a hook with a dataloader_idx end with "/dataloader_idx_N" when Lightning adds it (§2).
        suffix = self._step_suffix(call, plan) if call.on_step else None
        if direct and not call.sync and suffix is None:
            dests = step_dests if not call.on_epoch else epoch_dests
            out.append(f"self.put_dict({_code(mapping)}, {_dest_code(dests)})")
            return
        if not _is_simple(mapping):
            local = self.local_in(call.function, _mapping_base(mapping))
            out.append(f"{local} = {_plain(mapping)}")
            mapping_code = local
        else:
            mapping_code = _code(mapping)
        # Every loop rebinds its variables first, so all the loops of a function share one pair of free names.
        loop = self.loop_names.get(id(call.function))
        if loop is None:
            loop = self.loop_names[id(call.function)] = (
                self.local_in(call.function, "name"), self.local_in(call.function, "value")
            )
        name, value = loop
        if call.sync and (direct or call.on_step):
            # Lightning reduces each synced step value (and an epoch-level hook's value) as it is logged: one
            # packed reduction of the mapping's values, zipped back with its keys (decisions 2-4, 17).
            plan.imports.add(("shim", "reduce_step_values"))
            group = f", group={_code(call.sync_group)}" if call.sync_group is not None else ""
            reduced = (
                f"zip({mapping_code}, reduce_step_values({call.trainer}, *{mapping_code}.values(), "
                f"reduce_op={_quote(call.reduce)}{group}))"
            )
            if direct and suffix is None:
                puts = [f"self.put({name}, {value}, {_dest_code(step_dests if not call.on_epoch else epoch_dests)})"]
            else:
                puts = self._mapping_step_puts(call, name, value, step_dests, suffix)
            out.append(f"for {name}, {value} in {reduced}:\n" + "\n".join(_indent(b, self.indent) for b in puts))
            if direct:
                return
        body: list[str] = []
        if call.on_step and not call.sync:
            body += self._mapping_step_puts(call, name, value, step_dests, suffix)
        if not direct:
            self._epoch_update(
                call, item, value, body, plan, aggregators, compute, compute_order, epoch_dests,
                key=name, base=_mapping_base(mapping),
            )
        out.append(f"for {name}, {value} in {mapping_code}.items():\n" + "\n".join(_indent(b, self.indent) for b in body))

    def _mapping_step_puts(self, call, name: str, value: str, step_dests, suffix: Optional[str] = None) -> list[str]:
        """The step puts of one run-time name (loop variables ``name``, ``value``); forked names as in §2.1;
        ``suffix`` (an expression) ends eval step names of a hook with a dataloader_idx."""
        tail = "" if suffix is None else "{" + suffix + "}"
        if not call.forked:
            target = name if suffix is None else f"f\"{{{name}}}{tail}\""
            return [f"self.put({target}, {value}, {_dest_code(step_dests)})"]
        puts = [f"self.put(f\"{{{name}}}_step{tail}\", {value}, {_dest_code(step_dests)})"]
        if call.spec.stage == "train":
            puts.append(f"self.put({name}, {value}, {_dest_code(('callbacks',))})")
        return puts

    def _epoch_update(self, call, item, value_code, out, plan, aggregators, compute, compute_order, epoch_dests,
                      key=None, base=None):
        """The aggregator update of an epoch value; ``key`` (an expression) selects a ``Keyed`` aggregator's name."""
        stage = call.spec.stage
        if call.sync_group is not None and call.sync:
            # The aggregator is built in __init__, where the group expression of a hook may not exist yet.
            raise _Leave("PM202", f"sync_dist_group={_code(call.sync_group)} for an epoch value")
        per_dataloader = call.dataloader_idx_param is not None and call.add_dataloader_idx
        slot = (stage, item.name)
        kind = _AGGREGATORS[call.reduce]
        group = _code(call.sync_group) if call.sync_group is not None and call.sync else None
        wanted = Aggregator(
            "", stage, item.name, kind, call.sync, group, per_dataloader, call.forked, epoch_dests, call.hook,
            keyed=key is not None,
        )
        aggregator = aggregators.get(slot)
        if aggregator is None:
            wanted.attr = self.new_attr(base or item.name, call.reduce)
            aggregator = aggregators[slot] = wanted
            self._add_compute(stage, compute, compute_order, self._aggregator_compute(aggregator))
            plan.imports.add(("shim.metrics", kind))
            if wanted.keyed:
                plan.imports.add(("shim.metrics", "Keyed"))
                if wanted.sync or per_dataloader:
                    plan.imports.add(("functools", ""))  # ``import functools``
            if per_dataloader:
                plan.imports.add(("shim.metrics", "PerDataloader"))
                if wanted.sync:
                    plan.imports.add(("functools", ""))  # a partial pickles (ddp_spawn), a lambda would not
        elif aggregator.signature() != wanted.signature():
            raise _Leave("PM214", f"{item.name!r} is logged with different options")
        target = f"self.{aggregator.attr}"
        if per_dataloader:
            target += f"[{call.dataloader_idx_param}]"
        if key is not None:
            target += f"[{key}]"
        if kind != "Mean":
            out.append(f"{target}.update({value_code})")
            return
        if call.batch_size is not None:
            weight = _code(call.batch_size)
        elif call.batch_param is not None:
            weight = f"extract_batch_size({call.batch_param})"
            plan.imports.add((f"{self.cls.package}.utilities.data", "extract_batch_size"))
        else:
            weight = None
        out.append(f"{target}.update({value_code}, weight={weight})" if weight else f"{target}.update({value_code})")

    def _add_compute(self, stage, compute, compute_order, statements: list[str]) -> None:
        if stage not in compute:
            compute[stage] = []
            compute_order.append(stage)
        compute[stage].extend(statements)

    def _aggregator_compute(self, agg: Aggregator) -> list[str]:
        i = self.indent
        if agg.keyed:
            tail = "{suffix}" if agg.per_dataloader else ""
            body = [f"{i}{i}value = aggregator.compute()"] if agg.forked else []
            value = "value" if agg.forked else "aggregator.compute()"
            name = f'f"{{name}}_epoch{tail}"' if agg.forked else (f'f"{{name}}{tail}"' if tail else "name")
            body.append(f"{i}{i}self.put({name}, {value}, {_dest_code(agg.destinations)})")
            if agg.forked:
                plain = f'f"{{name}}{tail}"' if tail else "name"
                body.append(f"{i}{i}self.put({plain}, value, {_dest_code(('callbacks',))})")

            def loop(container: str) -> str:
                return (
                    f"for name, aggregator in {container}.items():\n"
                    f"{i}if aggregator.update_called:\n" + "\n".join(body) + f"\n{i}aggregator.reset()"
                )

            if not agg.per_dataloader:
                return [loop(f"self.{agg.attr}")]
            # One Keyed container per dataloader; PerDataloader gives the suffix Lightning adds (§2).
            trainer = "trainer" if self.callback else "self.trainer"
            return [f"for suffix, aggregators in self.{agg.attr}.items({trainer}):\n" + _indent(loop("aggregators"), i)]
        if agg.per_dataloader:
            # Lightning adds "/dataloader_idx_N" only with several eval dataloaders (§2); PerDataloader knows.
            trainer = "trainer" if self.callback else "self.trainer"
            value = "value" if agg.forked else "aggregator.compute()"
            body = [f"{i}{i}value = aggregator.compute()"] if agg.forked else []
            name = f"{agg.name}_epoch" if agg.forked else agg.name
            body.append(f"{i}{i}{self._put(name, value, agg.destinations, 'suffix')}")
            if agg.forked:
                body.append(f"{i}{i}{self._put(agg.name, 'value', ('callbacks',), 'suffix')}")
            return [
                f"for suffix, aggregator in self.{agg.attr}.items({trainer}):\n"
                f"{i}if aggregator.update_called:\n" + "\n".join(body) + f"\n{i}aggregator.reset()"
            ]
        return self._guarded_compute(
            f"self.{agg.attr}", agg.name, agg.forked, agg.destinations, reset=True, local_base=agg.attr
        )

    def _guarded_compute(self, target, name, forked, destinations, *, reset, local_base, guard=None) -> list[str]:
        i = self.indent
        lines = [f"if {guard or target}.update_called:"]
        if forked:
            hook_scope = -1  # one namespace per class for compute-hook locals
            local = self.new_local(hook_scope, set(), local_base)
            lines.append(f"{i}{local} = {target}.compute()")
            lines.append(f"{i}{self._put(f'{name}_epoch', local, destinations)}")
            lines.append(f"{i}{self._put(name, local, ('callbacks',))}")
        else:
            lines.append(f"{i}{self._put(name, f'{target}.compute()', destinations)}")
        statements = ["\n".join(lines)]
        if reset:
            statements.append(f"{target}.reset()")
        return statements

    # -- Metric objects (§3.4) --------------------------------------------------------------------------------
    def _metric_item(self, call, item, out, plan, compute, compute_order, resets, step_dests, epoch_dests):
        spec = call.spec
        stage = spec.stage
        attr = item.metric.attr
        target = f"self.{attr}"
        if call.on_step:
            step_value = self._forward_value(call, attr, plan)
            if step_value is not None:
                out += self._step_puts(item.name, step_value, call.forked, stage, step_dests)
        if call.on_epoch:
            if spec.kind == "epoch":
                out.append(self._put(item.name, f"{target}.compute()", epoch_dests))
            else:
                statements = self._guarded_compute(
                    target, item.name, call.forked, epoch_dests, reset=False, local_base=attr
                )
                if (stage, item.name) not in plan.computed:
                    plan.computed.add((stage, item.name))
                    self._add_compute(stage, compute, compute_order, statements)
        self._add_reset(plan, resets, stage, f"{target}.reset()")

    def _collection_item(self, call, item, out, plan, compute, compute_order, resets, step_dests, epoch_dests,
                         forward_local):
        spec = call.spec
        stage = spec.stage
        info: MetricInfo = item.metric
        member = f"self.{info.attr}[{_quote(item.collection_key)}]"
        if call.on_step:
            if forward_local is None:
                forward_local = self._forward_value(call, info.attr, plan) or ""
            if forward_local:
                step_value = f"{forward_local}[{_quote(item.name)}]"
                out += self._step_puts(item.name, step_value, call.forked, stage, step_dests)
        if call.on_epoch:
            if spec.kind == "epoch":
                out.append(self._put(item.name, f"{member}.compute()", epoch_dests))
            else:
                if (stage, item.name) not in plan.computed:
                    plan.computed.add((stage, item.name))
                    statements = self._guarded_compute(
                        member, item.name, call.forked, epoch_dests, reset=False,
                        local_base=identifier(item.name),
                    )
                    self._add_compute(stage, compute, compute_order, statements)
        self._add_reset(plan, resets, stage, f"self.{info.attr}.reset()")
        return forward_local

    def _add_reset(self, plan, resets, stage, statement: str) -> None:
        bucket = resets.setdefault(stage, [])
        if statement not in bucket:
            bucket.append(statement)

    def _forward_value(self, call: LogCall, attr: str, plan: MigrationPlan) -> Optional[str]:
        """The local holding the last ``self.<attr>(...)`` result before the call, or None if only update()."""
        function = call.function
        forwards = _calls_of(function, attr)
        path = _block_path(list(function.body.body), call.statement)
        candidates: list[cst.SimpleStatementLine] = []
        for body, index in path or []:
            for statement in body[:index]:
                if _forward_statement(statement, attr):
                    candidates.append(statement)
        if not forwards:
            if _calls_of(function, f"{attr}.update"):
                return None  # Lightning has no step value when only update() ran (§3.4)
            raise _Leave("PM208", f"no self.{attr}(...) or self.{attr}.update(...) in `{call.hook}`")
        if len(candidates) != len(forwards):
            raise _Leave("PM208", f"a self.{attr}(...) call in `{call.hook}` is not a statement before the log call")
        last = candidates[-1]
        small = last.body[0]
        if isinstance(small, cst.Assign):
            target = small.targets[0].target
            assert isinstance(target, cst.Name)
            return target.value
        key = id(last)
        if key in plan.replacements:  # already rewritten for another log call
            rewritten = plan.replacements[key][0]
            return rewritten.split(" = ", 1)[0]
        local = self.local_in(function, attr)
        code = _code(last.body[0])
        plan.replacements[key] = [f"{local} = {code.strip()}"]
        return local


@dataclass(frozen=True)
class _StepReduction:
    """One ``reduce_step_values`` call: the values of one or more synced step values with the same op and group."""

    trainer: str
    reduce_op: str
    group: Optional[str]
    locals: tuple[str, ...]
    values: tuple[str, ...]
    simple: tuple[bool, ...]  # per value: a name, attribute or number (evaluating it again, later, is harmless)

    @property
    def key(self) -> tuple:
        return (self.trainer, self.reduce_op, self.group)

    def code(self) -> str:
        group = f", group={self.group}" if self.group is not None else ""
        targets = ", ".join(self.locals) if len(self.locals) > 1 else f"({self.locals[0]},)"
        values = ", ".join(self.values)
        return f'{targets} = reduce_step_values({self.trainer}, {values}, reduce_op="{self.reduce_op}"{group})'


@dataclass(frozen=True)
class _SyncedItem:
    """The code of synced values: bindings, one packed reduction, then puts and updates of the reduced locals
    (which evaluate nothing of the user's, so later values may be evaluated before them)."""

    pre: tuple[str, ...]
    reduction: _StepReduction
    post: tuple[str, ...]

    def merged(self, other: "_SyncedItem") -> "_SyncedItem":
        reduction = replace(
            self.reduction,
            locals=self.reduction.locals + other.reduction.locals,
            values=self.reduction.values + other.reduction.values,
            simple=self.reduction.simple + other.reduction.simple,
        )
        return _SyncedItem(self.pre + other.pre, reduction, self.post + other.post)

    def lines(self) -> list[str]:
        return [*self.pre, self.reduction.code(), *self.post]


def _lines(entries: list) -> list[str]:
    return [line for e in entries for line in (e.lines() if isinstance(e, _SyncedItem) else [e])]


def _mapping_base(mapping: cst.BaseExpression) -> str:
    """A name for what a mapping holds: ``metrics`` for ``metrics`` or ``self.compute_metrics(x)``."""
    from put_migrate.lightning_classes import dotted_name

    node = mapping.func if isinstance(mapping, cst.Call) else mapping
    dotted = dotted_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
    return identifier(dotted.split(".")[-1]) if dotted else "metrics"


def _statement_positions(function: cst.FunctionDef) -> dict[int, tuple[int, int]]:
    """id(statement) -> (id(the block holding it), index in that block), for every block of the function."""
    positions: dict[int, tuple[int, int]] = {}

    class Visitor(cst.CSTVisitor):
        def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
            for index, statement in enumerate(node.body):
                positions[id(statement)] = (id(node), index)

    visit(function, Visitor())
    return positions


class _Leave(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def _calls_of(function: cst.FunctionDef, dotted: str) -> list[cst.Call]:
    """Calls of ``self.<dotted>(...)`` in the function."""
    found: list[cst.Call] = []
    wanted = f"self.{dotted}"

    class Visitor(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            from put_migrate.lightning_classes import dotted_name

            if dotted_name(node.func) == wanted:
                found.append(node)

    visit(function.body, Visitor())
    return found


def _forward_statement(statement: cst.BaseStatement, attr: str) -> bool:
    from put_migrate.lightning_classes import dotted_name

    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr):
        value = small.value
    elif isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        value = small.value
    else:
        return False
    return isinstance(value, cst.Call) and dotted_name(value.func) == f"self.{attr}"


def _sub_blocks(node: cst.CSTNode) -> list[cst.IndentedBlock]:
    found: list[cst.IndentedBlock] = []
    for child in node.children:
        if isinstance(child, cst.IndentedBlock):
            found.append(child)
        elif isinstance(child, cst.BaseStatement) and not isinstance(child, cst.If):
            continue
        else:
            found.extend(_sub_blocks(child))
    return found


def _block_path(body: list[cst.BaseStatement], target: cst.CSTNode) -> Optional[list[tuple[list, int]]]:
    """[(block body, index), ...] from the function body down to the block that holds ``target``."""
    for index, statement in enumerate(body):
        if statement is target:
            return [(body, index)]
        if isinstance(statement, cst.BaseCompoundStatement):
            for block in _sub_blocks(statement):
                inner = _block_path(list(block.body), target)
                if inner is not None:
                    return [(body, index)] + inner
    return None


def _super_init_index(init: cst.FunctionDef) -> Optional[int]:
    """Index of the ``super().__init__(...)`` statement in ``__init__``'s body."""
    from put_migrate.lightning_classes import dotted_name

    if isinstance(init.body, cst.IndentedBlock):
        body = [s.body[0] if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 else None
                for s in init.body.body]
    else:  # ``def __init__(self): super().__init__()`` (render.py splits the line first)
        body = list(init.body.body)
    for index, small in enumerate(body):
        if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
            continue
        func = small.value.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "__init__"
            and isinstance(func.value, cst.Call)
            and dotted_name(func.value.func) == "super"
        ):
            return index
    return None


def plan_class(analysis: ClassAnalysis, path: str = "<string>", indent: str = "    ") -> MigrationPlan:
    return _Planner(analysis, path, indent).plan()


def _self_attributes_reached(methods: dict[str, cst.FunctionDef], start: str) -> set[str]:
    """``self.<name>`` attributes used in method ``start`` and in the methods of the class it calls, transitively."""
    found: set[str] = set()
    todo, seen = [start], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in methods:
            continue
        seen.add(name)
        collector = _SelfNames()
        visit(methods[name], collector)
        found |= collector.names
        todo.extend(collector.names & methods.keys())
    return found


class _SelfNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            self.names.add(node.attr.value)
