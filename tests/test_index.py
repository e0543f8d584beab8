"""The repository index (``put_migrate/index.py``): Lightning classes across files, then the rewrite with it."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_distinct_files_get_distinct_module_names() -> None:
    """A name no import can use (``x.in.py``, ``lightning-bolts/``, a notebook) stays in the key, escaped: the
    fixtures of one folder, or the same layout in two repositories, are not one module."""
    paths = ["fixtures/inheritance/x.in.py", "fixtures/inheritance/y.in.py", "fixtures/inheritance/x-in.py",
             "fixtures/inheritance/x%2Ein.py", "fixtures/inheritance/__init__.py", "fixtures/inheritance/x/in.py",
             "repo-a/src/train.py", "repo-b/src/train.py", "v1.2/train.py", "v1/2/train.py", "nb.ipynb", "nb.py",
             "nb.ipynb%.py", "script"]
    keys = [module_name(Path(p)) for p in paths]
    assert len(set(keys)) == len(keys)
    assert module_name(Path("fixtures/inheritance/x.in.py")) == "fixtures.inheritance.x%2Ein"
    assert module_name(Path("lightning-bolts/src/pl_bolts/models.py")) == "lightning-bolts.src.pl_bolts.models"


A_IN = """\
import lightning.pytorch as pl


class Base(pl.LightningModule):
    def on_train_epoch_end(self):
        self.log("loss", 1.0)


class Model(Base):
    def training_step(self, batch, batch_idx):
        self.log("loss", 2.0, on_step=False, on_epoch=True)
        return batch.sum()
"""

B_IN = """\
import lightning.pytorch as pl


class Model(pl.LightningModule):
    def training_step(self, batch, batch_idx):
        self.log("other", 1.0)
        return batch.sum()
"""


@pytest.mark.parametrize("order", [("a.in.py", "b.in.py"), ("b.in.py", "a.in.py")])
def test_files_of_one_folder_that_no_import_names_keep_their_own_classes(tmp_path: Path, order) -> None:
    """``a.in.py`` and ``b.in.py`` both define ``Model``: each file's class is its own, in any run and order (the
    ancestor's 'loss' of a.in.py's Model is left, PM214)."""
    root = _tree(tmp_path, {"pkg/a.in.py": A_IN, "pkg/b.in.py": B_IN})
    options = RunOptions(mode=Mode.CHECK, jobs=1, allow_dirty=True)
    alone = migrate_paths([root / "pkg" / "a.in.py"], options)
    together = migrate_paths([root / "pkg" / name for name in order], options)
    codes = {Path(r.path).name: [f.code for f in r.findings if f.code.startswith("PM2")] for r in together}
    assert codes == {"a.in.py": ["PM214"], "b.in.py": []}
    assert [f.code for f in alone[0].findings if f.code.startswith("PM2")] == ["PM214"]


def test_index_finds_subclasses_across_files(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/model.py": MODEL})
    index = build_index(sorted(root.rglob("*.py")))
    model = index.find("pkg.model.Model")
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
    # Without the base class's file the class is not known to be a Lightning class: nothing changes, but every log
    # call in a hook is reported (PM222), never passed over in silence.
    result = migrate_source(MODEL, str(tmp_path / "model.py"))
    assert result.source == MODEL
    assert [(f.code, f.line) for f in result.findings] == [("PM222", 9), ("PM222", 14), ("PM222", 15)]
    assert "`Base`" in result.findings[0].message


def test_subclass_of_migrated_base_gets_no_second_mixin(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": MIGRATED_BASE, "app/child.py": CHILD_OF_MIGRATED})
    results = migrate_paths([root], RunOptions(mode=Mode.DIFF, jobs=1))
    child = next(r for r in results if r.path.endswith("child.py"))
    assert child.changed
    assert "class Child(Base):" in child.diff.decode() and "PutMixin" not in child.diff.decode()


def test_a_migrated_class_puts_the_callback_alias_of_a_forked_value_too(tmp_path: Path) -> None:
    migrated = MIGRATED_BASE.replace("    pass\n", (
        "    def training_step(self, batch, batch_idx):\n"
        '        self.put("loss_step", batch.sum(), ["callbacks", "loggers"], callback_alias="loss")\n'
    ))
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": migrated})
    base = build_index(sorted(root.rglob("*.py"))).find("pkg.base.Base")
    assert {name for method, name in base.logged if method == "*"} == {"loss_step", "loss"}

def test_pool_gets_the_index(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE}
    for n in range(10):
        files[f"pkg/model_{n}.py"] = MODEL.replace("class Model", f"class Model{n}")
    root = _tree(tmp_path, files)
    results = migrate_paths([root], RunOptions(mode=Mode.CHECK, jobs=2))
    assert sum(r.changed for r in results) == 10


@pytest.mark.parametrize("mode", [Mode.CHECK, Mode.DIFF])
def test_workers_that_read_the_files_find_bases_in_other_files(tmp_path: Path, mode: Mode) -> None:
    """A large check/diff run: the workers read the files, and the index reads the base's module from disk."""
    from put_migrate import api

    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/model.py": MODEL}
    files.update({f"pkg/plain_{n}.py": f"x = {n}\n" for n in range(api.WORKERS_READ_FROM)})
    root = _tree(tmp_path, files)
    results = migrate_paths([root], RunOptions(mode=mode, jobs=2))
    assert len(results) >= api.WORKERS_READ_FROM
    (model,) = [r for r in results if r.path.endswith("pkg/model.py")]
    assert model.changed and sorted(f.code for f in model.findings) == ["PM101", "PM101", "PM220"]
    assert [r.path for r in results if r.changed] == [model.path]


# --- re-exports through a package (``from pkg import Base``) ---------------------------------------------------

REEXPORT_BASE = """\
import lightning.pytorch as pl


class Base(pl.LightningModule):
    def configure_optimizers(self):
        return None
"""

REEXPORT_MODEL = """\
from pkg import Base


class Model(Base):
    def training_step(self, batch, batch_idx):
        loss = batch.sum()
        self.log("loss", loss)
        return loss
"""


def _reexport_tree(tmp_path: Path, init: str, extra: dict[str, str] | None = None) -> Path:
    return _tree(tmp_path, {"pkg/__init__.py": init, "pkg/base_module.py": REEXPORT_BASE,
                            "pkg/model.py": REEXPORT_MODEL, **(extra or {})})




@pytest.mark.parametrize(
    "init",
    [
        "from pkg.base_module import Base\n",
        "from .base_module import Base\n",
        "from .base_module import Base as Base\n",
        "from .base_module import *\n",
        "from .base_module import *\n__all__ = ['Base']\n",
    ],
)
def test_base_reexported_by_package_init(tmp_path: Path, init: str) -> None:
    root = _reexport_tree(tmp_path, init)
    results = migrate_paths([root / "pkg"], RunOptions(mode=Mode.CHECK, jobs=1))
    model = next(r for r in results if r.path.endswith("model.py"))
    assert model.changed
    assert [f.code for f in model.findings] == ["PM101"]


def test_star_reexport_honours_all(tmp_path: Path) -> None:
    # ``__all__`` of the star-imported module does not list Base: ``pkg.Base`` is not that class.
    base = REEXPORT_BASE.replace("import lightning.pytorch as pl\n", "import lightning.pytorch as pl\n__all__ = []\n")
    root = _tree(tmp_path, {"pkg/__init__.py": "from .base_module import *\n", "pkg/base_module.py": base,
                            "pkg/model.py": REEXPORT_MODEL})
    results = migrate_paths([root / "pkg"], RunOptions(mode=Mode.CHECK, jobs=1))
    model = next(r for r in results if r.path.endswith("model.py"))
    assert not model.changed and [f.code for f in model.findings] == ["PM222"]


def test_reexport_through_a_plain_module_and_an_alias(tmp_path: Path) -> None:
    model = REEXPORT_MODEL.replace("from pkg import Base\n", "from pkg.models import Base as B\n").replace(
        "class Model(Base)", "class Model(B)"
    )
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base_module.py": REEXPORT_BASE,
                            "pkg/models.py": "from pkg.base_module import Base\n", "pkg/model.py": model})
    results = migrate_paths([root / "pkg"], RunOptions(mode=Mode.CHECK, jobs=1))
    found = next(r for r in results if r.path.endswith("model.py"))
    assert found.changed and [f.code for f in found.findings] == ["PM101"]


def test_index_resolves_reexports(tmp_path: Path) -> None:
    root = _reexport_tree(tmp_path, "from .base_module import Base\n")
    index = build_index(sorted((root / "pkg").rglob("*.py")))
    model = index.find("pkg.model.Model")
    assert index.lightning_kind(model) == ("module", "lightning.pytorch")


# --- PM222: log calls of classes whose bases cannot be resolved ------------------------------------------------

UNRESOLVED = """\
import torch
from extlib import ExternalBase
from .util import Helper


class Unknown(ExternalBase):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())

    def helper(self):
        self.log("not_a_hook", 1)


class Derived(Unknown):
    def on_validation_epoch_end(self):
        self.log_dict({"a": 1.0})


class FromProject(Helper):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())


class Plain(torch.nn.Module):
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())


class NoBase:
    def training_step(self, batch, batch_idx):
        self.log("loss", batch.sum())
"""


def test_unresolved_base_is_reported_in_a_run(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/util.py": "class Helper:\n    pass\n",
                            "pkg/other.py": UNRESOLVED})
    results = migrate_paths([root / "pkg"], RunOptions(mode=Mode.CHECK, jobs=1))
    other = next(r for r in results if r.path.endswith("other.py"))
    assert not other.changed
    assert [(f.code, f.line) for f in other.findings] == [("PM222", 8), ("PM222", 16)]
    assert "`Unknown.training_step`: its base `ExternalBase` could not be resolved" in other.findings[0].message
    assert "`Derived.on_validation_epoch_end`: its base `Unknown`" in other.findings[1].message


def test_unresolved_base_alone_reports_relative_imports_too(tmp_path: Path) -> None:
    result = migrate_source(UNRESOLVED, str(tmp_path / "pkg" / "other.py"))
    assert result.source == UNRESOLVED
    assert [(f.code, f.line) for f in result.findings] == [("PM222", 8), ("PM222", 16), ("PM222", 21)]


def test_unresolved_base_fails_check_via_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from put_migrate.cli import main

    root = _reexport_tree(tmp_path, "from .base_module import Base\n", {"pkg/other.py": UNRESOLVED})
    runner = CliRunner()
    result = runner.invoke(main, ["--check", str(root / "pkg")])
    assert result.exit_code == 1
    assert "PM222" in result.output
    assert "would rewrite" in result.output and "model.py" in result.output


DEMO_BASE = '''
from lightning.pytorch.demos import BoringModel


class Base(BoringModel):
    def helper(self):
        return 1
'''

DEMO_CHILD = '''
from pkg.base import Base


class Child(Base):
    def training_step(self, batch, batch_idx):
        loss = self.loss(self.layer(batch))
        self.log("layer", self.layer.weight.sum(), on_step=False, on_epoch=True)
        return loss
'''


def test_lightning_demo_base_across_files(tmp_path: Path) -> None:
    # BoringModel is Lightning's own LightningModule: a project class derived from it is one, and so are its
    # subclasses; BoringModel's `layer` is a known attribute (no PM220) that no aggregator may shadow.
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": DEMO_BASE, "pkg/child.py": DEMO_CHILD})
    index = build_index(sorted(root.rglob("*.py")))
    child = index.find("pkg.child.Child")
    assert index.lightning_kind(child) == ("module", "lightning.pytorch")
    results = migrate_paths([root], RunOptions(mode=Mode.DIFF, jobs=1))
    result = next(r for r in results if r.path.endswith("child.py"))
    assert result.changed and [f.code for f in result.findings] == ["PM101"], result
    diff = result.diff.decode()
    assert "+        self.layer_mean = Mean()" in diff
    assert "+        self.layer_mean.update(\n+            self.layer.weight.sum(), weight=extract_batch_size(batch)\n" in diff


@pytest.mark.parametrize(
    ("imports", "base"),
    [
        ("from lightning.pytorch.demos.boring_classes import BoringModel", "BoringModel"),
        ("from lightning.pytorch.demos import BoringModel", "BoringModel"),
        ("from pytorch_lightning.demos.boring_classes import BoringModel", "BoringModel"),
        ("import lightning.pytorch as pl", "pl.demos.boring_classes.BoringModel"),
        ("import lightning as L", "L.pytorch.demos.BoringModel"),
        ("from lightning.pytorch.demos.boring_classes import DemoModel", "DemoModel"),
        ("from pytorch_lightning.demos import DemoModel as Demo", "Demo"),
    ],
)
def test_lightning_demo_classes_are_modules(tmp_path: Path, imports: str, base: str) -> None:
    source = f'''{imports}


class Model({base}):
    def training_step(self, batch, batch_idx):
        loss = batch.sum()
        self.log("l1", loss)
        return loss
'''
    result = migrate_source(source, str(tmp_path / "model.py"))
    assert [f.code for f in result.findings] == ["PM101"], result.findings
    assert f"class Model(PutMixin, {base}):" in result.source
    assert 'self.put("l1", loss, ["callbacks", "loggers"])' in result.source


def test_the_index_reads_only_the_modules_queries_name(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/model.py": MODEL}
    files.update({f"pkg/other_{n}.py": f"import torch\n\n\nclass Other{n}(torch.nn.Module):\n    pass\n"
                  for n in range(5)})
    root = _tree(tmp_path, files)
    index = build_index(sorted(root.rglob("*.py")))
    assert index.classes == {}  # nothing is read up front
    model = index.find("pkg.model.Model")
    assert index.lightning_kind(model) == ("module", "lightning.pytorch")
    read = {key.rsplit(".", 1)[1] for key in index.module_classes}
    assert read == {"model", "base"}, read
    assert all(f"pkg.other_{n}" in {k.split(".", len(k.split(".")) - 2)[-1] for k in index.unread} for n in range(5))


def test_the_index_sees_the_texts_of_the_start_of_the_run(tmp_path: Path) -> None:
    """A worker that rewrites one file must not see another's new text: the index reads the texts it was given."""
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "pkg/model.py": MODEL})
    files = sorted(root.rglob("*.py"))
    index = build_index(files, {path: path.read_text() for path in files})
    (root / "pkg" / "base.py").write_text("class Base:\n    pass\n")  # as if rewritten meanwhile
    assert index.lightning_kind(index.find("pkg.model.Model")) == ("module", "lightning.pytorch")


def test_an_imported_alias_of_a_project_base_is_followed(tmp_path: Path) -> None:
    child = "from pkg.base import Base as ProjectBase\n\n\nclass Child(ProjectBase):\n    pass\n"
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/base.py": BASE, "app/child.py": child})
    index = build_index(sorted(root.rglob("*.py")))
    found = index.find("app.child.Child")
    assert index.lightning_kind(found) is not None


def test_a_class_of_an_unread_file_is_not_a_lightning_class_with_the_same_tail(tmp_path: Path) -> None:
    """``pkg.utils.summary.Summary`` (no Lightning base) is not ``pkg.callbacks.summary.Summary``."""
    callback = "import lightning.pytorch as pl\n\n\nclass Summary(pl.Callback):\n    pass\n"
    plain = "class Summary:\n    pass\n"
    user = "from pkg.utils.summary import Summary\n\n\nclass Deep(Summary):\n    def on_fit_start(self, trainer, pl_module):\n        pl_module.log('a', 1.0)\n"
    root = _tree(tmp_path, {"pkg/__init__.py": "", "pkg/callbacks/summary.py": callback, "pkg/utils/summary.py": plain,
                            "pkg/deep.py": user})
    index = build_index(sorted(root.rglob("*.py")))
    assert index.find("pkg.callbacks.summary.Summary") is not None
    plain_class = index.find("pkg.utils.summary.Summary")
    assert plain_class is not None and plain_class.key.endswith("utils.summary.Summary")
    assert index.lightning_kind(plain_class) is None
    result = migrate_source(user, str(root / "pkg" / "deep.py"), index=index)
    assert result.source == user and result.findings == []


# A run given some files only (pre-commit passes the staged ones): the modules their imports name are read from
# disk, from the folders of the run's files and those above them up to the repository root.
CHILD_LOGS = "\n\nclass Child(Base):\n    def validation_step(self, batch, batch_idx):\n        self.log('val', 1.0)\n"


@pytest.mark.parametrize(
    ("files", "child", "imports"),
    [
        ({"base.py": BASE}, "child.py", "from base import Base"),  # a script beside its base
        ({"pkg/__init__.py": "", "pkg/base.py": BASE}, "app/child.py", "from pkg.base import Base"),
        ({"pkg/__init__.py": "", "pkg/base.py": BASE}, "pkg/child.py", "from .base import Base"),
        ({"src/pkg/__init__.py": "", "src/pkg/base.py": BASE}, "tests/child.py", "from pkg.base import Base"),
        ({"pkg/__init__.py": "from .base import Base\n", "pkg/base.py": BASE}, "app/child.py", "from pkg import Base"),
        ({"pkg/__init__.py": "", "pkg/base.py": BASE}, "app/child.py", "import pkg.base as b\nBase = b.Base"),
        # folders no import can name, in the module keys the relative import is made dotted from
        ({"my-repo/pkg/__init__.py": "", "my-repo/pkg/base.py": BASE}, "my-repo/pkg/child.py",
         "from .base import Base"),
        ({"v1.2/pkg/__init__.py": "", "v1.2/pkg/base.py": BASE}, "v1.2/pkg/child.py", "from .base import Base"),
        ({"pkg/base.py": BASE}, "pkg/child.in.py", "from .base import Base"),
    ],
    ids=["script", "package", "relative", "src-layout", "reexport", "module-import", "dashed-folder", "dotted-folder",
         "dotted-file"],
)
def test_a_base_outside_the_run_is_read_from_disk(tmp_path: Path, files: dict[str, str], child: str, imports: str) -> None:
    if imports.endswith("b.Base"):  # ``class Child(b.Base)``
        imports, child_text = imports.partition("\n")[0], CHILD_LOGS.replace("(Base)", "(b.Base)")
    else:
        child_text = CHILD_LOGS
    root = _tree(tmp_path, {"pyproject.toml": "", **files, child: imports + "\n" + child_text})
    index = build_index([root / child])  # only the subclass's file is named
    found = index.find(f"{module_name(root / child)}.Child")
    assert found is not None and index.lightning_kind(found) == ("module", "lightning.pytorch")
    assert [a.key.rpartition(".")[2] for a in index.ancestors(found)] == ["Base"]


def test_modules_are_not_looked_for_above_the_repository_root(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"base.py": BASE, "project/pyproject.toml": "",
                            "project/child.py": "from base import Base\n" + CHILD_LOGS})
    index = build_index([root / "project" / "child.py"])
    found = index.find(f"{module_name(root / 'project' / 'child.py')}.Child")
    assert found is not None and index.lightning_kind(found) is None and index.ancestors(found) == []


def test_a_run_of_the_subclass_alone_migrates_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path, {"pyproject.toml": "", "base.py": BASE, "child.py": "from base import Base\n" + CHILD_LOGS})
    monkeypatch.chdir(root)
    (result,) = migrate_paths(["child.py"], RunOptions(mode=Mode.CHECK, jobs=1))
    assert result.changed and [f.code for f in result.findings] == ["PM101"], result.findings


def test_lightning_kind_reads_no_module_that_cannot_change_its_answer(tmp_path, monkeypatch):
    """The nearest Lightning base decides: nothing above it is read; nor is a package that holds no Lightning class
    (torch's Module, a file of some hundred kilobytes, read for every non-Lightning class that logs)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "base.py").write_text(
        "import lightning.pytorch as pl\nimport torch\n\n\nclass Base(pl.LightningModule):\n    pass\n\n\n"
        "class Helper(torch.nn.Module):\n    pass\n"
    )
    (tmp_path / "pkg" / "model.py").write_text("from pkg.base import Base, Helper\n\n\nclass M(Base):\n    pass\n\n\n"
                                              "class H(Helper):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    index = build_index(["pkg/__init__.py", "pkg/base.py", "pkg/model.py"])
    index.find("pkg.model.M")
    asked = []
    find = index.find
    monkeypatch.setattr(index, "find", lambda dotted: asked.append(dotted) or find(dotted))
    assert index.lightning_kind(index.classes["pkg.model.M"]) == ("module", "lightning.pytorch")
    assert asked == ["pkg.base.Base"]  # not lightning.pytorch.LightningModule, nor what is above it
    asked.clear()
    assert index.lightning_kind(index.classes["pkg.model.H"]) is None
    assert asked == ["pkg.base.Helper"]  # not torch.nn.Module
