"""Where ``PutMixin`` goes in a class hierarchy, and the ``__init__`` a migrated subclass is given
(``render.py``, ``plan/scaffold.py``; docs/design/generated-code.md, decision 14).

Every shape of hierarchy is migrated as a package on disk (in one run, or the subclass first and its base in a
later run) and imported: the method resolution order must be valid, the subclass must keep its signature, its
hyperparameters and its ``state_dict`` keys, and it must train and log as before.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import textwrap
from pathlib import Path

import pytest

from put_migrate.api import RunOptions, migrate_paths
from put_migrate.runner import Mode
from shim import PutMixin
from shim.testing import differences, record_run

HEAD = """\
import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset
"""

# {mixin} is "" or "PutMixin, "; {base_log} is "" or a log call of the base; {init} its __init__ parameters.
BASE = """
DEFAULT_WIDTH = 8


class Base({mixin}pl.LightningModule):
    def __init__(self, {init}):
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(4, hidden)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x).mean(1, keepdim=True), y)
        {base_log}
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self):
        generator = torch.Generator().manual_seed(0)
        data = TensorDataset(torch.randn(12, 4, generator=generator), torch.randn(12, 1, generator=generator))
        return DataLoader(data, batch_size=4)
"""

CHILD = """

class Child({bases}):
    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        self.log("child_loss", loss, on_epoch=True, prog_bar=True)
        return loss
"""

GRANDCHILD = """

class Grandchild(Child):
    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        self.log("grandchild_loss", 2 * loss, on_epoch=True)
        return loss
"""

OTHER = """

class Other:
    def describe(self):
        return "other"
"""

INIT = 'hidden: int = 8, lr=0.1, *, tag: str = "model"'
BASE_LOG = 'self.log("base_loss", loss, on_epoch=True)'


def _package(root: Path, name: str, files: dict[str, str]) -> Path:
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for file, text in files.items():
        (package / f"{file}.py").write_text(text)
    return package


def _base(mixin: str = "", base_log: str = "", init: str = INIT) -> str:
    head = HEAD + ("from shim import PutMixin\n" if mixin else "")
    return head + BASE.format(mixin=mixin, base_log=base_log or "pass", init=init)


def _in_child_file(base_module: str, bases: str = "Base", other: bool = False) -> str:
    imports = f"from .{base_module} import Base" + (", Other" if other else "")
    return f"import torch\n\n{imports}\n" + CHILD.format(bases=bases)


SHAPES = {
    # name: (files, where Child (and Grandchild) live)
    "same_file": ({"model": _base() + CHILD.format(bases="Base")}, "model"),
    "same_file_base_logs": ({"model": _base(base_log=BASE_LOG) + CHILD.format(bases="Base")}, "model"),
    "same_file_grandchild": ({"model": _base() + CHILD.format(bases="Base") + GRANDCHILD}, "model"),
    "same_file_base_has_mixin": ({"model": _base(mixin="PutMixin, ") + CHILD.format(bases="Base")}, "model"),
    "same_file_multiple": ({"model": _base() + OTHER + CHILD.format(bases="Base, Other")}, "model"),
    "other_file": ({"base": _base(), "child": _in_child_file("base")}, "child"),
    "other_file_base_logs": ({"base": _base(base_log=BASE_LOG), "child": _in_child_file("base")}, "child"),
    "other_file_grandchild": (
        {"base": _base(), "child": _in_child_file("base"),
         "grandchild": "import torch\n\nfrom .child import Child\n" + GRANDCHILD},
        "grandchild",
    ),
    "other_file_multiple": (
        {"base": _base() + OTHER, "child": _in_child_file("base", "Base, Other", other=True)}, "child"
    ),
    # A default the subclass's module cannot name: the new __init__ passes everything on.
    "other_file_unreadable_default": (
        {"base": _base(init="hidden=DEFAULT_WIDTH, lr=0.1"), "child": _in_child_file("base")}, "child"
    ),
}


def _import(root: Path, package: str, module: str):
    for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"{package}.{module}")
    finally:
        sys.path.remove(str(root))


def _migrate(path: Path) -> None:
    migrate_paths([path], RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True))


def _compare(tmp_path: Path, name: str, before_module, after_module) -> None:
    """The migrated classes keep their signature, hyperparameters and state_dict keys, and train as before."""
    last = "Grandchild" if hasattr(before_module, "Grandchild") else "Child"
    before, after = getattr(before_module, last), getattr(after_module, last)
    assert issubclass(after, PutMixin)
    assert (PutMixin in before.__mro__) == name.endswith("has_mixin")
    if name.endswith("unreadable_default"):
        assert "*args, **kwargs" in inspect.getsource(after_module)
    else:
        assert str(inspect.signature(after)) == str(inspect.signature(before))
    for args, kwargs in [((), {}), ((16,), {"lr": 0.2})]:
        old, new = before(*args, **kwargs), after(*args, **kwargs)
        assert dict(new.hparams) == dict(old.hparams)
        assert sorted(new.state_dict()) == sorted(old.state_dict())
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit",)}
    a = record_run(before, workdir=tmp_path / "run-a", **run)
    b = record_run(after, workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_hierarchy_shape_migrates_in_one_run(tmp_path: Path, name: str) -> None:
    files, module = SHAPES[name]
    original = _package(tmp_path / "a", f"{name}_a", files)
    migrated = _package(tmp_path / "b", f"{name}_b", files)
    _migrate(migrated)
    texts = {p.stem: p.read_text() for p in migrated.glob("*.py")}
    if name.startswith("same_file"):  # the root gets PutMixin (first); nothing else does
        assert texts["model"].count("PutMixin, pl.LightningModule") == 1
        assert "PutMixin)" not in texts["model"]
    elif name.startswith("other_file"):  # the root is not in the file: PutMixin last
        assert "PutMixin)" in texts["child"] and "(PutMixin," not in texts["child"]
    _compare(tmp_path, name, _import(tmp_path / "a", original.name, module),
             _import(tmp_path / "b", migrated.name, module))


@pytest.mark.parametrize("base_logs", [False, True])
def test_subclass_migrated_first_and_base_in_a_later_run(tmp_path: Path, base_logs: bool) -> None:
    """The subclass's file alone (pre-commit), then the base changed to log and migrated on its own: the
    method resolution order stays valid (PutMixin first on the subclass would make it inconsistent)."""
    files = {"base": _base(base_log=BASE_LOG if base_logs else ""), "child": _in_child_file("base")}
    original = _package(tmp_path / "a", f"later_{base_logs}_a", files)
    migrated = _package(tmp_path / "b", f"later_{base_logs}_b", files)
    _migrate(migrated / "child.py")
    assert "class Child(Base, PutMixin):" in (migrated / "child.py").read_text()
    _migrate(migrated / "base.py")
    assert ("class Base(PutMixin, pl.LightningModule):" in (migrated / "base.py").read_text()) == base_logs
    _compare(tmp_path, "later", _import(tmp_path / "a", original.name, "child"),
             _import(tmp_path / "b", migrated.name, "child"))


def test_putmixin_first_on_a_subclass_is_inconsistent_once_its_base_has_it() -> None:
    """Why a subclass never gets PutMixin first: its base gets PutMixin first when it is migrated."""

    class Base(PutMixin):
        pass

    with pytest.raises(TypeError, match="consistent method resolution"):
        type("Child", (PutMixin, Base), {})
    assert type("Child", (Base, PutMixin), {}).__mro__[1:3] == (Base, PutMixin)


def test_new_init_repeats_positional_only_keyword_only_and_star_parameters(tmp_path: Path) -> None:
    base = HEAD + textwrap.dedent('''
        class Base(pl.LightningModule):
            def __init__(self, size, /, scale: float = 1.0, *layers, name="b", **options):
                super().__init__()
    ''')
    child = "from .base import Base\n" + textwrap.dedent('''

        class Child(Base):
            def validation_step(self, batch, batch_idx):
                self.log("val_loss", batch.sum())
    ''')
    package = _package(tmp_path, "signatures", {"base": base, "child": child})
    _migrate(package)
    text = (package / "child.py").read_text()
    assert 'def __init__(self, size, /, scale: float = 1.0, *layers, name="b", **options):' in text
    assert "super().__init__(size, scale, *layers, name=name, **options)" in text
