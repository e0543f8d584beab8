"""Which statements of a function can both run in one call: those in different arms of one ``if`` chain cannot."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import libcst as cst

_Arm = tuple[int, str]  # (id of an ``If``, "body" or "orelse")


def _arms(node: cst.CSTNode, target: cst.CSTNode) -> list[_Arm] | None:
    """The ``if`` arms from ``node`` down to ``target`` (outermost first); None when ``target`` is not under it."""
    if node is target:
        return []
    if isinstance(node, cst.If):
        for arm, child in (("body", node.body), ("orelse", node.orelse)):
            if child is not None:
                path = _arms(child, target)
                if path is not None:
                    return [(id(node), arm), *path]
        return None
    for child in node.children:
        path = _arms(child, target)
        if path is not None:
            return path
    return None


def mutually_exclusive(function: cst.FunctionDef, statements: Sequence[cst.CSTNode]) -> bool:
    """No two of ``statements`` can run in one call of ``function``: each pair sits in different arms of one
    ``if``/``elif``/``else`` chain (the caller makes sure neither is in a loop)."""
    if len({id(s) for s in statements}) != len(statements):
        return False
    paths = [_arms(function.body, s) for s in statements]
    if any(p is None for p in paths):
        return False
    for first, second in itertools.combinations(paths, 2):
        assert first is not None and second is not None
        split = next(((a, b) for a, b in zip(first, second) if a != b), None)
        if split is None or split[0][0] != split[1][0]:  # nested in one another, or in two different ifs
            return False
    return True
