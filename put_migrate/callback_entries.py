"""Module methods that the run's Callbacks call on their ``pl_module``: the Callback hooks they run under.

A LightningModule method that is no hook (stable-diffusion's ``log_images``, which its ``ImageLogger`` calls from
``on_train_batch_end`` and ``on_validation_batch_end``) runs under whatever hook calls it: Lightning takes the
defaults, the stage and the result key from the hook running (``_current_fx_name``), the Callback's. Where every
call of the method in the run's files is made by a Callback, on the module one of its hooks was given (in the hook,
or in a helper of the Callback that only its hooks call, passing that module on), those hooks are all the ways the
method runs. Anything else (a call outside a Callback, on another object, a helper used otherwise) leaves it
unknown. Read with ``ast``, and only the files whose text names ``.<method>(``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from put_migrate.hooks import HOOKS


class _Parents(ast.NodeVisitor):
    """Each call of ``.<method>(...)`` in a file, with the class and function it is written in."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.stack: list[ast.AST] = []
        self.found: list[tuple[ast.Call, list[ast.AST]]] = []

    def generic_visit(self, node: ast.AST) -> None:
        self.stack.append(node)
        super().generic_visit(node)
        self.stack.pop()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == self.method:
            self.found.append((node, list(self.stack)))
        self.generic_visit(node)


_NOT_FOLLOWED = "`{}` is not a Callback batch hook (calls from epoch-level hooks are not followed)"


def _batch_hook(name: str) -> bool:
    """A Callback hook that runs once per batch: one of Lightning's ``on_*`` hooks that log step values (the epoch
    hooks of a Callback and of the module share Lightning's key, and one mean, per call: not followed here)."""
    spec = HOOKS.get(name)
    return spec is not None and name.startswith("on_") and spec.kind != "epoch"


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in [*function.args.posonlyargs, *function.args.args]]


def _assigns(function: ast.AST, name: str) -> bool:
    """``name`` is bound again somewhere in ``function`` (assignment, loop target, ``with ... as``, ``del``...)."""
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
    return False


def _module_parameter(hook: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The parameter of a Callback hook that Lightning gives the module (``self, trainer, pl_module, ...``)."""
    params = _positional(hook)
    return params[2] if len(params) > 2 and not _assigns(hook, params[2]) else None


def _helper_hooks(cls: ast.ClassDef, helper: ast.FunctionDef | ast.AsyncFunctionDef, receiver: str
                  ) -> tuple[set[str], str | None]:
    """The hooks of ``cls`` that call ``self.<helper>(...)`` handing their module to its parameter ``receiver``;
    or why another use of the helper leaves it unknown."""
    params = _positional(helper)
    if receiver not in params or _assigns(helper, receiver):
        return set(), f"`{helper.name}` does not get the module from a hook"
    position = params.index(receiver) - 1  # after ``self``
    hooks: set[str] = set()
    for function in cls.body:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls = {id(n.func) for n in ast.walk(function) if isinstance(n, ast.Call)}
        for node in ast.walk(function):
            if not (isinstance(node, ast.Attribute) and node.attr == helper.name
                    and isinstance(node.value, ast.Name) and node.value.id == "self"):
                continue
            if id(node) not in calls or function.name not in HOOKS:
                return set(), f"`self.{helper.name}` is used in `{function.name}`, which is no Callback hook"
            if not _batch_hook(function.name):
                return set(), _NOT_FOLLOWED.format(function.name)
            call = next(n for n in ast.walk(function) if isinstance(n, ast.Call) and n.func is node)
            module = _module_parameter(function)
            given = [a for a in call.args if not isinstance(a, ast.Starred)]
            passed = next((k.value for k in call.keywords if k.arg == receiver), None)
            if passed is None and len(given) == len(call.args) and position < len(given):
                passed = given[position]
            nested = any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and n is not function
                         and any(m is call for m in ast.walk(n)) for n in ast.walk(function))
            if module is None or nested or not (isinstance(passed, ast.Name) and passed.id == module):
                return set(), f"`{function.name}` does not pass its module to `{helper.name}`"
            hooks.add(function.name)
    if not hooks:
        return set(), f"`{helper.name}` is not called from a hook of {cls.name}"
    return hooks, None


def _calls(method: str) -> re.Pattern[str]:
    return re.compile(rf"\.\s*{method}\s*\(")


def _super_calls(method: str) -> re.Pattern[str]:
    """Calls on ``super()``: an override handing on to its base, where it is one (checked when parsed)."""
    return re.compile(rf"\bsuper\(\s*\)\s*\.\s*{method}\s*\(")


def callback_hooks(
    files: Iterable[tuple[str, str, str]], method: str, is_callback: Callable[[str, str], bool]
) -> tuple[str, ...] | str:
    """The Callback hooks under which module method ``method`` runs (sorted), or why they cannot all be known (""
    where the run's files never call it).

    ``files``: (path, module key, text) of the run's files; ``is_callback(module_key, class_name)``: whether that class
    is a Lightning Callback."""
    calls, handing_on = _calls(method), _super_calls(method)
    texts = [(path, key, text) for path, key, text in files if calls.search(text)]
    if any("Callback" not in text and len(calls.findall(text)) > len(handing_on.findall(text))
           for _, _, text in texts):
        return ""  # a file without a Callback calls it (nothing is parsed: most methods end here)
    hooks: set[str] = set()
    unknown: str | None = None  # the first call that leaves the hooks unknown
    by_callback = False  # some Callback calls it
    for path, key, text in texts:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            unknown = unknown or f"{path} calls `.{method}(...)` but cannot be parsed"
            continue
        finder = _Parents(method)
        finder.visit(tree)
        for call, stack in finder.found:
            found, why, callback = _call_hooks(call, stack, method, f"{path}:{call.lineno}", key, is_callback)
            hooks |= found
            unknown = unknown or why
            by_callback = by_callback or callback
    if unknown is not None:
        # Said only where a Callback calls it too: a method that other classes of the project call is no news.
        return unknown if by_callback else ""
    return tuple(sorted(hooks)) if hooks else ""


def _call_hooks(call: ast.Call, stack: list[ast.AST], method: str, where: str, key: str,
                is_callback: Callable[[str, str], bool]) -> tuple[set[str], str | None, bool]:
    """The Callback hooks one call of ``.<method>(...)`` runs it under, or why they are unknown (None: the call
    adds none, an override handing on to its base); and whether a Callback makes the call."""
    assert isinstance(call.func, ast.Attribute)
    receiver = call.func.value
    shown = f"`{ast.unparse(call.func)}(...)` at {where}"
    functions = [n for n in stack if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    if (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "super" and functions and getattr(functions[-1], "name", None) == method):
        return set(), None, False  # an override handing on to its base: it runs where the override is called
    classes = [n for n in stack if isinstance(n, ast.ClassDef)]
    if not classes or not functions or not isinstance(receiver, ast.Name):
        return set(), f"{shown} is not a Callback's call on its module", False
    cls, function = classes[-1], functions[-1]
    if not is_callback(key, cls.name):
        return set(), f"{shown} is in {cls.name}, which is no Callback", False
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function not in cls.body:
        return set(), f"{shown} is in a nested function", True
    if function.name in HOOKS:
        if not _batch_hook(function.name):
            return set(), f"{shown}: {_NOT_FOLLOWED.format(function.name)}", True
        if receiver.id != _module_parameter(function):
            return set(), f"{shown} is not called on the hook's module", True
        return {function.name}, None, True
    found, why = _helper_hooks(cls, function, receiver.id)
    return (set(), f"{shown}: {why}", True) if why is not None else (found, None, True)
