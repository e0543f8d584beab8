"""Reverse base-class dispatch (``put_migrate/analyze/subclass_callers.py``): a helper of a base class that only the
hooks of its subclasses call, in other files (NeMo's ``ASRModel.add_auxiliary_losses``), is migrated in the base and
trains and logs as before; the base lists ``ABC`` after a root that derives from it (``mixin_position.py``)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from put_migrate.api import RunOptions, migrate_paths
from put_migrate.runner import Mode
from shim.testing import FileModuleFactory, differences, load_file, record_run

MODEL_PT = """\
from abc import ABC

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


def _loader(n, batch_size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 4, generator=generator), torch.randn(n, 1, generator=generator)),
                      batch_size=batch_size)


class Typing(ABC):
    pass


class ModelPT(pl.LightningModule, Typing):
    def on_train_epoch_end(self):
        self.log("epoch_marker", float(self.current_epoch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader(12, 4)

    def val_dataloader(self):
        return _loader(10, 4, seed=1)
"""

ASR_MODEL = """\
from abc import ABC

import torch

from asrpkg.modelpt import ModelPT


class WithOptionalCudaGraphs(ABC):
    pass


class ASRModel(ModelPT, WithOptionalCudaGraphs, ABC):
    def add_auxiliary_losses(self, loss, reset_registry=False):
        log_dict = {}
        for loss_key, aux in self.registry.items():
            loss = loss + 0.01 * aux
            log_dict["adapter_loss/" + loss_key] = aux.detach()
        if len(log_dict) > 0:
            self.log_dict(log_dict)
        if reset_registry:
            self.registry = {}
        return loss
"""

CTC = """\
import torch

from asrpkg import ASRModel


class CTCModel(ASRModel):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 1)
        self.registry = {}

    def _step(self, batch):
        x, y = batch
        hidden = self.encoder(x)
        self.registry = {"enc": hidden.pow(2).mean(), "head": self.head.weight.pow(2).sum()}
        return torch.nn.functional.mse_loss(self.head(hidden), y)

    def training_step(self, batch, batch_idx):
        loss = self.add_auxiliary_losses(self._step(batch), reset_registry=True)
        self.log_dict({"train_loss": loss})
        return loss

    def validation_step(self, batch, batch_idx):
        self.add_auxiliary_losses(self._step(batch), True)
"""


def _package(root: Path) -> Path:
    package = root / "asrpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .asr_model import ASRModel\n")
    (package / "modelpt.py").write_text(MODEL_PT)
    (package / "asr_model.py").write_text(ASR_MODEL)
    (package / "ctc.py").write_text(CTC)
    return package


def _load(root: Path):
    for name in [n for n in sys.modules if n == "asrpkg" or n.startswith("asrpkg.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return load_file(root / "asrpkg" / "ctc.py")
    finally:
        sys.path.remove(str(root))


def test_base_helper_called_from_subclass_hooks_in_another_file_logs_as_before(tmp_path: Path) -> None:
    original = _package(tmp_path / "a")
    shutil.copytree(original, tmp_path / "b" / "asrpkg")
    results = migrate_paths([tmp_path / "b"], RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True))
    assert sorted(Path(r.path).name for r in results if r.changed) == ["asr_model.py", "ctc.py", "modelpt.py"]
    assert not [f for r in results for f in r.findings if f.code.startswith("PM2")]
    migrated = (tmp_path / "b" / "asrpkg" / "asr_model.py").read_text()
    assert "self.log_dict(" not in migrated and "if self.trainer.training:" in migrated
    # Last, PutMixin would follow ABC, which ModelPT's order (PutMixin first) lists after it: TypeError at import.
    assert "class ASRModel(ModelPT, WithOptionalCudaGraphs, PutMixin, ABC):" in migrated
    _load(tmp_path / "a")
    _load(tmp_path / "b")
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit",)}
    a = record_run(FileModuleFactory(str(original / "ctc.py"), "CTCModel"), workdir=tmp_path / "run-a", **run)
    b = record_run(FileModuleFactory(str(tmp_path / "b" / "asrpkg" / "ctc.py"), "CTCModel"),
                   workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)
    assert {"adapter_loss/enc", "adapter_loss/head", "epoch_marker"} <= set(a.final_callback_metrics)


MARKED = ASR_MODEL + """
    def on_train_epoch_start(self):
        self.log("asr_marker", 1.0)
"""


def test_base_listing_abc_after_its_root_imports_with_and_without_the_root_migrated(tmp_path: Path) -> None:
    """A base whose own hook logs (so it is migrated without the reverse dispatch too): migrated with its root in one
    run, and before its root in another run; both hierarchies import with one PutMixin."""
    options = RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True)
    for name, runs in (("one", [["."]]), ("later", [["asr_model.py", "ctc.py"], ["modelpt.py"]])):
        package = _package(tmp_path / name)
        (package / "asr_model.py").write_text(MARKED)
        for files in runs:
            migrate_paths([package / f for f in files], options)
        assert "class ModelPT(PutMixin, " in (package / "modelpt.py").read_text()
        module = _load(tmp_path / name)
        assert [k.__name__ for k in module.CTCModel.__mro__].count("PutMixin") == 1


def test_a_calling_method_whose_source_is_not_kept_leaves_the_helper(tmp_path: Path) -> None:
    """The index keeps the source of plain methods only: an ``async def`` of a subclass that calls the base's helper
    cannot be followed, so the helper's call is left (PM205, naming that caller), and the run goes on."""
    (tmp_path / "base.py").write_text(
        "import lightning.pytorch as pl\n\n\nclass Base(pl.LightningModule):\n"
        "    def add_aux(self, loss):\n        self.log(\"aux\", loss)\n        return loss\n"
    )
    (tmp_path / "sub.py").write_text(
        "from base import Base\n\n\nclass Sub(Base):\n"
        "    def training_step(self, batch, batch_idx):\n        return self.add_aux(batch.sum())\n\n"
        "    async def gather(self, value):\n        return self.add_aux(value)\n"
    )
    results = migrate_paths([tmp_path], RunOptions(mode=Mode.CHECK, jobs=1, allow_dirty=True))
    findings = [f for r in results for f in r.findings if f.code.startswith("PM2")]
    assert [f.code for f in findings] == ["PM205"]
    assert "`Sub.gather` calls `add_aux`, and its source could not be read" in findings[0].message
    assert not any(r.changed for r in results)


BASE_AE = """\
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


def _loader(n, seed):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 4, generator=generator)), batch_size=4)


class BaseAE(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.enc = torch.nn.Linear(4, 4)

    def training_step(self, batch, batch_idx):
        return self._shared(batch)

    def _shared(self, batch):
        (x,) = batch
        loss = (self.enc(x) - x).pow(2).mean()
        self.log("loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self._validation_step(batch, batch_idx)
        self._validation_step(batch, batch_idx, postfix="_ema")

    def _validation_step(self, batch, batch_idx, postfix=""):
        (x,) = batch
        rec = (self.enc(x) - x).pow(2).mean()
        self.log(f"val{postfix}/loss/rec", rec, sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader(14, 0)

    def val_dataloader(self):
        return _loader(10, 1)
"""

USER_AE = """\
from aepkg.base_ae import BaseAE


class UserAE(BaseAE):
    def validation_step(self, batch, batch_idx):
        super().validation_step(batch, batch_idx)
        self._validation_step(batch, batch_idx, postfix=POSTFIX)
        self._shared(batch)
"""


def _ae_package(root: Path, postfix: str) -> Path:
    package = root / "aepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "base_ae.py").write_text(BASE_AE)
    (package / "user_ae.py").write_text(USER_AE.replace("POSTFIX", postfix))
    return package


def _load_ae(root: Path):
    for name in [n for n in sys.modules if n == "aepkg" or n.startswith("aepkg.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return load_file(root / "aepkg" / "user_ae.py")
    finally:
        sys.path.remove(str(root))


def test_base_helper_the_base_calls_too_is_specialised_for_the_subclass_calls_in_another_file(tmp_path: Path) -> None:
    """sgm's AbstractAutoencoder, used from another file: the base's own hooks call its helpers, and a subclass's
    validation_step calls them too, one with another literal postfix and one from another stage than the base's.
    The rewrite of the base covers every caller in the run: ``val_noisy/loss/rec`` is put, and the validation
    ``loss`` has its own aggregator (the base's calls alone would drop the one and mix the other into training's)."""
    original = _ae_package(tmp_path / "a", '"_noisy"')
    shutil.copytree(original, tmp_path / "b" / "aepkg")
    results = migrate_paths([tmp_path / "b"], RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True))
    assert sorted(Path(r.path).name for r in results if r.changed) == ["base_ae.py"]
    assert not [f for r in results for f in r.findings if f.code.startswith("PM2")]
    migrated = (tmp_path / "b" / "aepkg" / "base_ae.py").read_text()
    assert 'elif postfix == "_noisy":' in migrated and "if self.trainer.training:" in migrated
    _load_ae(tmp_path / "a")
    _load_ae(tmp_path / "b")
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit", "validate")}
    a = record_run(FileModuleFactory(str(original / "user_ae.py"), "UserAE"), workdir=tmp_path / "run-a", **run)
    b = record_run(FileModuleFactory(str(tmp_path / "b" / "aepkg" / "user_ae.py"), "UserAE"),
                   workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)
    assert {"val_noisy/loss/rec", "val_ema/loss/rec", "loss"} <= set(a.final_callback_metrics)


def test_a_subclass_call_in_another_file_the_rewrite_cannot_branch_on_leaves_the_base_helper(tmp_path: Path) -> None:
    """The subclass (another file) passes a postfix held in an attribute: no branch of the base's rewrite can be
    chosen for it, so the helper's call is left (PM205, naming the subclass's hook); the base's other calls migrate."""
    _ae_package(tmp_path, "self.postfix")
    results = migrate_paths([tmp_path], RunOptions(mode=Mode.CHECK, jobs=1, allow_dirty=True))
    findings = [f for r in results for f in r.findings if f.code.startswith("PM2")]
    assert [f.code for f in findings] == ["PM205"]
    assert "UserAE.validation_step" in findings[0].message
