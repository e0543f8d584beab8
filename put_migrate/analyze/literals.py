"""Reading literal expressions: ``None``, ``True``/``False``, strings, and names built from literal parts."""

from __future__ import annotations

import string

import libcst as cst

from put_migrate.walk import visit


def code_of(node: cst.CSTNode) -> str:
    """The source text of ``node``."""
    return cst.Module(body=[]).code_for_node(node)


def is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def literal_bool(node: cst.BaseExpression) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    return None


def literal_str(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.FormattedString) and all(isinstance(p, cst.FormattedStringText) for p in node.parts):
        return "".join(p.value for p in node.parts if isinstance(p, cst.FormattedStringText))
    return None


def literal_name(node: cst.BaseExpression | None, env: dict[str, str]) -> str | None:
    """A name whose every part is known: literal strings, and names bound to literal strings in ``env``
    (``f"{stage}_loss"``, ``stage + "_loss"``, ``"val_" + key``)."""
    if node is None:
        return None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = literal_name(node.left, env), literal_name(node.right, env)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.Name):
        return env.get(node.value)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = literal_name(node.left, env), literal_name(node.right, env)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.FormattedString):
        if "b" in node.prefix.lower():
            return None
        raw = "r" in node.prefix.lower()
        text = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                if "\\" in part.value and not raw:
                    return None  # escapes: not worth decoding here
                text.append(part.value.replace("{{", "{").replace("}}", "}"))
            elif (
                isinstance(part, cst.FormattedStringExpression)
                and part.format_spec is None
                and part.conversion in (None, "s")
                and part.equal is None
                and isinstance(part.expression, cst.Name)
                and part.expression.value in env
            ):
                text.append(env[part.expression.value])
            else:
                return None
        return "".join(text)
    return None


def format_parts(node: cst.BaseExpression, env: dict[str, str]) -> list[str | None] | None:
    """``template.format(...)`` of a template known here (a literal, or a name bound to one in ``env``): its
    literal texts, and ``None`` for each replacement field (any text); None for anything else."""
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
    ):
        return None
    template = literal_name(node.func.value, env)
    if template is None:
        return None
    parts: list[str | None] = []
    try:
        for text, field, _, _ in string.Formatter().parse(template):
            parts.append(text)
            if field is not None:
                parts.append(None)
    except ValueError:  # str.format raises for this template
        return None
    return parts


def names_in_expression(node: cst.CSTNode) -> set[str]:
    """The plain names ``node`` reads (``a.b`` reads ``a``, not ``b``)."""
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            visit(n.value, self)
            return False

    visit(node, Visitor())
    return names
