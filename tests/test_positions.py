"""Log call positions from ``ast`` equal libcst's ``PositionProvider`` ones."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from put_migrate.positions import log_call_positions

ROOT = Path(__file__).resolve().parent.parent

TRICKY = [
    "x = 'é' ; self.log('a', 1)\n",  # non-ASCII before the call: characters, not bytes
    "@self.log('deco')\ndef f(self):\n    return self.log('a', 1) if c else self.log_dict({'b': 2})\n",
    "self.log('outer', self.log('inner', 1))\n(self).log('p', 1)\n",
    "self.log(\r\n    'a', 1)\r\nself.log_dict({})\r\n",  # CRLF
    "self.ｌｏｇ('nfkc', 1)\nself.log('a', 1)\n",  # ast reads ｌｏｇ as log: the provider answers
    "type X = int\nself.log('a', 1)\n",  # Python 3.12 syntax: libcst reads it, ast on 3.11 may not
    "[self.log(k, v) for k, v in self.log_dict(d).items()]\n",
]


def _expected(module: cst.Module) -> dict[cst.CSTNode, tuple[int, int]]:
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {
        node: (positions[node].start.line, positions[node].start.column)
        for node in positions
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("log", "log_dict")
        and isinstance(node.func.value, cst.Name)
    }


@pytest.mark.parametrize(
    "source",
    TRICKY + [p.read_text() for p in sorted((ROOT / "fixtures").rglob("*.in.py"))[::5]],
)
def test_same_positions_as_libcst(source):
    module = cst.parse_module(source)
    found = {node: (r.start.line, r.start.column) for node, r in log_call_positions(module, source).items()}
    expected = _expected(module)
    assert {node: found[node] for node in expected} == expected
