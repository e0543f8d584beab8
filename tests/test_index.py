"""The repository pass (``put_migrate/index.py``): Lightning classes across files, then the rewrite with it."""

from __future__ import annotations

from pathlib import Path

from put_migrate.api import Mode, RunOptions, migrate_paths
from put_migrate.index import build_index, module_name
from put_migrate.transform import migrate_source

BASE = '''\
import lightning.pytorch as pl
import torch
from torchmetrics import MeanSquaredError


class Base(pl.LightningModule):
    def __init__(self, lr=0.1):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def setup(self, stage):
        self.val_mse = MeanSquaredError()
        self.scores = torch.nn.ModuleDict({"mse": MeanSquaredError()})
'''

MODEL = '''\
import torch

from .base import Base


class Model(Base):
    def training_step(self, batch, batch_idx):
        loss = self.layer(batch).sum()
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.val_mse(self.layer(batch), batch)
        self.log("val_mse", self.val_mse)
        self.log("val_score", self.scores["mse"])
'''

MIGRATED_BASE = '''\
import lightning.pytorch as pl
from shim import PutMixin


class Base(PutMixin, pl.LightningModule):
    pass
'''

CHILD_OF_MIGRATED = '''\
from pkg.base import Base


class Child(Base):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())
'''


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_module_names() -> None:
    assert module_name(Path("src/pkg/base.py")) == "src.pkg.base"
    assert module_name(Path("pkg/__init__.py")) == "pkg"


def test_index_finds_subclasses_across_files(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/model.py": MODEL})
    index = build_index(sorted(root.rglob("*.py")))
    (model,) = [c for key, c in index.classes.items() if key.endswith("pkg.model.Model")]
    assert index.lightning_kind(model) == ("module", "lightning.pytorch")
    (base,) = index.ancestors(model)
    assert ("val_mse", False) in base.metrics and "scores" in base.metric_containers


def test_subclass_in_another_file_is_migrated(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/model.py": MODEL})
    results = migrate_paths([root], RunOptions(mode=Mode.DIFF, jobs=1))
    by_name = {Path(r.path).name: r for r in results}
    model = by_name["model.py"]
    assert model.changed, model
    diff = model.diff.decode()
    assert "+class Model(Base, PutMixin):" in diff
    assert '+        self.put("loss", loss, ["callbacks", "loggers"])' in diff
    assert "+        if self.val_mse.update_called:" in diff  # a Metric assigned in the base's setup()
    codes = sorted(f.code for f in model.findings)
    assert codes == ["PM101", "PM101", "PM220"]  # an item of the base's ModuleDict of metrics is left
    assert not by_name["base.py"].changed


def test_file_alone_still_works(tmp_path: Path) -> None:
    # Without the base class's file the class is not known to be a Lightning class: nothing changes.
    result = migrate_source(MODEL, str(tmp_path / "model.py"))
    assert result.source == MODEL and not result.findings


def test_subclass_of_migrated_base_gets_no_second_mixin(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": MIGRATED_BASE, "app/child.py": CHILD_OF_MIGRATED})
    results = migrate_paths([root], RunOptions(mode=Mode.DIFF, jobs=1))
    child = next(r for r in results if r.path.endswith("child.py"))
    assert child.changed
    assert "class Child(Base):" in child.diff.decode() and "PutMixin" not in child.diff.decode()


def test_pool_gets_the_index(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE}
    for n in range(10):
        files[f"pkg/model_{n}.py"] = MODEL.replace("class Model", f"class Model{n}")
    root = _tree(tmp_path, files)
    results = migrate_paths([root], RunOptions(mode=Mode.CHECK, jobs=2))
    assert sum(r.changed for r in results) == 10
