"""``analyze.unreached``: whether a helper, called with given arguments, returns before one of its statements."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from put_migrate.analyze.unreached import returns_before

_FORWARD = """
def forward(self, images, targets=None, *, scale=None):
    {before}
    if targets is None:
        return images
    for index in range(2):
        self.log(f"hit_{{index}}", images.sum())
    return images
"""


def _case(call: str, before: str = "pass", source: str = _FORWARD) -> bool:
    function = cst.parse_statement(textwrap.dedent(source).format(before=before))
    assert isinstance(function, cst.FunctionDef)
    found: list[cst.Call] = []

    class Logs(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "log":
                found.append(node)

    function.visit(Logs())
    expression = cst.parse_expression(call)
    assert isinstance(expression, cst.Call)
    return returns_before(function, found[0], expression)


@pytest.mark.parametrize("call", ["self(x)", "self(x, None)", "self(x, targets=None)", "self(images=x)"])
def test_a_call_leaving_the_parameter_none_returns_first(call: str) -> None:
    assert _case(call)


@pytest.mark.parametrize(
    "call",
    ["self(x, y)", "self(x, targets=y)", "self(x, *rest)", "self(x, **kw)", "self(x, None, None, None)"],
)
def test_a_call_that_may_give_the_parameter_a_value_may_reach_it(call: str) -> None:
    assert not _case(call)


@pytest.mark.parametrize(
    "before",
    [
        "targets = images",
        "images, targets = images",
        "(targets := images)",
        "for targets in images: pass",
        "with images as targets: pass",
        "del targets",
        "import targets",
        "def inner():\n        nonlocal targets",
    ],
)
def test_a_rebinding_before_the_check_may_reach_it(before: str) -> None:
    assert not _case("self(x)", before)


def test_a_call_of_the_parameter_does_not_rebind_it() -> None:
    assert _case("self(x)", "self.validate_batch(images, targets)")


def test_a_log_before_the_check_or_a_check_that_does_not_return_is_reached() -> None:
    after = """
    def helper(self, x, y=None):
        self.log("x", x)
        if y is None:
            return x
        return x + y
    """
    no_return = """
    def helper(self, x, y=None):
        if y is None:
            y = x
        self.log("y", y)
        return y
    """
    with_else = """
    def helper(self, x, y=None):
        if y is None:
            return x
        else:
            pass
        self.log("y", y)
    """
    for source in (after, no_return, with_else):
        assert not _case("self.helper(a)", source=source)


def test_a_default_other_than_none_is_not_none() -> None:
    source = """
    def helper(self, x, y=0):
        if y is None:
            return x
        self.log("y", y)
    """
    assert not _case("self.helper(a)", source=source)
    assert _case("self.helper(a, None)", source=source)
