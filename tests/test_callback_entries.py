"""callback_entries: the Callback hooks under which a module method that is no hook runs, or why they are unknown."""

from __future__ import annotations

import textwrap

from put_migrate.callback_entries import callback_hooks

_CALLBACK = "from lightning.pytorch.callbacks import Callback\n\n"


def _hooks(text: str, method: str = "log_images", callbacks=("ImageLogger", "Other")):
    files = [("pkg/callbacks.py", "pkg.callbacks", _CALLBACK + textwrap.dedent(text))]
    return callback_hooks(files, method, lambda key, name: name in callbacks)


def test_hooks_calling_on_their_module_directly_and_through_a_helper():
    assert _hooks("""
        class ImageLogger(Callback):
            def log_img(self, pl_module, batch, split):
                pl_module.log_images(batch, split=split)

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                self.log_img(pl_module, batch, "train")

            def on_validation_batch_end(self, trainer, module, outputs, batch, batch_idx, dataloader_idx=0):
                self.log_img(pl_module=module, batch=batch, split="val")

            def on_after_backward(self, trainer, pl_module):
                pl_module.log_images(None)
        """) == ("on_after_backward", "on_train_batch_end", "on_validation_batch_end")


def test_an_override_handing_on_to_its_base_adds_no_caller():
    assert _hooks("""
        class Model:
            def log_images(self, batch):
                return super().log_images(batch)

        class ImageLogger(Callback):
            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                pl_module.log_images(batch)
        """) == ("on_train_batch_end",)


def test_nothing_calls_it():
    assert _hooks("class ImageLogger(Callback):\n    pass\n") == ""


def test_a_call_outside_a_callback_leaves_the_hooks_unknown():
    why = _hooks("""
        class ImageLogger(Callback):
            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                pl_module.log_images(batch)

        def preview(model, batch):
            return model.log_images(batch)
        """)
    assert why == "`model.log_images(...)` at pkg/callbacks.py:9 is not a Callback's call on its module"


def test_other_classes_calling_it_is_no_news_without_a_callback():
    assert _hooks("""
        class Child:
            def training_step(self, batch, batch_idx):
                self.log_images(batch)
        """) == ""


def test_a_call_on_another_object_than_the_hooks_module():
    why = _hooks("""
        class ImageLogger(Callback):
            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                trainer.lightning_module.log_images(batch)
                pl_module.log_images(batch)
        """)
    assert why.endswith("is not a Callback's call on its module")


def test_a_helper_reached_otherwise_or_given_something_else():
    used = _hooks("""
        class ImageLogger(Callback):
            def log_img(self, pl_module):
                pl_module.log_images(None)

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                self.log_img(pl_module)

            def setup(self, trainer, pl_module, stage):
                trainer.strategy.hooks.append(self.log_img)
        """)
    assert used.endswith("`self.log_img` is used in `setup`, which is no Callback hook")
    other = _hooks("""
        class ImageLogger(Callback):
            def log_img(self, pl_module):
                pl_module.log_images(None)

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                self.log_img(trainer.lightning_module)
        """)
    assert other.endswith("`on_train_batch_end` does not pass its module to `log_img`")


def test_a_call_in_a_nested_function_of_a_hook():
    why = _hooks("""
        class ImageLogger(Callback):
            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                def later():
                    pl_module.log_images(batch)
                trainer.strategy.barrier = later
        """)
    assert why.endswith("is in a nested function")


def test_a_module_parameter_rebound_in_the_hook():
    why = _hooks("""
        class ImageLogger(Callback):
            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
                pl_module = self.other
                pl_module.log_images(batch)
        """)
    assert why.endswith("is not called on the hook's module")


_MODULE = '''
import lightning.pytorch as pl


class Classifier(pl.LightningModule):
    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def log_images(self, batch):
        self.log("image_err", batch[0].abs().mean(), on_step=True, on_epoch=False)
        return {}
'''

_LOGGER = '''
from lightning.pytorch.callbacks import Callback


class ImageLogger(Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        pl_module.log_images(batch)
'''


def test_a_callback_of_another_file_of_the_run_is_found_and_a_file_alone_keeps_the_call(tmp_path):
    from put_migrate.index import build_index
    from put_migrate.rules import Severity
    from put_migrate.transform import migrate_source

    (tmp_path / "model.py").write_text(_MODULE)
    (tmp_path / "main.py").write_text(_LOGGER)
    files = [tmp_path / "model.py", tmp_path / "main.py"]
    migrated = migrate_source(_MODULE, str(files[0]), index=build_index(files))
    assert 'self.put("image_err", batch[0].abs().mean(), ["callbacks", "loggers"])' in migrated.source
    assert not [f for f in migrated.findings if f.severity is Severity.MANUAL]
    alone = migrate_source(_MODULE, str(files[0]))
    assert [f.code for f in alone.findings] == ["PM205"] and not alone.changed


def test_epoch_level_hooks_are_not_followed():
    why = _hooks("""
        class ImageLogger(Callback):
            def on_validation_epoch_end(self, trainer, pl_module):
                pl_module.log_images(None)
        """)
    assert why.endswith("`on_validation_epoch_end` is not a Callback batch hook (calls from epoch-level hooks are not"
                        " followed)")
