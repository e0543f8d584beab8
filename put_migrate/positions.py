"""Where the log calls of a module are: ``(line, column)`` for findings, without libcst's ``PositionProvider``.

The provider generates the code of the whole module while tracking every node, after a full traversal: about
twice a parse. Findings only need the position of ``<name>.log(...)``/``<name>.log_dict(...)`` calls, so those are
taken from Python's own parser (``ast``, in C) and matched to libcst's call nodes in source order: the k-th such
call libcst visits is the k-th one ``ast`` finds by position. Where the two do not list the same calls (text
``ast`` cannot read, identifiers that differ only after NFKC normalisation), the provider is used as before.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from put_migrate.index import BLOCK_FIELDS, statements
from put_migrate.screen import python_tree
from put_migrate.walk import visit

_LOG_NAMES = ("log", "log_dict")
_LOG_TEXT = re.compile(r"\.\s*log(?:_dict)?\b")


class _LogCalls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _LOG_NAMES and isinstance(func.value, cst.Name):
            self.calls.append(node)


def log_call_positions(module: cst.Module, source: str) -> dict[cst.CSTNode, CodeRange]:
    """The range of every ``<name>.log(...)``/``<name>.log_dict(...)`` call of ``module`` (parsed from
    ``source``); lines 1-based, columns 0-based in characters, as ``PositionProvider`` gives them."""
    found = _LogCalls()
    visit(module, found)
    ranges = _ast_ranges(source) if "\r" not in source else None  # a lone "\r" ends a line for ast, not libcst
    if ranges is None or len(ranges) != len(found.calls):
        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
    return dict(zip(found.calls, ranges))


def _ast_ranges(source: str) -> list[CodeRange] | None:
    tree = python_tree(source)
    if tree is None:  # let libcst's provider answer
        return None
    lines = source.split("\n")
    calls = [
        node
        for node in _nodes_on(tree, _log_lines(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _LOG_NAMES
        and isinstance(node.func.value, ast.Name)
    ]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))
    return [
        CodeRange(
            CodePosition(node.lineno, _characters(lines, node.lineno, node.col_offset)),
            CodePosition(node.end_lineno or node.lineno, _characters(lines, node.end_lineno, node.end_col_offset)),
        )
        for node in calls
    ]


def _log_lines(source: str) -> list[int]:
    """The (1-based, sorted) lines that hold ``.log(`` or ``.log_dict(`` text: every such call spans one of them."""
    found = []
    line, position = 1, 0
    for match in _LOG_TEXT.finditer(source):
        line += source.count("\n", position, match.start())
        position = match.start()
        found.append(line)
    return found


def _nodes_on(tree: ast.Module, lines: list[int]) -> Iterator[ast.AST]:
    """The expression nodes of the statements that span one of ``lines``: each statement's own expressions (not
    those of the statements in its blocks, which come as statements of their own)."""
    if not lines:
        return
    for statement in statements(tree):
        if isinstance(statement, ast.Module):
            continue
        start = getattr(statement, "lineno", None)  # a match case has none: its pattern and guard are walked
        if start is not None:
            first = bisect.bisect_left(lines, start)
            if first == len(lines) or lines[first] > (getattr(statement, "end_lineno", None) or start):
                continue
        for name, value in ast.iter_fields(statement):
            if name in BLOCK_FIELDS:
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    yield from ast.walk(child)


def _characters(lines: list[str], line: int | None, offset: int | None) -> int:
    """``ast`` columns count UTF-8 bytes; libcst's count characters."""
    if line is None or offset is None:
        return 0
    text = lines[line - 1]
    return offset if text.isascii() else len(text.encode("utf-8")[:offset].decode("utf-8", errors="replace"))
