"""Equivalence of hand-written pairs under real Lightning: self.log vs put + shim aggregators."""

from __future__ import annotations

import pytest

from shim.testing import assert_same_training, differences, record_run
from tests.lightning_package import pl
from tests.pairs import modules as m

FIT = {"max_epochs": 2, "log_every_n_steps": 1}


def checkpoint_and_stopping(monitor: str, mode: str = "min"):
    def make():
        return [
            pl.callbacks.ModelCheckpoint(monitor=monitor, mode=mode, filename="{epoch}-{" + monitor + ":.4f}"),
            pl.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=0, min_delta=10.0),
        ]

    return make


CASES = {
    "forked-step-epoch+eval-defaults": (m.LogBasic, m.PutBasic, FIT, ("fit", "validate", "test"), None),
    "checkpoint-and-early-stopping": (
        m.LogBasic, m.PutBasic, {"max_epochs": 3}, ("fit",), checkpoint_and_stopping("val_loss"),
    ),
    "checkpoint-on-forked-train-name": (
        m.LogBasic, m.PutBasic, {"max_epochs": 2}, ("fit",), checkpoint_and_stopping("train_loss_epoch"),
    ),
    "eval-steps+reductions+epoch-hooks": (
        m.LogEvalAndHooks, m.PutEvalAndHooks, FIT, ("fit", "validate", "test"), None,
    ),
    "log_every_n_steps=3": (m.LogEvalAndHooks, m.PutEvalAndHooks, {"max_epochs": 2, "log_every_n_steps": 3}, ("fit",), None),
    "accumulate_grad_batches=2": (
        m.LogBasic, m.PutBasic, {"max_epochs": 2, "log_every_n_steps": 1, "accumulate_grad_batches": 2}, ("fit",), None,
    ),
    "val_check_interval=0.5": (
        m.LogEvalAndHooks, m.PutEvalAndHooks, {"max_epochs": 2, "log_every_n_steps": 1, "val_check_interval": 0.5},
        ("fit",), None,
    ),
    "check_val_every_n_epoch=2+limits": (
        m.LogEvalAndHooks, m.PutEvalAndHooks,
        {"max_epochs": 3, "log_every_n_steps": 2, "check_val_every_n_epoch": 2, "limit_train_batches": 3,
         "limit_val_batches": 2}, ("fit",), None,
    ),
    "two-val-dataloaders": (m.LogTwoLoaders, m.PutTwoLoaders, FIT, ("fit", "validate"), None),
    "mixed-log-and-put": (m.LogBasic, m.PutMixed, FIT, ("fit", "test"), None),
    "forked-as-one-put": (m.LogBasic, m.PutBasicAlias, FIT, ("fit", "validate", "test"), None),
    "forked-as-one-put+checkpoint-on-plain-name": (
        m.LogBasic, m.PutBasicAlias, {"max_epochs": 3}, ("fit",), checkpoint_and_stopping("train_loss"),
    ),
    "forked-as-one-put+two-val-dataloaders": (m.LogTwoLoaders, m.PutTwoLoadersAlias, FIT, ("fit", "validate"), None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pair_trains_and_logs_the_same(case, tmp_path):
    original, migrated, trainer_kwargs, stages, callbacks = CASES[case]
    assert_same_training(original, migrated, trainer_kwargs=trainer_kwargs, stages=stages, callbacks=callbacks)


class _TrainOnly(m.Base):
    def training_step(self, batch, batch_idx):
        return {"loss": self.loss(batch)}

    def validation_step(self, batch, batch_idx):
        pass


def test_logging_callback_pair():
    records = [
        record_run(_TrainOnly, trainer_kwargs=FIT, stages=("fit",), callbacks=lambda c=c: [c()])
        for c in (m.LogCallback, m.PutCallback)
    ]
    assert differences(*records) == []
    assert any("cb_agg" in metrics for _, metrics in records[1].logger_calls)


def test_callbacks_per_side():
    """A migrated callback beside its original, one module class: each side gets its own callbacks."""
    original, migrated = assert_same_training(
        _TrainOnly, _TrainOnly, trainer_kwargs=FIT, stages=("fit",),
        original_callbacks=lambda: [m.LogCallback()], migrated_callbacks=lambda: [m.PutCallback()],
    )
    assert any("cb_agg" in metrics for _, metrics in migrated.logger_calls)
    with pytest.raises(AssertionError, match="cb_"):  # one side without the callback: its names are missing
        assert_same_training(
            _TrainOnly, _TrainOnly, trainer_kwargs=FIT, stages=("fit",), callbacks=lambda: [m.LogCallback()],
            migrated_callbacks=lambda: [],
        )


def _key_orders(module_class):
    """``callback_metrics`` and ``progress_bar_metrics`` keys, in order, at each batch and epoch end of a fit."""
    seen = []

    class Probe(pl.Callback):
        def on_train_batch_end(self, trainer, *args):
            seen.append(("batch", list(trainer.callback_metrics), list(trainer.progress_bar_metrics)))

        def on_train_epoch_end(self, trainer, *args):
            seen.append(("epoch", list(trainer.callback_metrics), list(trainer.progress_bar_metrics)))

    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=2, log_every_n_steps=1, logger=False, enable_checkpointing=False,
                         enable_model_summary=False, enable_progress_bar=False, callbacks=[Probe()])
    trainer.fit(module_class())
    return seen, list(trainer.callback_metrics)


def test_forked_put_keeps_lightnings_key_order():
    """Lightning fills callback_metrics with a forked value's plain name before its _step/_epoch name; a put with
    ``callback_alias`` does the same (the progress bar's order too), so callbacks iterating the dict see one order."""
    assert _key_orders(m.PutBasicAlias) == _key_orders(m.LogBasic)
