"""A base class's helper that its subclasses' hooks call: the calls that reach it, from the run's files.

``ASRModel.add_auxiliary_losses`` logs, and no method of ``ASRModel`` calls it: the ``training_step`` of each
subclass does (in other files). Lightning takes the defaults from the hook that runs, so the helper runs once per
such hook, exactly as a helper its own class's hooks call. The callers are found in the run's files whose text calls
``self.<helper>(``: the methods of the project classes deriving from the base that call ``self.<helper>(...)``, read
from the index (``IndexedClass.self_uses`` and ``method_sources``). A subclass whose own class, or a class between
it and the base, defines the helper again calls that definition instead: such callers are skipped, unless the
override hands on to the base (``super().<helper>``), whose arguments are then not followed (the call is left),
unless it passes on its own parameters unchanged and has the base's defaults (then it is as if not overridden).

The base's own hooks may call the helper too (sgm's ``AbstractAutoencoder._validation_step``, called with postfix
"" and "_ema" by its validation_step and with "_noisy" by a user's subclass): the subclasses' calls are then ways it
runs as well, each with its own stage, batch and literal arguments (``read.helper_contexts`` takes the union); a
subclass's call the rewrite cannot tell apart from the others leaves the helper's call, naming that call.

As for a helper of one class, the run's files are the world: a class outside them (a library's users' subclasses)
may call the helper from another hook or with other arguments, and such calls are not seen.
"""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.context import REMOVED_EPOCH_END, HelperCall, SelfUses, UseKind, removed_hook_problem
from put_migrate.analyze.hierarchy import _parsed, method_resolution
from put_migrate.analyze.literals import code_of
from put_migrate.analyze.scope import assigns_name
from put_migrate.hooks import FORBIDDEN_HOOKS, HOOKS
from put_migrate.lightning_classes import Inherited, LightningClass
from put_migrate.walk import find_all, visit


def subclass_callers(cls: LightningClass, method: str) -> tuple[list[HelperCall], str | None]:
    """The ``self.<method>(...)`` calls of the hooks of ``cls``'s subclasses in the run that reach ``cls``'s
    ``method`` (each with the problem that stops it being followed, if any); or why they cannot all be known."""
    index = cls.project
    if cls.kind != "module" or index is None or not cls.key or method in HOOKS or method in FORBIDDEN_HOOKS:
        return [], None
    found: list[HelperCall] = []
    for module in index.self_calling_modules(method):
        for name in sorted(index.module_classes.get(module, ())):
            sub = index.classes.get(f"{module}.{name}")
            if sub is None or sub.key == cls.key:
                continue
            if method not in sub.methods and not any(attr == method for _, attr in sub.self_uses):
                continue  # neither calls nor overrides it (its file's other classes do: the base, a sibling)
            ancestors = index.ancestors(sub)
            if not any(a.key == cls.key for a in ancestors):
                continue
            reaches, why = _reaches_base(sub, ancestors, cls, method)
            if why is not None:
                return [], why
            if reaches:
                calls, why = _calls_in(sub, ancestors, method)
                if why is not None:
                    return [], why
                found += calls
    return found, None


def _reaches_base(sub, ancestors: list, cls: LightningClass, method: str) -> tuple[bool, str | None]:
    """Whether ``self.<method>`` on an instance of ``sub`` is the base's (``cls``'s); or why it is not known."""
    base = cls.key
    shown = sub.key.rsplit(".", 1)[1]
    order = method_resolution(_Resolved(Inherited.of(ancestors, "", sub.bases)))  # type: ignore[arg-type]
    if order is None:
        return False, f"the method resolution order of {shown} cannot be followed"
    for klass in [sub, *order]:
        if klass.key == base:
            return True, None
        if method in klass.methods:
            if method in klass.reached_otherwise:  # an override that may hand on to the base's
                if _forwards(klass, method, _own(cls, method)):
                    continue  # ``super().<method>`` with the override's own arguments: as if not overridden
                where = klass.key.rsplit(".", 1)[1]
                return False, f"`{where}.{method}` overrides it and may call it with other arguments"
            return False, None
    return False, None


def _own(cls: LightningClass, method: str) -> cst.FunctionDef | None:
    """The base's own definition of ``method``."""
    for statement in cls.node.body.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == method:
            return statement
    return None


def _forwards(klass, method: str, base: cst.FunctionDef | None) -> bool:
    """``klass``'s ``method`` reaches the base's only as ``super().<method>(...)`` with its own parameters, passed
    on unchanged (by position in order, or by keyword), and has the base's parameters and defaults: the base's then
    runs with the arguments the override was called with, under the hook that called it."""
    source = dict(klass.method_sources).get(method)
    function = _parsed(source) if source is not None else None
    if function is None or base is None:
        return False
    params = function.params
    if params.posonly_params or params.kwonly_params or isinstance(params.star_arg, cst.Param) or params.star_kwarg:
        return False
    if _signature(function) != _signature(base):
        return False  # a default of its own would reach the base's as an argument its callers never wrote
    names = [p.name.value for p in params.params[1:]]
    if any(assigns_name(function, name) for name in names):
        return False
    uses = find_all(function, lambda n: isinstance(n, cst.Attribute) and n.attr.value == method)
    calls = find_all(function, lambda n: isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                     and n.func.attr.value == method and _is_super(n.func.value))
    if not calls or len(calls) != len(uses):
        return False
    for call in calls:
        assert isinstance(call, cst.Call)
        for index, arg in enumerate(call.args):
            if arg.star or not isinstance(arg.value, cst.Name):
                return False
            expected = arg.keyword.value if arg.keyword is not None else (names[index] if index < len(names) else None)
            if arg.value.value != expected or expected not in names:
                return False
    return True


def _signature(function: cst.FunctionDef) -> tuple:
    """The parameters (names, defaults as code; ``*args``/``**kwargs`` and keyword-only ones included)."""
    params = function.params

    def each(group) -> tuple:
        return tuple((p.name.value, None if p.default is None else code_of(p.default)) for p in group)

    star = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else None
    kwargs = params.star_kwarg.name.value if params.star_kwarg is not None else None
    return each(params.posonly_params), each(params.params), star, each(params.kwonly_params), kwargs


def _is_super(node: cst.BaseExpression) -> bool:
    """``super()``."""
    return (
        isinstance(node, cst.Call) and not node.args and isinstance(node.func, cst.Name) and node.func.value == "super"
    )


class _Resolved:
    """What ``method_resolution`` reads of a class: the indexed classes above it."""

    kind = "module"

    def __init__(self, inherited: Inherited) -> None:
        self.inherited = inherited


def _calls_in(sub, ancestors: list, method: str) -> tuple[list[HelperCall], str | None]:
    """Each use of ``self.<method>`` in ``sub``'s methods, as a call from a hook (or a use with its problem); or
    why they cannot all be known (a caller's source cannot be read)."""
    shown = sub.key.rsplit(".", 1)[1]
    sources = dict(sub.method_sources)
    callers = sorted({m for m, attr in sub.self_uses if attr == method})
    found: list[HelperCall] = []
    for hook in callers:
        function = _parsed(sources[hook]) if hook in sources else None
        if function is None:
            return [], f"`{shown}.{hook}` calls `{method}`, and its source could not be read"
        problem = _caller_problem(sub, ancestors, hook, method)
        uses = _uses(function, method)
        for call, in_loop, why in uses:
            found.append(HelperCall(hook, function, call, in_loop, problem or why, subclass=shown))
    return found, None


def _caller_problem(sub, ancestors: list, hook: str, method: str) -> str | None:
    """Why a call of the helper in ``sub``'s method ``hook`` does not run under that hook alone."""
    shown = f"{sub.key.rsplit('.', 1)[1]}.{hook}"
    if hook in REMOVED_EPOCH_END:
        return removed_hook_problem(hook)
    if hook not in HOOKS or hook in FORBIDDEN_HOOKS:
        return (
            f"`{shown}` calls `{method}` and is not a Lightning hook that may log: call `{method}` from the hooks "
            f"that call `{hook}`"
        )
    for klass in [sub, *ancestors]:
        others = sorted({m for m, attr in klass.self_uses if attr == hook and m != hook})
        if others:
            return f"`{shown}` calls `{method}` and is called by other methods too, which run it under other hooks"
    return None


def _uses(function: cst.FunctionDef, method: str) -> list[tuple[cst.Call | None, bool, str | None]]:
    """(call, in a loop, problem) for each ``self.<method>`` in ``function``: a direct call in its own body, or
    another use (a nested function, passed on), which is not followed."""
    found: list[tuple[cst.Call | None, bool, str | None]] = []
    hook = function.name.value

    def record(name: str, kind: UseKind, node: cst.CSTNode, in_loop: bool) -> None:
        if kind == "call" and isinstance(node, cst.Call):
            found.append((node, in_loop, None))
        elif kind == "nested call":
            found.append((None, False, f"`self.{method}(...)` is called in a function nested in `{hook}`"))
        else:
            found.append((None, False, f"`self.{method}` is used in `{hook}` other than as a direct call"))

    visit(function.body, SelfUses({method}, record))
    return found
