"""shim.metrics.HookValues against Lightning: one mean per name over one call of an epoch-level hook, weighted by
batch_size, put when the hook returns; the same name with other options raises Lightning's own error."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch.utils.data import DataLoader, TensorDataset

from shim import PutMixin
from shim.metrics import HookValues


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(8, 2, generator=generator)), batch_size=4)


class _Base(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader()


class Logged(_Base):
    def on_train_epoch_end(self):
        for index in range(3):
            self.log(f"stat_{index % 2}", self.layer.weight.sum() * index, batch_size=index + 1)
            self.log("peak", float(index), reduce_fx="max", prog_bar=True)
        self.log("stat_0", 7, batch_size=2)


class Put(PutMixin, _Base):
    def on_train_epoch_end(self):
        hook_values = HookValues(self)
        for index in range(3):
            hook_values.update(f"stat_{index % 2}", self.layer.weight.sum() * index, ["callbacks", "loggers"],
                               weight=index + 1)
            hook_values.update("peak", float(index), ["callbacks", "loggers", "progress_bar"], reduce="max")
        hook_values.update("stat_0", 7, ["callbacks", "loggers"], weight=2)
        hook_values.put()


def _fit(model: pl.LightningModule) -> pl.Trainer:
    torch.manual_seed(0)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model)
    return trainer


def test_values_are_averaged_per_name_over_the_hook_call_as_lightning_does():
    torch.manual_seed(1)
    logged = Logged()
    put = Put()
    put.load_state_dict(logged.state_dict())
    expected, got = _fit(logged), _fit(put)
    assert list(got.callback_metrics) == list(expected.callback_metrics)
    for name, value in expected.callback_metrics.items():
        assert torch.equal(got.callback_metrics[name], value), name
        assert got.callback_metrics[name].dtype == value.dtype
    assert got.progress_bar_metrics == expected.progress_bar_metrics


class _TwiceWithOtherOptions(_Base):
    def on_train_epoch_end(self):
        self.log("x", 1.0)
        self.log("x", 2.0, prog_bar=True)


class _PutTwiceWithOtherOptions(PutMixin, _Base):
    def on_train_epoch_end(self):
        hook_values = HookValues(self)
        hook_values.update("x", 1.0, ["callbacks", "loggers"])
        hook_values.update("x", 2.0, ["callbacks", "loggers", "progress_bar"])
        hook_values.put()


def test_one_name_with_other_options_raises_lightnings_error():
    with pytest.raises(MisconfigurationException) as lightning_error:
        _fit(_TwiceWithOtherOptions())
    with pytest.raises(MisconfigurationException) as shim_error:
        _fit(_PutTwiceWithOtherOptions())
    assert str(shim_error.value) == str(lightning_error.value)


def test_outside_a_trainer_the_values_are_kept_as_records():
    module = Put()
    hook_values = HookValues(module)
    hook_values.update("a", torch.tensor(1.0), ["loggers"], weight=1)
    hook_values.update("a", torch.tensor(4.0), ["loggers"], weight=2)
    hook_values.update("b", 5.0, ["callbacks"], reduce="sum")
    hook_values.put()
    assert [(r.name, r.value.item(), sorted(r.destinations)) for r in module.put_records] == [
        ("a", 3.0, ["loggers"]),
        ("b", 5.0, ["callbacks"]),
    ]
    hook_values.put()  # a second put finds nothing left
    assert len(module.put_records) == 2
