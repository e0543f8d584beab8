"""Class hierarchies (``put_migrate/analyze/hierarchy.py``): a base class and its subclass that log one name, in one
file or two, train and log as before (issue #15: they shared one aggregator)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from put_migrate.api import RunOptions, migrate_paths
from put_migrate.runner import Mode
from shim.testing import FileModuleFactory, differences, load_file, record_run

CORPUS_MODULE = Path(__file__).resolve().parent.parent / "fixtures" / "corpus" / "inheritance_shared_name.py"


def _split(tmp_path: Path) -> Path:
    """The corpus module as a package of two files: ``base.py`` (all but ``Child``) and ``child.py``."""
    text = CORPUS_MODULE.read_text()
    head, child = text.split("\nclass Child(Base):", 1)
    package = tmp_path / "hierpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(head)
    (package / "child.py").write_text(
        "import torch\n\nfrom hierpkg.base import Base\n\n\nclass Child(Base):" + child
    )
    return package


def _load(root: Path, package: str, module: str):
    """``root/package/module.py``, imported with ``root`` on the path (a package of the same name loaded from
    another root before is forgotten first)."""
    for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return load_file(root / package / f"{module}.py")
    finally:
        sys.path.remove(str(root))


def _load_child(root: Path):
    return _load(root, "hierpkg", "child")


def _migrated_copy(original: Path, target: Path) -> list[str]:
    """Copy the package ``original`` under ``target`` and migrate it there: the names of the files it changed."""
    shutil.copytree(original, target / original.name)
    results = migrate_paths([target], RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True))
    return sorted(Path(r.path).name for r in results if r.changed)


def test_base_and_subclass_in_two_files_log_one_name_as_before(tmp_path: Path) -> None:
    original = _split(tmp_path / "a")
    assert _migrated_copy(original, tmp_path / "b") == ["base.py", "child.py"]
    _load_child(tmp_path / "a")
    _load_child(tmp_path / "b")
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit",)}
    a = record_run(FileModuleFactory(str(original / "child.py"), "Child"), workdir=tmp_path / "run-a", **run)
    b = record_run(FileModuleFactory(str(tmp_path / "b" / "hierpkg" / "child.py"), "Child"),
                   workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)
    shown = [sum("val_loss" in bar for _, _, bar in run.snapshots) for run in (a, b)]
    assert shown[0] > 0 and shown == [shown[0], shown[0]]  # the subclass's prog_bar=True call is the one that ran
    migrated = (tmp_path / "b" / "hierpkg" / "child.py").read_text()
    assert "self.child_val_loss = Mean()" in migrated and "self.val_loss = " not in migrated


DISPATCH_BASE = """\
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


def _loader(n, batch_size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 4, generator=generator), torch.randn(n, 1, generator=generator)),
                      batch_size=batch_size)


class BaseModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def step(self, x, y, batch_idx, stage):
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.step(x, y, batch_idx, "train")

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return self.step(x, y, batch_idx, stage="val")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader(12, 4)

    def val_dataloader(self):
        return _loader(10, 4, seed=1)
"""

DISPATCH_CHILD = """\
import torch

from forecast import BaseModel


class Forecaster(BaseModel):
    def step(self, x, y, batch_idx, stage):
        loss = super().step(x, y, batch_idx, stage)
        self.log(f"{stage}_loss", loss, on_epoch=True, prog_bar=True, batch_size=len(x))
        self.log("l1", torch.nn.functional.l1_loss(self.layer(x), y), on_epoch=True, batch_size=len(x))
        return loss
"""


def test_helper_called_from_a_base_class_hook_in_another_file_logs_as_before(tmp_path: Path) -> None:
    """PM205, base-class dispatch: the base's hooks (another file, re-exported by the package) call the subclass's
    ``step`` with a literal stage; each caller is a variant of the subclass's calls."""
    original = tmp_path / "a" / "forecast"
    original.mkdir(parents=True)
    (original / "__init__.py").write_text("from .base import BaseModel\n")
    (original / "base.py").write_text(DISPATCH_BASE)
    (original / "child.py").write_text(DISPATCH_CHILD)
    assert _migrated_copy(original, tmp_path / "b") == ["child.py"]
    migrated = (tmp_path / "b" / "forecast" / "child.py").read_text()
    assert "self.log(" not in migrated and 'if stage == "train":' in migrated
    _load(tmp_path / "a", "forecast", "child")
    _load(tmp_path / "b", "forecast", "child")
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit",)}
    a = record_run(FileModuleFactory(str(original / "child.py"), "Forecaster"), workdir=tmp_path / "run-a", **run)
    b = record_run(FileModuleFactory(str(tmp_path / "b" / "forecast" / "child.py"), "Forecaster"),
                   workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)
    assert "val_loss" in a.final_callback_metrics and "train_loss_epoch" in a.final_callback_metrics


def test_subclass_aggregator_names_avoid_every_name_an_ancestor_may_give() -> None:
    """The base logs the name the subclass's prefix would produce: the subclass still finds a free attribute."""
    from put_migrate.transform import migrate_source

    source = (
        "import lightning.pytorch as pl\n\n\n"
        "class Base(pl.LightningModule):\n"
        "    def validation_step(self, batch, batch_idx):\n"
        "        self.log('val_loss', batch.sum())\n"
        "        self.log('child_val_loss', batch.sum())\n\n\n"
        "class Child(Base):\n"
        "    def validation_step(self, batch, batch_idx):\n"
        "        self.log('val_loss', batch.mean(), prog_bar=True)\n"
    )
    result = migrate_source(source)
    base, child = result.source.split("class Child(Base")
    assert "self.val_loss = Mean()" in base and "self.child_val_loss = Mean()" in base
    assert "self.child_val_loss_100 = Mean()" in child
    assert migrate_source(result.source).source == result.source


RUNTIME_BASE = '''\
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


def _loader(n, batch_size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 4, generator=generator), torch.randn(n, 1, generator=generator)),
                      batch_size=batch_size)


class Base(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log(f"{['val', 'train'][self.training]}_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log(f"{['val', 'train'][self.training]}_loss", torch.nn.functional.mse_loss(self.layer(x), y),
                 prog_bar=True)
        self.extra(x, y)

    def extra(self, x, y):
        return None

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader(12, 4)

    def val_dataloader(self):
        return _loader(10, 4, seed=1)
'''

RUNTIME_CHILD = '''\
from runtimepkg.base import Base


class Child(Base):
    def extra(self, x, y):
        label = ["val", "train"][self.training]
        self.log(f"{label}_abs", (self.layer(x) - y).abs().mean())
'''


def test_base_and_subclass_run_time_names_in_two_files_keep_their_destinations(tmp_path: Path) -> None:
    """Both classes aggregate names known at run time in ``validation_step``: each needs its own ``Keyed`` (one
    shared attribute would put the subclass's names with the base's ``progress_bar`` destination; found on
    pytorch-forecasting's NBeats)."""
    original = tmp_path / "a" / "runtimepkg"
    original.mkdir(parents=True)
    (original / "__init__.py").write_text("")
    (original / "base.py").write_text(RUNTIME_BASE)
    (original / "child.py").write_text(RUNTIME_CHILD)
    assert _migrated_copy(original, tmp_path / "b") == ["base.py", "child.py"]
    _load(tmp_path / "a", "runtimepkg", "child")
    _load(tmp_path / "b", "runtimepkg", "child")
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit",)}
    a = record_run(FileModuleFactory(str(original / "child.py"), "Child"), workdir=tmp_path / "run-a", **run)
    b = record_run(FileModuleFactory(str(tmp_path / "b" / "runtimepkg" / "child.py"), "Child"),
                   workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)
    assert "val_abs" in a.final_callback_metrics
