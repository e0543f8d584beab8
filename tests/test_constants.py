"""Module string constants (``put_migrate/constants.py``, ``analyze/constants.py``): what a module defines once and
never changes, and a helper's keys named by one imported from another module of the project (scvi-tools'
``METRIC_KEYS``), migrated and trained side by side."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

from put_migrate.api import RunOptions, migrate_paths
from put_migrate.constants import read_constants
from put_migrate.resolve import import_map
from put_migrate.runner import Mode
from shim.testing import FileModuleFactory, differences, load_file, record_run

CORPUS_MODULE = Path(__file__).resolve().parent.parent / "fixtures" / "corpus" / "helper_constant_keys.py"


def _constants(text: str) -> dict[str, dict[str, str]]:
    tree = ast.parse(text)
    found = read_constants(tree, text, import_map(tree.body, text))
    return {name: dict(fields) for name, fields in found.values}


def test_a_named_tuple_built_with_its_defaults_holds_its_string_fields() -> None:
    text = (
        "from typing import NamedTuple\n\n"
        "class _Keys(NamedTuple):\n    A: str = 'a'\n    N: int = 1\n    B: str = 'b'\n\n"
        "KEYS = _Keys()\nOTHER = _Keys(A='x')\n"
    )
    assert _constants(text) == {"KEYS": {"A": "a", "B": "b"}}


def test_what_may_hold_another_string_is_no_constant() -> None:
    named_tuple = "from typing import NamedTuple\n\nclass _Keys(NamedTuple):\n    A: str = 'a'\n\n"
    assert _constants(named_tuple + "KEYS = _Keys()\nKEYS = _Keys()\n") == {}  # rebound
    assert _constants(named_tuple + "KEYS = _Keys()\ndef f():\n    global KEYS\n    KEYS = None\n") == {}
    assert _constants(named_tuple.replace("from typing import NamedTuple\n", "") + "KEYS = _Keys()\n") == {}
    no_default = "from typing import NamedTuple\n\nclass _Keys(NamedTuple):\n    A: str\n\nKEYS = _Keys()\n"
    assert _constants(no_default) == {}  # _Keys() raises
    assert _constants("class Keys:\n    A = 'a'\n    B = 'b'\n    B = 'c'\n\nKeys.A = 'x'\n") == {}
    assert _constants("class Keys(Base):\n    A = 'a'\n") == {}
    assert _constants("class Keys:\n    A = 'a'\n    C = 1\n    def f(self):\n        return 1\n") == {
        "Keys": {"A": "a"}
    }


def _split(tmp_path: Path, reexported: bool) -> Path:
    """The corpus module as a package: ``keys.py`` (the constants), ``plan.py`` (the modules, importing them from
    ``keys`` or, ``reexported``, from the package's ``__init__.py``)."""
    text = CORPUS_MODULE.read_text()
    head, rest = text.split("\nclass _METRIC_KEYS_NT(NamedTuple):", 1)
    constants, plans = rest.split("\nMETRIC_KEYS = _METRIC_KEYS_NT()\n", 1)
    package = tmp_path / "keyspkg"
    package.mkdir(parents=True)
    keys = "from typing import NamedTuple\n\n\nclass _METRIC_KEYS_NT(NamedTuple):" + constants
    (package / "keys.py").write_text(keys + "\nMETRIC_KEYS = _METRIC_KEYS_NT()\n")
    (package / "__init__.py").write_text("from keyspkg.keys import METRIC_KEYS\n" if reexported else "")
    source = "keyspkg" if reexported else "keyspkg.keys"
    (package / "plan.py").write_text(head + f"\nfrom {source} import METRIC_KEYS\n" + plans)
    return package


def _load(root: Path):
    for name in [n for n in sys.modules if n == "keyspkg" or n.startswith("keyspkg.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return load_file(root / "keyspkg" / "plan.py")
    finally:
        sys.path.remove(str(root))


def test_keys_named_by_another_modules_constant_are_literal_and_train_as_before(tmp_path: Path) -> None:
    for reexported in (False, True):
        original = _split(tmp_path / f"a{reexported}", reexported)
        target = tmp_path / f"b{reexported}"
        shutil.copytree(original, target / original.name)
        results = migrate_paths([target], RunOptions(mode=Mode.WRITE, jobs=1, allow_dirty=True))
        assert sorted(Path(r.path).name for r in results if r.changed) == ["plan.py"]
        assert not [f.format() for r in results for f in r.findings if f.severity.value == "manual"]
        migrated = (target / "keyspkg" / "plan.py").read_text()
        assert 'if key == "classification_loss":' in migrated and "self.train_accuracy = Mean()" in migrated
    _load(tmp_path / "aFalse")
    run = {"trainer_kwargs": {"max_epochs": 2, "log_every_n_steps": 1}, "stages": ("fit",)}
    a = record_run(FileModuleFactory(str(tmp_path / "aFalse" / "keyspkg" / "plan.py"), "SemiSupervisedTrainingPlan"),
                   workdir=tmp_path / "run-a", **run)
    _load(tmp_path / "bFalse")
    b = record_run(FileModuleFactory(str(tmp_path / "bFalse" / "keyspkg" / "plan.py"), "SemiSupervisedTrainingPlan"),
                   workdir=tmp_path / "run-b", **run)
    assert not differences(a, b)
    assert any("validation_accuracy" in metrics for _, metrics, _ in a.snapshots)


def test_a_module_key_two_files_share_knows_no_constant() -> None:
    from put_migrate.index import RepositoryIndex, index_source

    keys = "from typing import NamedTuple\n\nclass _Keys(NamedTuple):\n    A: str = '{}'\n\nKEYS = _Keys()\n"
    index = RepositoryIndex()
    index_source(index, keys.format("a"), Path("pkg.py"))  # both files' module key is "pkg", as for Python
    index_source(index, keys.format("a"), Path("pkg.py"))  # the same file read again: its newer text
    assert index.module_constants["pkg"].field("KEYS", "A") == "a"
    index_source(index, keys.format("b"), Path("pkg/__init__.py"))
    assert index.module_constants["pkg"].ambiguous and index.module_constants["pkg"].field("KEYS", "A") is None


def test_files_no_import_names_keep_their_own_constants() -> None:
    from put_migrate.index import RepositoryIndex, index_source, module_name

    keys = "from typing import NamedTuple\n\nclass _Keys(NamedTuple):\n    A: str = '{}'\n\nKEYS = _Keys()\n"
    index = RepositoryIndex()
    index_source(index, keys.format("a"), Path("pkg/x.in.py"))
    index_source(index, keys.format("b"), Path("pkg/y.in.py"))
    for name, value in (("x.in.py", "a"), ("y.in.py", "b")):
        assert index.module_constants[module_name(Path("pkg") / name)].field("KEYS", "A") == value
