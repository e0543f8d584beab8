"""The syntax screen: it may send too much to libcst, never too little."""

from __future__ import annotations

from pathlib import Path

import pytest

from put_migrate.screen import may_need_transform
from put_migrate.transform import migrate_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

MODULE = "import lightning.pytorch as pl\n\n\nclass M(pl.LightningModule):\n    def training_step(self, batch, i):\n"
CALLBACK = "import lightning.pytorch as pl\n\n\nclass C(pl.Callback):\n    def on_train_batch_end(self, trainer, module, *a):\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MODULE + "        self.log('a', 1.0)\n", True),
        (MODULE + "        self.log_dict({'a': 1.0})\n", True),
        (MODULE + "        def inner():\n            self.log('a', 1.0)\n        inner()\n", True),
        (CALLBACK + "        module.log('a', 1.0)\n", True),
        ("def f():\n    class Local(object):\n        def g(self):\n            self.log('a', 1)\n", True),
        (MODULE + "        return torch.log(batch)\n", False),
        (MODULE + "        self.logger.log_metrics({'a': 1.0})\n", False),
        (CALLBACK + "        trainer.log('a', 1.0)\n", False),  # not the pl_module parameter
        ("class C(Callback):\n    def helper(self, pl_module, name):\n        pl_module.log(name, 1.0)\n", True),
        ("class Plain:\n    def f(self):\n        self.log('a', 1)\n", False),  # no base: never Lightning
        ("import lightning\nself.log('a', 1)\n", False),  # not in a class
        ("class M(pl.LightningModule):\n    def f(self):\n        self.log('a', 1)\r\n", True),  # "\r": no text check
        ("class M(Base):\n    def f(self:\n        self.log('a', 1)\n", True),  # ast cannot read it: libcst decides
    ],
)
def test_screen(text, expected):
    assert may_need_transform(text) is expected


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.py")), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_screened_out_files_are_left_alone_by_the_transform(path):
    """Every fixture the screen rules out is one the transform leaves unchanged, without a finding."""
    text = path.read_text()
    if may_need_transform(text):
        return
    result = migrate_source(text, str(path))
    assert result.source == text and result.findings == []


def test_the_screen_rules_out_files_that_only_look_like_they_log():
    """The fixtures hold such files (no-op cases): the screen is not a pass-through."""
    ruled_out = [p for p in FIXTURES.rglob("*.py") if "self.log" in p.read_text() and not may_need_transform(p.read_text())]
    assert ruled_out


# --- the index screen: classes the repository index shows are not Lightning classes -----------------------------

LIBRARY_BASE = """\
import torch
from .hooks import Hooks


class Base(Hooks, torch.nn.Module):
    def log_all(self, values):
        for name, value in values.items():
            self.log(name, value)
"""
HOOKS = "class Hooks:\n    def training_step(self, batch, batch_idx):\n        pass\n"
SUBCLASS = """\
import lightning.pytorch as pl
from lib.base import Base


class Model(Base, pl.LightningModule):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())
"""
UNRESOLVED_BASE = """\
from extlib import ExternalBase


class Unknown(ExternalBase):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())
"""
LOCAL_CLASS = """\
import lightning.pytorch as pl


def make():
    class Local(pl.LightningModule):
        def training_step(self, batch, batch_idx):
            self.log("loss", batch.sum())
    return Local
"""


def _index_of(tmp_path: Path, files: dict[str, str]):
    from put_migrate.index import build_index

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return build_index(sorted(tmp_path.rglob("*.py")))


@pytest.mark.parametrize(
    ("name", "settled"),
    [("lib/base.py", True), ("app/model.py", False), ("app/unknown.py", False), ("app/local.py", False)],
)
def test_settled_by_index(tmp_path, name, settled):
    """Settled: the transform would leave the file as it is, without a finding; the others go to libcst."""
    from put_migrate.screen import settled_by_index

    files = {"lib/__init__.py": "", "lib/hooks.py": HOOKS, "lib/base.py": LIBRARY_BASE, "app/model.py": SUBCLASS,
             "app/unknown.py": UNRESOLVED_BASE, "app/local.py": LOCAL_CLASS}
    path = str(tmp_path / name)
    assert settled_by_index(files[name], path, _index_of(tmp_path, files)) is settled
    result = migrate_source(files[name], path, index=_index_of(tmp_path / "again", files))
    assert (result.source == files[name] and result.findings == []) is settled


@pytest.mark.parametrize("folder", sorted({p.parent for p in FIXTURES.rglob("*.py")}), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_files_the_index_settles_are_left_alone_by_the_transform(folder):
    """Every fixture the index screen settles (with the index of its folder) the transform leaves unchanged,
    without a finding."""
    from put_migrate.index import build_index
    from put_migrate.screen import settled_by_index

    files = sorted(folder.glob("*.py"))
    for path in files:
        text = path.read_text()
        if may_need_transform(text) and settled_by_index(text, str(path), build_index(files)):
            result = migrate_source(text, str(path), index=build_index(files))
            assert result.source == text and result.findings == [], path
