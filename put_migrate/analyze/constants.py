"""Arguments naming a module's string constant: ``KEYS.ACCURACY`` where ``KEYS`` is a string constant of this
module or of a project module it imports (``put_migrate/constants.py``), bound once here and not in the calling
function. A helper's parameter given one is then a literal for that caller (``log_with_mode(KEYS.ACCURACY, ...)``
logging ``f"{mode}_{key}"``)."""

from __future__ import annotations

import libcst as cst

from put_migrate.analyze.scope import assigns_name, positional_params
from put_migrate.lightning_classes import ImportMap, LightningClass, dotted_name
from put_migrate.walk import find_all


def constant_str(node: cst.BaseExpression, function: cst.FunctionDef, cls: LightningClass,
                 imports: ImportMap | None) -> str | None:
    """The string ``node`` (``NAME.FIELD``, ``module.NAME.FIELD``) holds when ``function`` evaluates it; None
    where it is not such a constant, or ``NAME`` may be bound to something else there."""
    index = cls.project
    if not isinstance(node, cst.Attribute) or index is None or not cls.module_key or cls.local:
        return None
    holder = dotted_name(node.value)
    own = index.module_constants.get(cls.module_key)
    if holder is None or own is None or own.ambiguous:
        return None
    head = holder.split(".")[0]
    if head in own.rebound or _bound_in(function, head):
        return None
    if holder == head and own.field(head, node.attr.value) is not None:
        return own.field(head, node.attr.value)
    qualified = imports.qualify(node.value) if imports is not None else None
    return index.constant(qualified, node.attr.value) if qualified is not None else None


def _bound_in(function: cst.FunctionDef, name: str) -> bool:
    """``name`` is a parameter of ``function`` or assigned in it (a local that hides the module's name)."""
    params = function.params
    names = {*positional_params(function), *(p.name.value for p in params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    if name in names or assigns_name(function, name):
        return True

    def binds(node: cst.CSTNode) -> bool:
        targets: list[cst.CSTNode] = []
        if isinstance(node, (cst.For, cst.CompFor, cst.AnnAssign, cst.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets = [node.asname.name]
        elif isinstance(node, cst.ImportAlias):
            return (node.evaluated_alias or node.evaluated_name).split(".")[0] == name
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            return any(item.name.value == name for item in node.names)
        return any(isinstance(n, cst.Name) and n.value == name for t in targets for n in find_all(t, _is_name))

    return bool(find_all(function.body, binds))


def _is_name(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Name)
