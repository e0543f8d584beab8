"""shim.hook_scope.hook_value against Lightning: one mean per name over one call of an epoch-level hook, across the
methods the hook runs (a base class's hook calling an override once per dataloader), computed where Lightning
extracts its metrics (so a read inside the hook sees the mean so far) and started afresh with the next call."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch.utils.data import DataLoader, TensorDataset

from shim import PutMixin
from shim.hook_scope import hook_value


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(8, 2, generator=generator)), batch_size=4)


class _Base(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.seen: list[dict[str, float]] = []

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return _loader()

    def on_train_epoch_end(self):
        for index in range(3):
            self.multi_epoch_end(index)
            # A read inside the hook: Lightning computes the means logged so far.
            self.seen.append({k: v.item() for k, v in self.trainer.callback_metrics.items()})

    def multi_epoch_end(self, index):
        pass


class Logged(_Base):
    def multi_epoch_end(self, index):
        value = self.layer.weight.sum() * (index + self.current_epoch)
        self.log(f"stat_{index % 2}", value, batch_size=index + 1)
        self.log("peak", float(index + self.current_epoch), reduce_fx="max", prog_bar=True)
        self.log("count", torch.tensor(index), reduce_fx="sum")


class Put(PutMixin, _Base):
    def multi_epoch_end(self, index):
        value = self.layer.weight.sum() * (index + self.current_epoch)
        hook_value(self, f"stat_{index % 2}", value, ["callbacks", "loggers"], weight=index + 1)
        hook_value(self, "peak", float(index + self.current_epoch), ["callbacks", "loggers", "progress_bar"],
                   reduce="max")
        hook_value(self, "count", torch.tensor(index), ["callbacks", "loggers"], reduce="sum")


def _fit(model: pl.LightningModule) -> pl.Trainer:
    torch.manual_seed(0)
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model)
    return trainer


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_values_of_the_methods_a_hook_runs_are_averaged_over_its_call_as_lightning_does():
    torch.manual_seed(1)
    logged = Logged()
    put = Put()
    put.load_state_dict(logged.state_dict())
    expected, got = _fit(logged), _fit(put)
    assert put.seen == logged.seen  # reads inside the hook, after each call, in both epochs
    assert list(got.callback_metrics) == list(expected.callback_metrics)
    for name, value in expected.callback_metrics.items():
        assert torch.equal(got.callback_metrics[name], value), name
        assert got.callback_metrics[name].dtype == value.dtype
    assert got.progress_bar_metrics == expected.progress_bar_metrics


class _TwiceWithOtherOptions(_Base):
    def multi_epoch_end(self, index):
        self.log("x", 1.0, prog_bar=index == 1)


class _PutTwiceWithOtherOptions(PutMixin, _Base):
    def multi_epoch_end(self, index):
        hook_value(self, "x", 1.0, ["callbacks", "loggers", "progress_bar"] if index == 1 else ["callbacks", "loggers"])


def test_one_name_with_other_options_raises_lightnings_error():
    with pytest.raises(MisconfigurationException) as lightning_error:
        _fit(_TwiceWithOtherOptions())
    with pytest.raises(MisconfigurationException) as shim_error:
        _fit(_PutTwiceWithOtherOptions())
    assert str(shim_error.value) == str(lightning_error.value)


class _InABatchHook(PutMixin, _Base):
    def training_step(self, batch, batch_idx):
        hook_value(self, "x", 1.0, ["loggers"])
        return super().training_step(batch, batch_idx)


def test_a_batch_hook_is_refused():
    with pytest.raises(ValueError, match="not an epoch-level hook"):
        _fit(_InABatchHook())


def test_outside_a_trainer_the_value_is_put_as_it_is():
    module = Put()
    hook_value(module, "a", torch.tensor(1.0), ["loggers"], weight=3)
    hook_value(module, "a", torch.tensor(4.0), ["loggers"])
    assert [(r.name, r.value.item()) for r in module.put_records] == [("a", 1.0), ("a", 4.0)]
