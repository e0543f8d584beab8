"""The ``__init__`` signature of an indexed class, so that a subclass's new ``__init__`` can repeat it.

A subclass the codemod gives an ``__init__`` (to create its aggregators) must keep the signature its callers, its
readers and tools that inspect it (``inspect.signature``, LightningCLI) saw before: that of the nearest base's
``__init__``. The signature is kept as source text with the names its defaults and annotations need, qualified
through the base's module, so that the planner can tell whether the same text means the same thing in the
subclass's file.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from dataclasses import dataclass

from put_migrate.source_segments import SourceSegments


@dataclass(frozen=True)
class InitSignature:
    """``def __init__(self, <parameters>)`` and how its body passes them on: ``super().__init__(<forward>)``."""

    parameters: str
    forward: str
    # (name, what it refers to in the base's module: a qualified import, ``builtins.<name>``, or None when the base's
    # module defines it) for each name the defaults and annotations use.
    names: tuple[tuple[str, str | None], ...] = ()
    class_scoped: bool = False  # a default or annotation names an attribute of the class body

    def portable(self, same_module: bool, qualify: Callable[[str], str | None]) -> bool:
        """Whether the text means the same in a subclass's module (``qualify``: a name of that module -> what it
        refers to, as the base's names are given)."""
        if self.class_scoped:
            return False
        if same_module:
            return True
        for name, meaning in self.names:
            if meaning is None or qualify(name) != meaning:
                return False
        return True


def read_init(node: ast.ClassDef, segments: SourceSegments | None, imports: dict[str, str]) -> InitSignature | None:
    """The signature of the ``__init__`` the class body defines (None without one, or one without ``self``)."""
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return None
    args = init.args
    positional = [*args.posonlyargs, *args.args]
    if not positional:
        return None
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)

    def source(expression: ast.expr) -> str:
        segment = segments.segment(expression) if segments is not None else None
        return segment if segment is not None and "\n" not in segment else ast.unparse(expression)

    def parameter(arg: ast.arg, default: ast.expr | None, prefix: str = "") -> str:
        written = prefix + arg.arg
        if arg.annotation is not None:
            written += f": {source(arg.annotation)}"
            return written + (f" = {source(default)}" if default is not None else "")
        return written + (f"={source(default)}" if default is not None else "")

    parameters: list[str] = []
    forward: list[str] = []
    for index, (arg, default) in enumerate(zip(positional, defaults)):
        if index:
            parameters.append(parameter(arg, default))
            forward.append(arg.arg)
        if args.posonlyargs and index == len(args.posonlyargs) - 1:
            parameters.append("/")
    if args.vararg is not None:
        parameters.append(parameter(args.vararg, None, "*"))
        forward.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        parameters.append("*")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        parameters.append(parameter(arg, default))
        forward.append(f"{arg.arg}={arg.arg}")
    if args.kwarg is not None:
        parameters.append(parameter(args.kwarg, None, "**"))
        forward.append(f"**{args.kwarg.arg}")
    if parameters == ["/"]:
        parameters = []

    used = [
        n for a in [*positional[1:], args.vararg, *args.kwonlyargs, args.kwarg] if a is not None and a.annotation
        for n in ast.walk(a.annotation)
    ] + [n for d in [*args.defaults, *args.kw_defaults] if d is not None for n in ast.walk(d)]
    names = dict.fromkeys(n.id for n in used if isinstance(n, ast.Name))
    class_names = {
        target.id for statement in node.body
        for target in (statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)])
        if isinstance(target, ast.Name)
    } | {s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return InitSignature(
        ", ".join(parameters),
        ", ".join(forward),
        tuple((name, _meaning(name, imports)) for name in names),
        bool(class_names & names.keys()),
    )


def _meaning(name: str, imports: dict[str, str]) -> str | None:
    if name in imports:
        return imports[name]
    if hasattr(builtins, name):
        return f"builtins.{name}"
    return None
