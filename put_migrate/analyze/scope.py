"""What a class or a function body binds: parameters, assigned names and attributes, the values bound to a name."""

from __future__ import annotations

import libcst as cst

from put_migrate.lightning_classes import dotted_name
from put_migrate.walk import visit


def positional_params(function: cst.FunctionDef) -> list[str]:
    params = [*function.params.posonly_params, *function.params.params]
    return [p.name.value for p in params]


def assigns_name(node: cst.CSTNode, name: str) -> bool:
    """Some assignment (``name = ...``, ``name += ...``) under ``node`` binds the plain name ``name``."""

    class Visitor(cst.CSTVisitor):
        found = False

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                self.found = True

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                self.found = True

    visitor = Visitor()
    visit(node, visitor)
    return visitor.found


def rebinds(node: cst.CSTNode, name: str) -> bool:
    """Something under ``node`` may bind the plain name ``name`` again in the scope ``node`` runs in: an assignment
    of any form (``name += ...`` too), a ``for``/``with``/``except``/``:=``/``match`` target, ``del``, an import,
    a nested ``def``/``class`` of that name, or a nested scope that declares it ``nonlocal``/``global``."""

    class Visitor(cst.CSTVisitor):
        found = False

        def _target(self, target: cst.CSTNode | None) -> None:
            if isinstance(target, cst.Name):
                self.found = self.found or target.value == name
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._target(element.value)
            elif isinstance(target, (cst.StarredElement, cst.AsName)):
                self._target(target.value if isinstance(target, cst.StarredElement) else target.name)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            self._target(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._target(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if node.value is not None:
                self._target(node.target)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:  # in a comprehension too: it binds out here
            self._target(node.target)

        def visit_For(self, node: cst.For) -> None:
            self._target(node.target)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            self._target(node.asname)

        def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
            self._target(node.name)

        def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
            self._target(node.name)

        def visit_Del(self, node: cst.Del) -> None:
            self._target(node.target)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            self.found = self.found or (node.evaluated_alias or node.evaluated_name).split(".")[0] == name

        def visit_MatchAs(self, node: cst.MatchAs) -> None:
            self._target(node.name)

        def visit_MatchStar(self, node: cst.MatchStar) -> None:
            self._target(node.name)

        def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
            self._target(node.rest)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            self._target(node.name)
            self.found = self.found or declares(node, name)
            return False  # its own scope

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            self._target(node.name)
            self.found = self.found or declares(node, name)
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    visitor = Visitor()
    visit(node, visitor)
    return visitor.found


def declares(scope: cst.CSTNode, name: str) -> bool:
    """A ``nonlocal``/``global`` statement under ``scope`` names ``name``."""

    class Visitor(cst.CSTVisitor):
        found = False

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            self.found = self.found or any(item.name.value == name for item in node.names)

        def visit_Global(self, node: cst.Global) -> None:
            self.found = self.found or any(item.name.value == name for item in node.names)

    visitor = Visitor()
    visit(scope, visitor)
    return visitor.found


def contains(node: cst.CSTNode, target: cst.CSTNode) -> bool:
    """``target`` is ``node`` or one of its descendants."""

    class Visitor(cst.CSTVisitor):
        found = False

        def on_visit(self, visited: cst.CSTNode) -> bool:
            if visited is target:
                self.found = True
            return not self.found

    visitor = Visitor()
    visit(node, visitor)
    return visitor.found


def values_bound_to(function: cst.FunctionDef, name: str) -> list[cst.BaseExpression]:
    """The values assigned to the plain name ``name`` in ``function`` (``name = v``, ``name: T = v``, ``name := v``)."""
    values: list[cst.BaseExpression] = []

    class Visitor(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            if any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
                values.append(node.value)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name and node.value is not None:
                values.append(node.value)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name:
                values.append(node.value)

    visit(function.body, Visitor())
    return values


def methods_and_names(class_node: cst.ClassDef) -> tuple[dict[str, cst.FunctionDef], set[str]]:
    """The class's methods by name, and the names it takes: methods, class-level names, every ``self.x`` used."""
    methods: dict[str, cst.FunctionDef] = {}
    used: set[str] = set()
    for statement in class_node.body.body:
        if isinstance(statement, cst.FunctionDef):
            methods[statement.name.value] = statement
            used.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    used.update(t.value for t in targets if isinstance(t, cst.Name))

    class SelfAttributes(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Name) and node.value.value == "self":
                used.add(node.attr.value)

    visit(class_node, SelfAttributes())
    return methods, used


def assigned_self_attributes(class_node: cst.ClassDef) -> set[str]:
    """The attributes the class assigns: ``self.x = ...`` (any target form) and its class-level names."""
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def _target(self, target: cst.BaseExpression) -> None:
            if isinstance(target, cst.Attribute) and dotted_name(target.value) == "self":
                names.add(target.attr.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                for element in target.elements:
                    self._target(element.value)

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            self._target(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            self._target(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            self._target(node.target)

    visit(class_node, Visitor())
    for statement in class_node.body.body:  # class-level names are attributes too
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
    return names
