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


def _load_child(root: Path):
    for name in [n for n in sys.modules if n == "hierpkg" or n.startswith("hierpkg.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return load_file(root / "hierpkg" / "child.py")
    finally:
        sys.path.remove(str(root))


def test_base_and_subclass_in_two_files_log_one_name_as_before(tmp_path: Path) -> None:
    original = _split(tmp_path / "a")
    shutil.copytree(original, tmp_path / "b" / "hierpkg")
    results = migrate_paths([tmp_path / "b"], RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True))
    assert sorted(Path(r.path).name for r in results if r.changed) == ["base.py", "child.py"]
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
