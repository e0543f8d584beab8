"""Free names for generated code: aggregator attributes of the class, and locals of each function."""

from __future__ import annotations

import keyword
import re

import libcst as cst

from put_migrate.walk import visit


def identifier(name: str) -> str:
    """``"val/loss"`` -> ``val_loss``."""
    ident = re.sub(r"\W+", "_", name).strip("_") or "metric"
    if ident[0].isdigit():
        ident = f"m_{ident}"
    if keyword.iskeyword(ident):
        ident += "_"
    return ident


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)  # ``x.attr``: only ``x`` is a name in scope
        return False


def names_in(node: cst.CSTNode) -> set[str]:
    visitor = _Names()
    visit(node, visitor)
    return visitor.names


class NameAllocator:
    """The names taken so far: attributes of the class, and per scope (id of a function) its locals."""

    def __init__(self, taken_attrs: set[str], inherited: frozenset[str] = frozenset(), prefix: str = "") -> None:
        self.taken_attrs = taken_attrs
        # Attributes an ancestor's aggregators may have: a name one of them logs too is named with ``prefix``.
        self.inherited = inherited
        self.prefix = prefix
        self.local_names: dict[int, set[str]] = {}  # id(function) -> names in use
        self.loop_names: dict[int, tuple[str, str]] = {}  # id(function) -> loop variables over run-time mappings

    def new_attr(self, name: str, reduce: str) -> str:
        base = identifier(name)
        if base in self.inherited:
            base = f"{self.prefix}_{base}"
        candidates = [base, f"{base}_{reduce}"] + [f"{base}_{n}" for n in range(2, 1000)]
        for candidate in candidates:
            if candidate not in self.taken_attrs and candidate not in self.inherited:
                self.taken_attrs.add(candidate)
                return candidate
        raise AssertionError("no free attribute name")

    def new_local(self, scope_key: int, scope_names: set[str], base: str) -> str:
        taken = self.local_names.setdefault(scope_key, set(scope_names))
        base = identifier(base)
        for candidate in [base, f"{base}_value"] + [f"{base}_{n}" for n in range(2, 100)]:
            if candidate not in taken and candidate not in ("self",) and not keyword.iskeyword(candidate):
                taken.add(candidate)
                return candidate
        raise AssertionError("no free local name")

    def local_in(self, function: cst.FunctionDef, base: str) -> str:
        return self.new_local(id(function), names_in(function), base)

    def loop_variables(self, function: cst.FunctionDef) -> tuple[str, str]:
        """``name, value`` for the loops over a run-time mapping: every loop rebinds its variables first, so all
        the loops of a function share one pair of free names."""
        loop = self.loop_names.get(id(function))
        if loop is None:
            loop = self.loop_names[id(function)] = (self.local_in(function, "name"), self.local_in(function, "value"))
        return loop

    def snapshot(self, function: cst.FunctionDef) -> set[str] | None:
        """The locals taken in ``function`` so far (None: none yet)."""
        scope = id(function)
        return set(self.local_names[scope]) if scope in self.local_names else None

    def restore(self, function: cst.FunctionDef, before: set[str] | None) -> None:
        """Back to a snapshot: the variants of one statement may reuse each other's local names."""
        if before is None:
            self.local_names.pop(id(function), None)
        else:
            self.local_names[id(function)] = set(before)

    def taken_in(self, function: cst.FunctionDef) -> set[str]:
        return self.local_names.get(id(function), set())

    def take(self, function: cst.FunctionDef, names: set[str]) -> None:
        if names:
            self.local_names[id(function)] = names
