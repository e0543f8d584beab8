"""Reading one found call: a ``LogCall`` per way it runs (caller hook x literal loop values), or one with a problem."""

from __future__ import annotations

import itertools
from dataclasses import replace

import libcst as cst

from put_migrate.analyze.arguments import bind_found, name_argument, optional_argument
from put_migrate.analyze.calls import Found
from put_migrate.analyze.closures import closure_problem
from put_migrate.analyze.context import (
    REMOVED_EPOCH_END,
    Context,
    HelperCall,
    callback_hooks,
    entry_context,
    helper_context,
    hook_context,
    removed_hook_problem,
    unknown_callers,
)
from put_migrate.analyze.hook_arguments import (
    IN_FLIGHT,
    batch_param,
    dataloader_idx_expression,
    dataloader_idx_problem,
    may_share_names,
    needs_weight,
    trainer_expression,
)
from put_migrate.analyze.items import log_items, runtime_name_problem
from put_migrate.analyze.literals import code_of, literal_str, names_in_expression
from put_migrate.analyze.local_kwargs import local_expansions, optional_keywords
from put_migrate.analyze.model import ClassFacts, LogCall, with_problem
from put_migrate.analyze.options import (
    REDUCE_FX_REJECTED,
    REDUCTIONS,
    cheap,
    epoch_only_rejection,
    flags,
    known_flags,
    reduction,
    runtime_flags,
    runtime_reduction,
    step_and_epoch,
)
from put_migrate.analyze.scope import assigns_name, positional_params
from put_migrate.analyze.subclass_callers import subclass_callers
from put_migrate.analyze.unreached import returns_before
from put_migrate.hooks import FORBIDDEN_HOOKS, HOOKS, PREDICT_LOG_ERROR, PREDICT_STEP
from put_migrate.rules import (
    LOGGING_FORBIDDEN,
    NAME_NOT_LITERAL,
    NESTED_CALL,
    NOT_A_HOOK,
    NOT_A_STATEMENT,
    STEP_EPOCH_AT_RUN_TIME,
    Problem,
)
from put_migrate.walk import find_all

_MAX_VARIANTS = 32


def _rejected_under_guard(context: Context, facts: ClassFacts) -> bool:
    """The call runs under ``predict_step`` in a class whose ``log`` forwards to Lightning's under a condition: where
    that condition holds, Lightning raises (``PREDICT_LOG_ERROR``); the migrated code does the same under it."""
    return facts.log_guard is not None and context.hook == PREDICT_STEP.name


def read_variants(found: Found, function: cst.FunctionDef, facts: ClassFacts) -> list[LogCall]:
    """One ``LogCall`` per way the statement runs (caller hook x literal loop values), or one with a problem."""
    cls = facts.cls
    hook = function.name.value
    contexts: list[Context] = []
    if hook in HOOKS or hook in FORBIDDEN_HOOKS or (cls.kind != "module" and not facts.callers.get(hook)):
        contexts.append(hook_context(function, cls))
        if facts.callers.get(hook):
            # A hook another method calls (``test_step`` returning ``self.validation_step(...)``) also runs under
            # that caller's hook, whose stage and defaults Lightning then uses: one more way it runs per call.
            reentered, problem = helper_contexts(function, facts, statement=found.call)
            if problem is not None:
                call = read_call(found, function, contexts[0], facts)
                return [with_problem(call, NOT_A_HOOK.problem(f"`{hook}` is also called by another method: {problem}"))]
            contexts += reentered
    else:
        contexts, problem = helper_contexts(function, facts, statement=found.call)
        if problem is not None:
            call = read_call(found, function, Context(hook, function), facts)
            # A caller chain from a Lightning 1.x hook: that is why, whatever else the call holds.
            if call.problem is None or call.problem[0] == NOT_A_HOOK.code or problem in _REMOVED_PROBLEMS:
                call = replace(call, problem=NOT_A_HOOK.problem(problem))
            return [call]
    loops, other_loops = _literal_loops(found, name_argument(found))
    variants: list[Context] = []
    if facts.closure is not None and facts.closure.strings:  # as if the literals were written in the method
        contexts = [replace(c, env=tuple(sorted({**dict(facts.closure.strings), **dict(c.env)}.items())))
                    for c in contexts]
    for context in contexts:
        # A call Lightning rejects is one variant: its options do not matter.
        if _rejected_under_guard(context, facts):
            expanded = [context]
        else:
            expanded = [
                replace(context, assumed=assumed, assumed_reduction=reduced)
                for assumed in _option_variants(found, context, function)
                for reduced in _reduction_variants(found, context, function, facts, {v for v, _ in loops})
            ]
        for variable, values in loops:
            expanded = [
                replace(c, env=tuple(sorted({**dict(c.env), variable: value}.items())))
                for c in expanded
                for value in values
            ]
        for c in expanded:
            variants.append(replace(c, in_loop=c.in_loop or other_loops))
    if len(variants) > _MAX_VARIANTS and _distinct(variants) > _MAX_VARIANTS:
        call = read_call(found, function, contexts[0], facts)
        return [with_problem(call, NAME_NOT_LITERAL.problem(f"{len(variants)} combinations of names"))]
    return _one_weight_per_hook([read_call(found, function, c, facts) for c in variants])


def _one_weight_per_hook(calls: list[LogCall]) -> list[LogCall]:
    """Two callers under one hook that hand the helper different batches (a subclass's ``training_step`` passes a
    slice of its batch where the base's passes it whole): Lightning weights both by the batch in flight, which is
    what each of them then reads (one code for both, where the helper cannot tell them apart)."""
    sources: dict[str, set[str | None]] = {}
    for call in calls:
        if call.problem is None and (call.batch_param is not None or call.weight_in_flight):
            sources.setdefault(call.hook, set()).add(call.batch_param)
    mixed = {hook for hook, found in sources.items() if len(found) > 1}
    return [
        replace(call, batch_param=None, weight_in_flight=True)
        if call.problem is None and call.hook in mixed and call.batch_param is not None
        else call
        for call in calls
    ]


def helper_contexts(
    function: cst.FunctionDef, facts: ClassFacts, depth: int = 0, statement: cst.CSTNode | None = None
) -> tuple[list[Context], str | None]:
    """Each way a helper runs: per call from a hook, and per way a calling helper runs (a chain of helpers, each
    call's literal arguments, batch and dataloader_idx passed on); or why one of its callers cannot be followed.
    A call from which the helper returns before ``statement`` is no way it runs (unless no call reaches it)."""
    name = function.name.value
    reached = facts.callers.get(name, [])
    if reached and name not in HOOKS and name not in FORBIDDEN_HOOKS and not any(c.alias for c in reached):
        # The class's hooks call it, and so may its subclasses' hooks (the same helper, inherited): each of those
        # calls is one more way it runs (its own stage, batch and literal arguments).
        more, why = subclass_callers(facts.cls, name)
        if why is not None:
            return [], f"`{name}` is also called by subclasses of {facts.cls.name}, but {why}"
        reached = [*reached, *more]
    if statement is not None:
        reached = [
            c for c in reached if c.call is None or not returns_before(function, statement, c.call)
        ] or reached
    if not reached and name in REMOVED_EPOCH_END:
        return [], removed_hook_problem(name)
    if not reached and name not in HOOKS and name not in FORBIDDEN_HOOKS:
        hooks = callback_hooks(facts.cls, name)
        if isinstance(hooks, tuple):  # the run's Callbacks call it on their module: it runs under their hooks
            reached = [HelperCall(hook, function, None, entry=True) for hook in hooks]
        elif not hooks:  # no Callback calls it: the hooks of the class's subclasses may
            reached, why = subclass_callers(facts.cls, name)
            if why is not None:
                return [], f"`{name}` is called by subclasses of {facts.cls.name}, but {why}"
    if not reached:
        return [], f"`{name}` is not called from any hook of {facts.cls.name}{unknown_callers(facts.cls, name)}"
    aliases = [c for c in reached if c.alias]
    if aliases:  # the method is the hook itself: it runs as nothing else
        if len(aliases) != len(reached) or len({c.hook for c in aliases}) != 1:
            return [], f"`{name}` is assigned to `self.{aliases[0].hook}` and used otherwise too"
        return [hook_context(function, facts.cls, aliases[0].hook)], None
    contexts: list[Context] = []
    for caller in reached:
        if caller.entry:
            spec = HOOKS.get(caller.hook)
            step = {"validation": "validation_step", "test": "test_step"}.get(spec.stage) if spec else None
            contexts.append(entry_context(function, caller.hook, _own_method(facts, step)))
            continue
        outer: list[Context | None] = [None]
        if _calling_helper(caller, facts) and depth < _MAX_CHAIN:
            outer, why = helper_contexts(caller.hook_function, facts, depth + 1)
            if why is not None:
                return [], why
        for around in outer:
            context, why = helper_context(function, caller, facts.cls, around, facts.imports)
            if context is None and facts.log_guard is not None and caller.hook == PREDICT_STEP.name:
                # A call that raises there needs no arguments bound: the hook alone decides.
                context = Context(caller.hook, caller.hook_function, via=name, in_loop=caller.in_loop)
            if context is None:
                if caller.subclass is not None and f"`{caller.subclass}." not in (why or ""):
                    why = f"{why} (the call in `{caller.subclass}.{caller.hook}`, a subclass of {facts.cls.name})"
                return [], why
            if caller.subclass is not None:
                context = replace(context, caller_class=caller.subclass)
            contexts.append(context)
    return contexts, None


def _distinct(contexts: list[Context]) -> int:
    """How many of the contexts read the statement differently (a subclass's hook calling the helper as the base's
    does gives the same variant again, which adds no code): what ``_MAX_VARIANTS`` bounds."""
    keys = set()
    for context in contexts:
        kwargs = None if context.kwargs is None else (
            context.kwargs[0], tuple((key, code_of(value)) for key, value in context.kwargs[1])
        )
        keys.add((context, kwargs, "dataloader_iter" in positional_params(context.hook_function)))
    return len(keys)


def _own_method(facts: ClassFacts, name: str | None) -> cst.FunctionDef | None:
    """The method ``name`` that the class itself defines, else None."""
    for statement in facts.cls.node.body.body:
        if name is not None and isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


_REMOVED_PROBLEMS = frozenset(removed_hook_problem(hook) for hook in REMOVED_EPOCH_END)
_MAX_CHAIN = 4  # helpers between a hook and the logging helper (recursion stops there)


def _calling_helper(caller, facts: ClassFacts) -> bool:
    """The caller is a plain method of this class that a call names directly (not a hook): follow its callers."""
    return (
        caller.call is not None
        and caller.subclass is None  # a subclass's method is not this class's, whatever its name
        and caller.hook not in HOOKS
        and caller.hook not in FORBIDDEN_HOOKS
        and caller.hook_function.name.value == caller.hook
        and caller.hook in facts.callers
    )


def _option_variants(
    found: Found, context: Context, function: cst.FunctionDef
) -> list[tuple[tuple[str, str, bool], ...]]:
    """One assumption per combination of the values of the flags given as expressions (just ``()`` if none).
    Several expressions are tested together, so each must be cheap and free of effects to evaluate again."""
    args = bind_found(found, {**local_expansions(found.call, found.statement, function), **_expansions(context)})
    if isinstance(args, Problem):
        return [()]
    known = known_flags(args, context.truths)
    chosen = [(option, node) for option, node in runtime_flags(args) if option not in known]
    if not chosen or (len(chosen) > 1 and not all(cheap(node) for _, node in chosen)):
        return [()]
    return [
        tuple((option, code_of(node), value) for (option, node), value in zip(chosen, values))
        for values in itertools.product((True, False), repeat=len(chosen))
    ]


def _reduction_variants(
    found: Found, context: Context, function: cst.FunctionDef, facts: ClassFacts, looped: set[str]
) -> list[tuple[str, str] | None]:
    """One assumption per reduction Lightning accepts, and one for any other value (it raises), where reduce_fx is
    held in a variable or attribute (not one of the ``looped`` variables, bound to literals per variant); just
    ``None`` otherwise."""
    args = bind_found(found, {**local_expansions(found.call, found.statement, function), **_expansions(context)})
    if isinstance(args, Problem):
        return [None]
    node = runtime_reduction(args, {**dict(context.env), **dict.fromkeys(looped, "")}, facts.imports)
    if node is None or (isinstance(node, cst.Name) and _rebound(function, node.value)):
        return [None]
    return [(code_of(node), reduce) for reduce in (*REDUCTIONS, "")]


def _rebound(function: cst.FunctionDef, name: str) -> bool:
    """``name`` is assigned in ``function`` or is a ``for`` target there: it may change between two calls of one
    name in a call of the hook, where Lightning compares the options (a fixed parameter, closure or global is one
    value per call)."""
    loops = find_all(function, lambda node: isinstance(node, (cst.For, cst.CompFor)))
    return assigns_name(function, name) or any(
        isinstance(loop, (cst.For, cst.CompFor)) and name in names_in_expression(loop.target) for loop in loops
    )


def _expansions(context: Context) -> dict[str, tuple[tuple[str, cst.BaseExpression], ...]]:
    """The helper's ``**kwargs`` as the calling hook fills it."""
    return {} if context.kwargs is None else {context.kwargs[0]: context.kwargs[1]}


def _literal_loops(
    found: Found, name_node: cst.BaseExpression | None
) -> tuple[list[tuple[str, tuple[str, ...]]], bool]:
    """Enclosing ``for v in ("a", "b"):`` loops whose variable the name uses: (variable, values) each; and whether
    the call is in some other loop."""
    if name_node is None:
        return [], found.in_loop
    used = names_in_expression(name_node)
    literal: list[tuple[str, tuple[str, ...]]] = []
    other = False
    for loop in found.loops:
        values = _literal_loop(loop, used)
        if values is None:
            other = True
        else:
            literal.append(values)
    return literal, other


def _literal_loop(loop: cst.CSTNode, used: set[str]) -> tuple[str, tuple[str, ...]] | None:
    """(variable, values) of ``for v in ("a", "b"):`` when the name uses ``v``; None for any other loop."""
    if not (
        isinstance(loop, cst.For)
        and loop.asynchronous is None
        and isinstance(loop.target, cst.Name)
        and loop.target.value in used
        and isinstance(loop.iter, (cst.Tuple, cst.List))
        and loop.orelse is None
    ):
        return None
    texts = [None if isinstance(el, cst.StarredElement) else literal_str(el.value) for el in loop.iter.elements]
    if texts and all(t is not None for t in texts) and not assigns_name(loop.body, loop.target.value):
        return loop.target.value, tuple(t for t in texts if t is not None)
    return None


def read_call(found: Found, function: cst.FunctionDef, context: Context, facts: ClassFacts) -> LogCall:
    """What Lightning resolves the call to when it runs under ``context``; or the call with its first problem."""
    spec = HOOKS.get(context.hook)
    start = facts.positions[found.call].start
    base = LogCall(
        call=found.call,
        statement=found.statement,
        function=function,
        method=found.method,
        receiver=found.receiver,
        hook=context.hook,
        spec=spec,
        line=start.line,
        column=start.column,
        trainer=_trainer(found, context, facts),
        in_loop=context.in_loop,
        via=context.via,
        caller_class=context.caller_class,
    )
    read = _resolve(base, found, function, context, facts)
    return with_problem(base, read) if isinstance(read, Problem) else read


def _trainer(found: Found, context: Context, facts: ClassFacts) -> str:
    """How the statement reaches the Trainer: a Callback's helper through the module the hook gave it (the same
    Trainer as the hook's ``trainer`` parameter, which the helper does not have)."""
    if facts.cls.kind == "callback" and context.via is not None and found.receiver == context.module_name:
        return f"{found.receiver}.trainer"
    return trainer_expression(context.hook_function, facts.cls)


def _resolve(
    base: LogCall, found: Found, function: cst.FunctionDef, context: Context, facts: ClassFacts
) -> LogCall | Problem:
    """``base`` with what the call's arguments resolve to, or the first problem found (checked in a fixed order)."""
    hook, spec = context.hook, base.spec
    if facts.cls.kind == "callback" and context.via is not None and found.receiver != context.module_name:
        return NOT_A_HOOK.problem(
            f"`{found.receiver}` in `{function.name.value}` is not the `pl_module` `{hook}` passes to it: pass the "
            "hook's pl_module to the helper and log through that parameter"
        )
    if found.nested:
        why = closure_problem(found, function, context)
        if why is not None:
            return NESTED_CALL.problem(why)
    if found.statement is None:
        return NOT_A_STATEMENT.problem("its value is used or it shares its line")
    expansions = {**local_expansions(found.call, found.statement, function), **_expansions(context)}
    args = bind_found(found, expansions)
    if isinstance(args, Problem):
        return args
    closure_mapping = facts.closure.mapping(args.get("dictionary")) if facts.closure is not None else None
    if closure_mapping is not None:  # a dict literal the class closes over: its items, as if written here
        args = {**args, "dictionary": closure_mapping}
    if _rejected_under_guard(context, facts):
        return replace(base, spec=PREDICT_STEP, raises=PREDICT_LOG_ERROR, bindings=context.env)
    if hook in FORBIDDEN_HOOKS:
        return LOGGING_FORBIDDEN.problem(f"`{hook}`" if context.via is None else f"`{hook}` (through `{context.via}`)")
    if spec is None:
        return NOT_A_HOOK.problem(f"`{hook}`")
    given = {option: value for option, _, value in context.assumed}
    options = flags(args, {**known_flags(args, context.truths), **given})
    if isinstance(options, Problem):
        return options
    assumed = {option for option, _, _ in context.assumed}
    if spec.epoch_only and assumed & {"on_step", "on_epoch"}:
        rejected = epoch_only_rejection(options, hook)
        if rejected is not None:  # Lightning raises for these values, naming the one it rejects
            message, option = rejected
            value = next(c for o, c, _ in context.assumed if o == option)
            if "'" in value or '"' in value:  # written into the f-string of the message
                return STEP_EPOCH_AT_RUN_TIME.problem(f"{option}={value}")
            reduce_expression, reduce = context.assumed_reduction or (None, "mean")
            return replace(base, raises=message, raises_value=value,
                           reduce=reduce, reduce_expression=reduce_expression, conditions=context.assumed,
                           bindings=context.env)
    step_epoch = step_and_epoch(options, spec, hook)
    if isinstance(step_epoch, Problem) and assumed & {"on_step", "on_epoch"}:
        # This combination of the expressions' values makes Lightning raise: so does this variant.
        reduce_expression, reduce = context.assumed_reduction or (None, "mean")
        return replace(base, raises="`self.log(on_step=False, on_epoch=False)` is not useful.", reduce=reduce,
                       reduce_expression=reduce_expression, conditions=context.assumed, bindings=context.env)
    if isinstance(step_epoch, Problem):
        return step_epoch
    on_step, on_epoch = step_epoch
    env = dict(context.env)
    reduce = reduction(args, env, facts.imports)
    reduce_expression = None
    if context.assumed_reduction is not None:
        reduce_expression, reduce = context.assumed_reduction
        if not reduce:  # any other value: Lightning raises, naming it
            return replace(base, raises=REDUCE_FX_REJECTED, raises_value=reduce_expression, reduce=reduce,
                           reduce_expression=reduce_expression,
                           conditions=context.assumed, bindings=context.env)
    if isinstance(reduce, Problem):
        return reduce
    items = log_items(found, args, env, facts, function, runtime_names=spec.kind == "epoch")
    if isinstance(items, Problem):
        return items
    if facts.closure is not None:
        items = [replace(i, known_keys=facts.closure.keys(i.value)) if i.dynamic else i for i in items]
    problem = runtime_name_problem(items, spec)
    if problem is not None:
        return problem
    batch_size = optional_argument(args, "batch_size")
    batch_size_optional = batch_size is not None and "batch_size" in optional_keywords(expansions)
    weight_from = batch_param(
        found,
        function,
        context,
        spec,
        needs_weight(on_epoch, reduce, None if batch_size_optional else batch_size, items),
        facts.cls,
    )
    if isinstance(weight_from, Problem):
        return weight_from
    add_dataloader_idx = options.get("add_dataloader_idx", True)
    problem = dataloader_idx_problem(context, add_dataloader_idx)
    if problem is not None:
        return problem
    return replace(
        base,
        items=tuple(items),
        on_step=on_step,
        on_epoch=on_epoch,
        prog_bar=bool(options.get("prog_bar", False)),
        logger=bool(options.get("logger", True)),
        reduce=reduce,
        sync_dist=bool(options.get("sync_dist", False)),
        sync_group=optional_argument(args, "sync_dist_group"),
        rank_zero_only=bool(options.get("rank_zero_only", False)),
        add_dataloader_idx=bool(add_dataloader_idx),
        names_shared_by_dataloaders=not add_dataloader_idx and may_share_names(found, function, context),
        batch_size=batch_size,
        batch_size_optional=batch_size_optional,
        metric_values=any(item.dynamic for item in items) and facts.tests_metric_objects,
        batch_param=None if weight_from is IN_FLIGHT else weight_from,
        weight_in_flight=weight_from is IN_FLIGHT,
        dataloader_idx_param=dataloader_idx_expression(context, base.trainer),
        bindings=context.env,
        conditions=context.assumed,
        reduce_expression=reduce_expression,
    )
