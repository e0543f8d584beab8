"""Imports added by the renderer are exactly what libcst's AddImportsVisitor adds."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from put_migrate.render import _add_imports

ROOT = Path(__file__).resolve().parent.parent

HEADS = [
    "",
    "class M:\n    pass\n",
    '"""Doc."""\nclass M:\n    pass\n',
    '"""Doc."""\n\nimport torch\n# a comment\nclass M:\n    pass\n',
    "import torch\nimport lightning.pytorch as pl\n\n\nclass M(pl.LightningModule):\n    pass\n",
    "import torch\nclass M:\n    pass\n",
    "x = 1\nimport torch\nclass M:\n    pass\n",
    "__strict__ = True\nimport torch\n",
    "import torch\n",
    "from __future__ import annotations\nimport os\n\nX = 1\n",
    "from shim import PutMixin\nimport torch\n\nclass M:\n    pass\n",
    "from shim import *\nclass M:\n    pass\n",
    "from shim import put as p\nclass M:\n    pass\n",
    "import functools as ft\nclass M:\n    pass\n",
    "import functools\nfrom shim.metrics import Mean\nclass M:\n    pass\n",
    "from . import shim\nfrom .shim import Mean\nclass M:\n    pass\n",
    "import shim.metrics\nclass M:\n    pass\n",
    "try:\n    import torch\nexcept ImportError:\n    pass\nclass M:\n    pass\n",
    "import os; import sys\nclass M:\n    pass\n",
    "#!/usr/bin/env python\n# header comment\nimport os\n\n\n# about M\nclass M:\n    pass\n",
]
IMPORTS = [
    [("shim", "PutMixin")],
    [("functools", ""), ("shim", "PutMixin"), ("shim.metrics", "Mean"), ("shim.metrics", "Keyed")],
    [("lightning.pytorch.utilities.data", "extract_batch_size"), ("shim", "reduce_step_values")],
]


def _reference(text: str, imports) -> str:
    context = CodemodContext()
    for name, obj in imports:
        AddImportsVisitor.add_needed_import(context, name, obj or None)
    return AddImportsVisitor(context).transform_module(cst.parse_module(text)).code


@pytest.mark.parametrize("imports", IMPORTS)
@pytest.mark.parametrize("text", HEADS + [p.read_text() for p in sorted((ROOT / "fixtures").rglob("*.in.py"))[::9]])
def test_same_as_add_imports_visitor(text, imports):
    assert _add_imports(cst.parse_module(text), imports).code == _reference(text, imports)
