"""Lightning classes defined in function bodies (test suites): migrated in place like top-level classes, or, when
their base is another class of a function body, reported (PM222) rather than passed over."""

from __future__ import annotations

import textwrap

import libcst as cst

from put_migrate.lightning_classes import ImportMap, lightning_classes, local_classes
from put_migrate.transform import migrate_source


def _migrate(source: str):
    return migrate_source(textwrap.dedent(source), "test_local.py")


def test_class_in_test_function_is_migrated() -> None:
    result = _migrate(
        """
        from lightning.pytorch.demos.boring_classes import BoringModel

        def test_x(tmp_path):
            class TestModel(BoringModel):
                def training_step(self, batch, batch_idx):
                    out = super().training_step(batch, batch_idx)
                    self.log("loss", out["loss"], on_step=False, on_epoch=True)
                    return out
            TestModel()
        """
    )
    assert [f.code for f in result.findings] == ["PM101"]
    assert "class TestModel(PutMixin, BoringModel):" in result.source
    assert "def on_train_epoch_compute(self):" in result.source
    assert result.source.index("from shim import PutMixin") < result.source.index("def test_x")
    cst.parse_module(result.source)


def test_function_local_import_and_nesting() -> None:
    result = _migrate(
        """
        class TestSuite:
            def test_a(self, flag):
                from lightning.pytorch import Callback

                def build():
                    if flag:
                        class CB(Callback):
                            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                                pl_module.log("cb", 1.0, on_step=True, on_epoch=False)
                        return CB
        """
    )
    assert [f.code for f in result.findings] == ["PM103"]
    assert "class CB(PutMixin, Callback):" in result.source


def test_same_names_in_different_functions_are_distinct() -> None:
    source = textwrap.dedent(
        """
        from lightning.pytorch import LightningModule

        class TestModel:
            def training_step(self, batch, batch_idx):
                return batch

        def test_a():
            class TestModel(LightningModule):
                def training_step(self, batch, batch_idx):
                    self.log("a", 1.0)

        def test_b():
            class TestModel(LightningModule):
                def validation_step(self, batch, batch_idx):
                    self.log("b", 2.0)
        """
    )
    module = cst.parse_module(source)
    found = lightning_classes(module, ImportMap.of(module))
    assert [c.name for c in found] == ["TestModel", "TestModel"] and all(c.local for c in found)
    result = migrate_source(source, "test_local.py")
    assert [f.code for f in result.findings] == ["PM101", "PM101"]
    assert "class TestModel:\n" in result.source  # the top-level class is not a Lightning class


def test_subclass_of_module_level_lightning_class() -> None:
    result = _migrate(
        """
        from lightning.pytorch import LightningModule

        class Base(LightningModule):
            def training_step(self, batch, batch_idx):
                self.log("base", 1.0)

        def test_x():
            class Child(Base):
                def validation_step(self, batch, batch_idx):
                    self.log("child", 1.0, on_step=True, on_epoch=False)
        """
    )
    assert [f.code for f in result.findings] == ["PM101", "PM101"]
    assert "class Child(Base):" in result.source  # Base gets PutMixin


def test_subclass_of_function_body_class_is_reported() -> None:
    result = _migrate(
        """
        from lightning.pytorch.demos.boring_classes import BoringModel

        def test_x():
            class A(BoringModel):
                pass

            class B(A):
                def training_step(self, batch, batch_idx):
                    self.log("b", 1.0)
                    return super().training_step(batch, batch_idx)
        """
    )
    assert [(f.code, f.severity.value, f.line) for f in result.findings] == [("PM222", "manual", 10)]
    assert 'self.log("b", 1.0)' in result.source


def test_classes_inside_lightning_hooks_stay_with_their_class() -> None:
    source = textwrap.dedent(
        """
        from lightning.pytorch import LightningModule

        class Outer(LightningModule):
            def training_step(self, batch, batch_idx):
                class Inner(LightningModule):
                    def training_step(self, batch, batch_idx):
                        self.log("inner", 1.0)
                return batch
        """
    )
    module = cst.parse_module(source)
    assert local_classes(module, ImportMap.of(module)) == []


def test_non_lightning_local_class_is_ignored() -> None:
    result = _migrate(
        """
        def test_x():
            class Plain:
                def training_step(self, batch, batch_idx):
                    self.log("plain", 1.0)

                def log(self, *args):
                    pass
        """
    )
    assert result.findings == [] and not result.changed
