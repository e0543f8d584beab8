"""Properties that return a value, never a Metric: ``self.kl_weight`` of scvi-tools' ``TrainingPlan``.

A logged ``self.x`` the class never assigns may be a torchmetrics Metric the codemod cannot see (PM220). A
``@property`` whose every ``return`` computes a new value (a call other than ``getattr`` or a Metric's
constructor, arithmetic, a constant) is a value like any other."""

from __future__ import annotations

import ast


def value_properties(class_node: ast.ClassDef) -> frozenset[str]:
    """The names of the class's properties that return computed values."""
    return frozenset(
        method.name for method in class_node.body if isinstance(method, ast.FunctionDef) and returns_a_value(method)
    )


def returns_a_value(method: ast.FunctionDef) -> bool:
    """A ``@property`` whose returns all compute a value (see the module's docstring)."""
    if not any(isinstance(d, ast.Name) and d.id == "property" for d in method.decorator_list):
        return False
    returns = [node for node in ast.walk(method) if isinstance(node, ast.Return)]
    return bool(returns) and all(r.value is not None and _computed(r.value) for r in returns)


def _computed(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        callee = node.func
        name = callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else ""
        if name == "getattr" or name.endswith(("Metric", "Collection")):
            return False
        # ``x.to(device)``, ``x.clone()`` keep what ``x`` is: judge ``x`` itself.
        if isinstance(callee, ast.Attribute) and name in ("to", "clone", "detach", "cpu", "cuda", "float", "double"):
            return _computed(callee.value)
        return True
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)):
        return True
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool))
