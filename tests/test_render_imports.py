"""Imports added by the renderer: every one bound, none twice, each where the project's import style puts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from put_migrate.imports import _imported, add_imports
from put_migrate.project_config import ImportStyle

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
TEXTS = HEADS + [p.read_text() for p in sorted((ROOT / "fixtures").rglob("*.in.py"))[::9]]


@pytest.mark.parametrize("imports", IMPORTS)
@pytest.mark.parametrize("text", TEXTS)
def test_every_import_bound_once(text, imports):
    new = add_imports(cst.parse_module(text), imports, ImportStyle())
    present, star = _imported(new.body)
    assert all((name, obj) in present or name in star for name, obj in imports)
    assert add_imports(new, imports, ImportStyle()).code == new.code  # nothing added twice


@pytest.mark.parametrize(
    ("text", "imports", "expected"),
    [
        (  # merged into the line of the same module, names sorted as ruff sorts them (constants, classes, others)
            "import torch\nfrom shim import reduce_step_values\n",
            [("shim", "PutMixin")],
            "import torch\nfrom shim import PutMixin, reduce_step_values\n",
        ),
        (  # a new standard-library section before the third-party one
            "import torch\n\nfrom mypkg import x\n\n\nclass M:\n    pass\n",
            [("functools", "")],
            "import functools\n\nimport torch\n\nfrom mypkg import x\n\n\nclass M:\n    pass\n",
        ),
        (  # longer than the line length: wrapped as ruff and black wrap it
            "import torch\n",
            [("shim.metrics", n) for n in ("Keyed", "Mean", "PerDataloader", "Sum", "Max", "Min", "CatMetric")],
            (
                "import torch\nfrom shim.metrics import (\n    CatMetric,\n    Keyed,\n    Max,\n    Mean,\n"
                "    Min,\n    PerDataloader,\n    Sum,\n)\n"
            ),
        ),
    ],
)
def test_placement(text, imports, expected):
    assert add_imports(cst.parse_module(text), imports, ImportStyle(line_length=60)).code == expected


def test_force_single_line_and_known_first_party():
    style = ImportStyle(force_single_line=True, known_first_party=frozenset({"shim"}))
    text = "import os\n\nimport torch\n"
    new = add_imports(cst.parse_module(text), [("shim", "PutMixin"), ("shim", "reduce_step_values")], style)
    assert new.code == "import os\n\nimport torch\n\nfrom shim import PutMixin\nfrom shim import reduce_step_values\n"


@pytest.mark.parametrize("imports", IMPORTS)
@pytest.mark.parametrize("text", HEADS)
def test_sorted_heads_stay_sorted(tmp_path, text, imports):
    pytest.importorskip("ruff")
    path = tmp_path / "m.py"
    path.write_text(text)
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", "I", str(path)]
    subprocess.run([*ruff, "--fix", "--quiet"], capture_output=True, cwd=tmp_path)  # cwd: ruff's src root
    path.write_text(add_imports(cst.parse_module(path.read_text()), imports, ImportStyle()).code)
    checked = subprocess.run(ruff, capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 0, path.read_text() + checked.stdout
