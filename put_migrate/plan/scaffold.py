"""Scaffolding around the rewritten statements: aggregators in ``__init__``, compute hooks, Metric resets."""

from __future__ import annotations

import builtins
from functools import partial

from put_migrate.analyze import ClassAnalysis
from put_migrate.analyze.hierarchy import method_resolution
from put_migrate.hooks import COMPUTE_HOOKS, METRIC_RESET_HOOKS
from put_migrate.lightning_classes import ImportMap
from put_migrate.lightning_names import BASES, DEMO_MEMBERS
from put_migrate.plan.model import MigrationPlan
from put_migrate.plan.state import BuildState
from put_migrate.plan.statements import text
from put_migrate.plan.syntax import super_init_index


def init_problem(state: BuildState) -> str | None:
    """Why aggregators cannot be created in ``__init__``, if they cannot."""
    init = state.analysis.methods.get("__init__")
    if init is None:
        return None
    if super_init_index(init) is None:
        return "aggregators are created after super().__init__()"
    return None


def add_hooks(state: BuildState, plan: MigrationPlan) -> None:
    """The compute hooks and the reset statements, as text, with where new hooks go and which call ``super()``."""
    if state.analysis.cls.inherited is not None:
        # PutMixin has no-op compute and results-reset hooks, so a new one of a derived class can always start
        # with super(): whatever an ancestor computes or resets (now, or once it is migrated, in this run or a
        # later one) still runs. (PM221, "migrate the base first and run again", is retired.)
        for stage in state.compute_order:
            hook = COMPUTE_HOOKS[stage]  # type: ignore[index]
            if hook not in state.analysis.methods:
                plan.super_calls.add(hook)
        for stage in state.resets:
            plan.super_calls.add(METRIC_RESET_HOOKS[stage])  # type: ignore[index]
    for stage in state.compute_order:
        hook = COMPUTE_HOOKS[stage]  # type: ignore[index]
        plan.hook_additions[hook] = [text(s, state.indent) for s in state.compute[stage]]
        plan.hook_anchors[hook] = state.anchors[stage]
    for stage, resets in state.resets.items():
        hook = METRIC_RESET_HOOKS[stage]  # type: ignore[index]
        plan.hook_additions.setdefault(hook, []).extend(text(r, state.indent) for r in resets)
        anchor = COMPUTE_HOOKS[stage] if stage in state.compute else state.anchors[stage]  # type: ignore[index]
        plan.hook_anchors[hook] = anchor


def _meaning(imports: ImportMap | None, name: str) -> str | None:
    """What a name of the class's module refers to: an import's qualified name, else a builtin."""
    imported = imports.names.get(name) if imports is not None else None
    return imported or (f"builtins.{name}" if hasattr(builtins, name) else None)


# Bases whose ``__init__`` takes no arguments: a subclass that reaches nothing else defines ``__init__(self)``.
_NO_ARGUMENT_BASES = frozenset({"abc.ABC", "builtins.object", "object", "typing.Generic"})


def new_init_signature(analysis: ClassAnalysis) -> tuple[str, str] | None:
    """``(parameters, arguments)`` of the ``__init__`` a class derived from a project class is given:
    ``def __init__(self, <parameters>): super().__init__(<arguments>)``, the signature of the ``__init__`` that
    ``super().__init__`` reaches (the nearest in the method resolution order), so that callers, ``inspect.signature``
    and LightningCLI see the class as before. None where that ``__init__`` cannot be read, or its defaults and
    annotations name something the class's module does not (then ``*args, **kwargs``)."""
    cls = analysis.cls
    if cls.inherited is None:
        return "", ""
    order = method_resolution(cls)
    if order is None or sum(b.keyword is None and b.star == "" for b in cls.node.bases) != len(cls.inherited.bases):
        return None  # a base the index could not name may define __init__
    known = {a.key for a in order}

    def understood(bases: tuple[str, ...]) -> bool:
        return all(
            (b in BASES and b not in DEMO_MEMBERS) or b.endswith(".BoringModel") or b in _NO_ARGUMENT_BASES
            or any(k == b or k.endswith(f".{b}") or k.rsplit(".", 1)[1] == b.rsplit(".", 1)[-1] for k in known)
            for b in bases
        )

    if not understood(cls.inherited.bases):
        return None
    for ancestor in order:
        if "__init__" in ancestor.methods:
            signature = ancestor.init
            if signature is None:
                return None
            same_module = ancestor.key.rsplit(".", 1)[1] in cls.inherited.same_file
            portable = signature.portable(same_module, partial(_meaning, analysis.imports))
            return (signature.parameters, signature.forward) if portable else None
        if not understood(ancestor.bases):
            return None
    return "", ""  # Lightning's own __init__ (BoringModel's too) takes no arguments
