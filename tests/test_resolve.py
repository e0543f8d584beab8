"""The one resolver of imports and bases (``resolve.py``), and the libcst side that reads through it."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst
import pytest

from put_migrate import resolve
from put_migrate.index import build_index
from put_migrate.lightning_classes import ImportMap


def import_map(text: str) -> dict[str, str]:
    text = textwrap.dedent(text)
    return resolve.import_map(ast.parse(text).body, text)


def test_imports_bind_as_python_binds_them():
    assert import_map("""
        import a.b
        import c.d as e
        from f.g import h, i as j
        from k import *
        from .l import m
    """) == {"a": "a", "e": "c.d", "h": "f.g.h", "j": "f.g.i"}


def test_guarded_imports_count_and_one_line_suites_do_not():
    names = import_map("""
        try:
            import lightning.pytorch as pl
        except ImportError:
            import pytorch_lightning as pl2
        else:
            import x
        finally:
            import y
        if A:
            import p
        elif B:
            import q
        else:
            if C:
                import r
        if D: import s
        def f():
            import t
    """)
    assert names == {"pl": "lightning.pytorch", "pl2": "pytorch_lightning", "x": "x", "y": "y", "p": "p", "q": "q",
                     "r": "r"}


def test_the_libcst_side_reads_the_same_imports_and_those_of_function_bodies():
    text = "import lightning as L\ndef test_x():\n    from torchmetrics import Accuracy\n    if X: import y\n"
    module = cst.parse_module(text)
    imports = ImportMap.of(module)
    assert imports.names == {"L": "lightning"}
    inner = imports.within(module.body[1])
    assert inner.names == {"L": "lightning", "Accuracy": "torchmetrics.Accuracy"}
    assert inner.qualify(cst.parse_expression("L.LightningModule")) == "lightning.LightningModule"


def test_text_python_cannot_read_is_read_statement_by_statement():
    module = cst.parse_module('x = f"{"a"}"\nimport lightning.pytorch as pl\n')  # newer syntax than Python 3.11
    assert ImportMap.of(module).names == {"pl": "lightning.pytorch"}


@pytest.mark.parametrize(
    ("key", "is_package", "expected"),
    [("pkg.models.m", False, {"Base": "pkg.models.base.Base", "u": "pkg.u"}),
     ("pkg.models", True, {"Base": "pkg.models.base.Base", "u": "pkg.u"}),
     ("m", False, {"Base": "base.Base"})],
)
def test_relative_imports_are_made_dotted_from_the_module_key(key, is_package, expected):
    tree = ast.parse("from .base import Base\nfrom .. import u\n")
    assert resolve.relative_imports(tree, key, is_package) == expected


def test_unresolved_base_follows_the_classes_of_the_file(tmp_path):
    (tmp_path / "known.py").write_text("class Known:\n    pass\n")
    index = build_index([tmp_path / "known.py"])
    imports = {"Known": "known.Known", "Other": "elsewhere.Other", "nn": "torch.nn"}
    local = {"Mid": ["Other"], "Safe": ["nn.Module"]}
    assert resolve.unresolved_base(["Known", "Safe", "object"], imports, None, index, local, set()) is None
    assert resolve.unresolved_base(["Known", "Mid"], imports, None, index, local, set()) == "Mid"
    assert resolve.unresolved_base(["Other"], imports, None, index, local, set()) == "Other"
