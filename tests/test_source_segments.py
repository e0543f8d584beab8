"""``SourceSegments`` gives what ``ast.get_source_segment`` gives, for every node, padded or not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from put_migrate.source_segments import SourceSegments

SOURCES = {
    "plain": "class A:\n    def f(self, x: int = 1):\n        return self.log('a', x)\n",
    "crlf": "class A:\r\n    def f(self):\r\n        return (1,\r\n                2)\r\n",
    "cr": "x = (1,\r 2)\rdef f():\r    return x\r",
    "unicode": "def f(ünï='é'):\n    s = 'ﬁ' + \"日本\"\n    return {s:\n        ünï}\n",
    "tabs and form feed": "if True:\n\tdef f():\n\t\treturn [1,\n\t\t\t2]\n\x0cy = 3\n",
    "no final newline": "def f():\n    return (1,\n        2)",
}


def _every_node(text: str):
    return [node for node in ast.walk(ast.parse(text)) if hasattr(node, "lineno")]


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("padded", [False, True])
def test_segments_match_ast(name, padded):
    text = SOURCES[name]
    segments = SourceSegments(text)
    for node in _every_node(text):
        assert segments.segment(node, padded=padded) == ast.get_source_segment(text, node, padded=padded)


def test_segments_match_ast_on_the_package_itself():
    for path in sorted(Path(__file__).resolve().parent.parent.joinpath("put_migrate").glob("*.py"))[:8]:
        text = path.read_text(encoding="utf-8")
        segments = SourceSegments(text)
        for node in _every_node(text):
            if isinstance(node, (ast.FunctionDef, ast.expr)):
                assert segments.segment(node, padded=True) == ast.get_source_segment(text, node, padded=True)


def test_a_node_without_positions_has_no_segment():
    assert SourceSegments("x = 1\n").segment(ast.Name("x")) is None
