"""Plan one class: attempts that each rewrite every migratable call, until one leaves no call it cannot finish."""

from __future__ import annotations

from dataclasses import dataclass, replace

from put_migrate.analyze import ClassAnalysis, LogCall
from put_migrate.analyze.branches import mutually_exclusive
from put_migrate.plan.batch_end_pair import batch_end_pair, chained_every_batch
from put_migrate.plan.batch_size import hoist_batch_size
from put_migrate.plan.dispatch import rewrite_statement
from put_migrate.plan.hook_scope import ancestor_conflicts, blocked_hooks, scope_conflicts, scoped_functions
from put_migrate.plan.hook_values import add_collection, collecting_functions, leave_uncollected, start_collecting
from put_migrate.plan.left_names import leave_names_shared_with_left
from put_migrate.plan.log_guard import under_guard
from put_migrate.plan.mapping_collisions import share_mappings
from put_migrate.plan.model import MigrationPlan
from put_migrate.plan.name_collisions import resolve_collisions
from put_migrate.plan.runtime_names import runtime_conflicts
from put_migrate.plan.scaffold import add_hooks, init_problem, new_init_signature
from put_migrate.plan.state import BuildState, Leave
from put_migrate.plan.statements import text
from put_migrate.plan.sync import pack_statements
from put_migrate.plan.two_hooks import batch_calls_in_every_batch, epoch_end_wins
from put_migrate.rules import (
    CALLBACK_LOG_MIGRATED,
    LOG_DICT_MIGRATED,
    LOG_MIGRATED,
    NAME_AGGREGATED_TWICE,
    NO_SUPER_INIT,
    PutName,
    make_finding,
)


@dataclass
class _Replan:
    """An attempt found calls it cannot migrate: the calls again, those marked with their problem."""

    calls: list[LogCall]


def plan_class(analysis: ClassAnalysis, path: str = "<string>", indent: str = "    ") -> MigrationPlan:
    """The plan of one class. A call found unmigratable while planning is left as it was (with its finding) and
    the class is planned again without it, so that nothing chosen for it (a name, an aggregator) remains. Each
    new attempt leaves at least one more call alone, so the attempts end."""
    all_collecting = collecting_functions(analysis)
    unscoped: set[str] = set()
    while True:
        # A left call of a scoped hook's call that may log one of its names stays self.log, which hook_value's
        # values cannot average with: the hook is planned again without a scope (its calls as they were before).
        scoped = scoped_functions(analysis, all_collecting, unscoped)
        collecting = all_collecting - scoped
        calls = leave_uncollected(list(analysis.calls), collecting | scoped)
        calls = resolve_collisions(analysis, calls)
        calls = share_mappings(calls, collecting | scoped, batch_calls_in_every_batch(analysis, calls))
        every_batch = batch_calls_in_every_batch(analysis, calls)
        pair_batches = every_batch | chained_every_batch(analysis, calls)  # the step-hook calls batch_end_pair takes
        calls = _check_conflicts(calls, collecting, scoped, every_batch, pair_batches)
        left = ancestor_conflicts(analysis, calls, scoped)
        calls = _same_fate([replace(c, problem=NAME_AGGREGATED_TWICE.problem(left[id(c)])) if id(c) in left else c
                            for c in calls])
        blocked = blocked_hooks(calls, scoped)
        while not blocked:
            outcome = _attempt(analysis, calls, path, indent, collecting, scoped, pair_batches)
            if isinstance(outcome, _Replan):
                calls = _same_fate(outcome.calls)
            else:
                # Once every call's own problems are found: those that share a name with a left call (left_names).
                shared = leave_names_shared_with_left(calls)
                if shared is calls:
                    return outcome
                calls = _same_fate(shared)
            blocked = blocked_hooks(calls, scoped)
        unscoped |= blocked


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


def _check_conflicts(
    calls: list[LogCall], collecting: set[int], scoped: set[int], every_batch: set[int],
    pair_batches: set[int],
) -> list[LogCall]:
    """Lightning keys epoch values by (hook, name); several hooks or differing options cannot share one, except an
    eval batch hook's call logged in every batch and the stage's epoch-end hook (``two_hooks``: the epoch hook's
    value wins, in Lightning as in the migrated code). One name twice in an epoch-level hook is averaged by a
    ``HookValues`` where the hook is ``collecting`` (or ``scoped``), and is fine where one call of the hook runs
    only one of the calls (exclusive ``if``/``else`` arms)."""
    groups: dict[tuple[str, str], list[LogCall]] = {}
    for call in calls:
        if call.problem is not None or call.spec is None or not call.on_epoch:
            continue
        for item in call.items:
            groups.setdefault((call.spec.stage, item.name), []).append(call)
    bad: dict[int, str] = {}
    for (stage, name), members in groups.items():
        hooks = {c.hook for c in members}
        if len(hooks) > 1 and epoch_end_wins(members, every_batch):
            batch = [c for c in members if c.spec is not None and c.spec.kind == "batch"]
            if len({_options(c) for c in batch}) > 1:
                for c in batch:
                    bad[id(c)] = f"{name!r} is logged with different options (Lightning raises)"
            members = [c for c in members if c not in batch]
            hooks = {c.hook for c in members}
        if len(hooks) > 1 and batch_end_pair(members, pair_batches):
            hooks = {members[0].hook}  # one aggregator per hook, put in Lightning's order (``batch_end_pair``)
        # Variants of one statement that differ only in options given as expressions are one call.
        options = {_options(c) for c in members}
        if len(hooks) > 1:
            for c in members:
                bad[id(c)] = f"{name!r} is logged on_epoch from {', '.join(sorted(hooks))}"
        elif len(options) > 1:
            for c in members:
                bad[id(c)] = f"{name!r} is logged with different options (Lightning raises)"
        elif (
            members[0].spec is not None
            and members[0].spec.kind == "epoch"
            and len(_runs(members)) > 1
            and not all(id(c.function) in collecting | scoped for c in members)
        ):
            if _one_per_invocation(_runs(members)):
                continue
            for c in members:
                bad[id(c)] = f"{name!r} is logged more than once in {members[0].hook}"
    unscoped = [c for c in calls if not (id(c.function) in scoped and c.spec is not None and c.spec.kind == "epoch")]
    bad.update({key: why for key, why in runtime_conflicts(unscoped).items() if key not in bad})
    bad.update({key: why for key, why in scope_conflicts(calls, scoped, every_batch).items() if key not in bad})
    return [replace(c, problem=NAME_AGGREGATED_TWICE.problem(bad[id(c)])) if id(c) in bad else c for c in calls]


def _batch_end_pairs(calls: list[LogCall], pair_batches: set[int]) -> set[tuple[str, str]]:
    """(stage, name) of the names logged on_epoch from an eval step hook and its ``on_*_batch_end``, each kept in
    an aggregator of its hook."""
    groups: dict[tuple[str, str], list[LogCall]] = {}
    for call in calls:
        if call.problem is None and call.spec is not None and call.on_epoch:
            for item in call.items:
                groups.setdefault((call.spec.stage, item.name), []).append(call)
    return {key for key, members in groups.items() if batch_end_pair(members, pair_batches)}


def _options(call: LogCall) -> tuple:
    """What Lightning compares between two calls of one name; an option given as an expression is that expression
    (its variants are one call)."""
    given = {option: expression for option, expression, _ in call.conditions}
    flags = (("on_step", call.on_step), ("on_epoch", call.on_epoch), ("sync_dist", call.sync),
             ("prog_bar", call.prog_bar), ("logger", call.logger))
    return (call.reduce_expression or call.reduce,) + tuple(given.get(o, value) for o, value in flags)


def _runs(members: list[LogCall]) -> list[LogCall]:
    """One call per way a statement runs: of the variants for options given as expressions, the all-True one (of
    a reduce_fx given as an expression, the mean)."""
    return [c for c in members if all(value for _, _, value in c.conditions) and _first_reduction(c)]


def _first_reduction(call: LogCall) -> bool:
    return call.reduce_expression is None or call.reduce == "mean"


def _one_per_invocation(members: list[LogCall]) -> bool:
    """The calls sit in different arms of one ``if`` chain of one function, outside loops, and one invocation of the
    hook runs that function once (the hook itself, or a method it calls once, outside loops: a hook another hook
    re-enters, a helper). A function the hook runs twice gives each statement two variants of the hook, which
    ``mutually_exclusive`` refuses as repeated statements."""
    function = members[0].function
    return (
        all(c.function is function and not c.in_loop for c in members)
        and mutually_exclusive(function, [c.statement for c in members])
    )


def _attempt(
    analysis: ClassAnalysis, calls: list[LogCall], path: str, indent: str, collecting: set[int], scoped: set[int],
    pair_batches: set[int],
) -> MigrationPlan | _Replan:
    """Rewrite every call without a problem; the plan, or the calls to plan again when one cannot be finished."""
    state = BuildState(analysis, indent)
    state.hook_scoped = scoped
    state.per_hook = _batch_end_pairs(calls, pair_batches)
    start_collecting(state, {id(c.function): c.function for c in calls if id(c.function) in collecting})
    statements_of: dict[int, list[LogCall]] = {}  # the variants of each log statement, in order
    for call in calls:
        if call.problem is None:
            statements_of.setdefault(id(call.statement), []).append(call)
    for key, members in statements_of.items():
        try:
            state.replacements[key] = under_guard(state, key, rewrite_statement(state, members))
        except Leave as leave:
            return _Replan([replace(c, problem=leave.problem) if id(c.statement) == key else c
                            for c in calls])
        for call in members:
            assert call.spec is not None
            # New compute hooks go after the last step hook of their stage that logs (else its last hook).
            if call.spec.kind != "epoch" or call.spec.stage not in state.anchors:
                state.anchors[call.spec.stage] = call.hook

    for stage, statements in state.late_compute.items():
        state.add_compute(stage, statements)
    pack_statements(state)
    if analysis.log_guard is None:  # under a guard, the batch size is inferred only where the guard holds
        hoist_batch_size(state, calls)
    plan = MigrationPlan(analysis)
    if any(state.aggregators.values()):
        plan.init_statements = [f"self.{a.attr} = {a.constructor()}" for a in state.aggregators.values()]
        plan.init_signature = new_init_signature(state.analysis)
        problem = init_problem(state)
        if problem is not None:
            needing = {a.hook for a in state.aggregators.values()}
            return _Replan([
                replace(c, problem=NO_SUPER_INIT.problem(problem))
                if c.problem is None and c.on_epoch and c.hook in needing and c.spec and c.spec.kind != "epoch"
                else c
                for c in calls
            ])
    add_hooks(state, plan)
    add_collection(state, plan, {id(c.function) for c in calls if c.problem is None})
    plan.findings = _findings(calls, path, state.callback, state.put_names)
    plan.replacements = {
        key: [text(s, indent, state.batch_size_locals.get(key)) for s in statements]
        for key, statements in state.replacements.items()
    }
    plan.dispatches = state.dispatches
    plan.insertions = state.insertions
    plan.imports = state.imports
    if plan.replacements:
        plan.imports.add(("shim", "PutMixin"))
    return plan


def _findings(calls: list[LogCall], path: str, callback: bool, put_names: dict[int, list[PutName]]) -> list:
    """One finding per call in the source: its problem, or what it was migrated to (and the names it puts)."""
    findings = []
    reported: dict[tuple[int, int], list[LogCall]] = {}
    for call in calls:
        reported.setdefault((call.line, call.column), []).append(call)
    for (line, column), members in reported.items():
        call = members[0]
        if call.problem is not None:
            code, detail = call.problem
            findings.append(make_finding(path, line, column, code, detail))
        else:
            code = (
                CALLBACK_LOG_MIGRATED if callback else LOG_DICT_MIGRATED if call.method == "log_dict" else LOG_MIGRATED
            )
            names = list(dict.fromkeys(repr(i.name) for c in members for i in c.items))
            finding = make_finding(path, line, column, code, ", ".join(names))
            puts = dict.fromkeys(name for c in members for name in put_names.get(id(c), ()))
            findings.append(replace(finding, names=tuple(puts)))
    return findings
