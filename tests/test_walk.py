"""The fast visitor driver meets every node libcst's traversal meets (trivia aside), in the same order."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from put_migrate import walk

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "fixtures").rglob("*.py"))[::7] + sorted((ROOT / "put_migrate").glob("*.py"))
NODE_TYPES = [t for t in vars(cst).values() if isinstance(t, type) and issubclass(t, cst.CSTNode)]


def _recorder_class(skip: type | None) -> type:
    """A visitor with a visit_/leave_ method for every node type (the driver's fast path)."""

    def hooks(name: str):
        def enter(self, node):
            self.events.append(("visit", id(node)))
            return not (skip is not None and isinstance(node, skip))

        def leave(self, node):
            self.events.append(("leave", id(node)))

        return {f"visit_{name}": enter, f"leave_{name}": leave}

    methods = {k: v for t in NODE_TYPES for k, v in hooks(t.__name__).items()}
    return type("Recorder", (cst.CSTVisitor,), {"__init__": lambda self: setattr(self, "events", []), **methods})


class OnVisitRecorder(cst.CSTVisitor):
    """A visitor that overrides on_visit/on_leave (the driver's other path)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node)))


def _trivia(module: cst.Module) -> set[int]:
    """ids of the nodes below trivia fields (what the driver leaves out)."""
    found: set[int] = set()

    class Collect(cst.CSTVisitor):
        def on_visit_attribute(self, node, attribute):
            if attribute in walk.TRIVIA_FIELDS or attribute.startswith("whitespace"):
                value = getattr(node, attribute)
                for child in value if isinstance(value, (list, tuple)) else [value]:
                    if isinstance(child, cst.CSTNode):
                        child.visit(All())

    class All(cst.CSTVisitor):
        def on_visit(self, node):
            found.add(id(node))
            return True

    module.visit(Collect())
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("skip", [None, cst.FunctionDef, cst.Call])
def test_same_nodes_same_order(path, skip):
    module = cst.parse_module(path.read_text())
    recorder = _recorder_class(skip)
    expected, driven = recorder(), recorder()
    module.visit(expected)
    walk.visit(module, driven)
    trivia = _trivia(module)
    assert driven.events == [e for e in expected.events if e[1] not in trivia]
    assert len(driven.events) < len(expected.events)  # trivia was left out


def test_visitors_that_override_on_visit():
    module = cst.parse_module((ROOT / "put_migrate" / "walk.py").read_text())
    expected, driven = OnVisitRecorder(), OnVisitRecorder()
    module.visit(expected)
    walk.visit(module, driven)
    trivia = _trivia(module)
    assert driven.events == [e for e in expected.events if e[1] not in trivia]


def test_a_field_libcst_announces_only_when_set_is_walked():
    """libcst visits a FormattedStringExpression's format_spec only when it has one: the field order read from an
    f-string without a format spec must not hide the next one's (``{mode:04o}`` after ``{b}``)."""
    walk._FIELD_ORDER.clear()
    walk._HOOKS.clear()

    class Texts(cst.CSTVisitor):
        def __init__(self):
            self.seen = []

        def visit_FormattedStringText(self, node):
            self.seen.append(node.value)

    module = cst.parse_module('y = f"{b}"\nx = f"{a:04o}"\n')
    expected, driven = Texts(), Texts()
    module.visit(expected)
    walk.visit(module, driven)
    assert driven.seen == expected.seen == ["04o"]
