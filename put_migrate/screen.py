"""The syntax screen: can this text hold a log call that put-migrate rewrites or reports? Decided with Python's own
parser (``ast``, written in C: about a tenth of a libcst parse) before libcst parses the file.

The transform only ever looks at ``<receiver>.log(...)``/``<receiver>.log_dict(...)`` calls in the methods of a
class that has bases, where the receiver is ``self`` or (in a Callback) the method's third positional parameter or
a parameter named ``pl_module``.
A file with no such call is given back unchanged without a libcst parse. The screen errs on the side of parsing:
any class with bases counts (whether or not it leads to Lightning), and text ``ast`` cannot read goes to libcst,
which decides (and reports) as before.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from functools import lru_cache

from put_migrate.index import statements

_LOG_NAMES = ("log", "log_dict")
_LOG_CALL_TEXT = re.compile(r"\.\s*log(?:_dict)?\s*\(")


@lru_cache(maxsize=1)
def python_tree(text: str) -> ast.Module | None:
    """``ast.parse(text)``, None where Python cannot read it. Cached for the last text: the screen and, for a file
    that passes it, ``positions`` use the same tree."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not ours to report
            return ast.parse(text)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL bytes), RecursionError...
        return None


def may_need_transform(text: str) -> bool:
    """False only when no method of a class with bases calls ``self.log``/``self.log_dict`` (or, in a Callback
    hook, ``pl_module.log``): then the transform leaves the text as it is and reports nothing."""
    classes = logging_classes(text)
    return classes is None or bool(classes)  # None: ast cannot read it, libcst decides (and reports)


@lru_cache(maxsize=1)
def logging_classes(text: str) -> tuple[ast.ClassDef, ...] | None:
    """The classes with bases (at any depth) a method of which calls ``self.log``/``self.log_dict`` or, in a
    Callback hook, ``pl_module.log``; None where ``ast`` cannot read the text. Cached for the last text: both
    screens ask."""
    tree = python_tree(text)
    if tree is None:
        return None
    calls = _log_call_lines(text)
    return tuple(
        node for node in statements(tree)
        if isinstance(node, ast.ClassDef) and (node.bases or node.keywords) and _class_logs(node, calls)
    )


def _log_call_lines(text: str) -> list[int] | None:
    """The lines on which a ``.log(``/``.log_dict(`` starts, in order; None where ``ast`` would number the lines
    otherwise ("\r" ends a line for it)."""
    if "\r" in text:
        return None
    lines, line, position = [], 1, 0
    for match in _LOG_CALL_TEXT.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _spans_a_call(node: ast.stmt, calls: list[int] | None) -> bool:
    """Whether a ``.log(`` starts within the lines of ``node`` (True where the lines are not known)."""
    if calls is None or node.end_lineno is None:
        return True
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    at = bisect.bisect_left(calls, start)
    return at < len(calls) and calls[at] <= node.end_lineno


def _class_logs(node: ast.ClassDef, calls: list[int] | None) -> bool:
    if not _spans_a_call(node, calls):
        return False
    for method in node.body:
        if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or not _spans_a_call(method, calls):
            continue
        params = [arg.arg for arg in (*method.args.posonlyargs, *method.args.args)]
        receivers = {"self"} | ({params[2]} if len(params) >= 3 else set())
        if "pl_module" in params:  # a Callback helper given the module (reported by the transform)
            receivers.add("pl_module")
        for inner in ast.walk(method):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in _LOG_NAMES
                and isinstance(inner.func.value, ast.Name)
                and inner.func.value.id in receivers
            ):
                return True
    return False


def settled_by_index(text: str, path: str, index) -> bool:
    """True when the repository index shows that the transform would leave ``text`` as it is and report nothing:
    every class the syntax screen keeps is a top-level class that derives from no Lightning class
    (``lightning_classes.top_level_classes``) and has no base the index cannot resolve
    (``resolve.unresolved_base``). Errs towards False (libcst decides). Loads the file into ``index``. A library's
    own base classes that call ``self.log`` (``LightningModule.log_dict``) are settled here, without a libcst parse."""
    from put_migrate import resolve
    from put_migrate.index import module_name
    from put_migrate.lightning_names import BASES

    flagged = logging_classes(text)
    if flagged is None:
        return False
    tree = python_tree(text)
    assert tree is not None  # logging_classes read the same text
    top = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    if any(top.get(node.name) is not node or node.keywords for node in flagged):
        return False
    key = module_name(path)
    index.load(key, (text, tree))
    imports = resolve.import_map(tree.body, text)
    relative = resolve.relative_imports(tree, key, path.replace("\\", "/").rpartition("/")[2] == "__init__.py")
    local = {name: [resolve.dotted(base) for base in node.bases] for name, node in top.items()}
    for node in flagged:
        if any(resolve.qualify(imports, written) in BASES for written in local[node.name]):
            return False
        indexed = index.classes.get(f"{key}.{node.name}")
        if indexed is None or index.lightning_kind(indexed) is not None:
            return False
        if resolve.unresolved_base(local[node.name], imports, relative, index, local, {node.name}) is not None:
            return False
    return True
