"""PutMixin.put: value conversion, errors, records outside a trainer, package independence."""

from __future__ import annotations

import subprocess
import sys

import lightning.pytorch as pl
import numpy as np
import pytest
import pytorch_lightning
import torch

from shim import PutData, PutMixin
from shim.metrics import Max, Mean, Min, Sum


class Module(PutMixin, pl.LightningModule):
    pass


def test_put_outside_a_trainer_keeps_the_record():
    module = Module()
    module.put("loss", torch.tensor([2.0], requires_grad=True))
    module.put_dict({"a": 1, "b": np.float64(0.5)}, destinations="loggers")
    records = module.put_records
    assert [r.name for r in records] == ["loss", "a", "b"]
    assert isinstance(records[0], PutData) and records[0].destinations == {"callbacks", "loggers", "progress_bar"}
    assert records[0].value.shape == () and not records[0].value.requires_grad
    assert records[1].value.dtype == torch.float32 and records[2].value.dtype == torch.float32
    assert records[2].destinations == {"loggers"}


def test_callback_alias_outside_a_trainer_keeps_a_callbacks_record_of_the_same_value():
    module = Module()
    module.put("loss_step", torch.tensor(2.0), ["callbacks", "loggers"], callback_alias="loss")
    step, alias = module.put_records
    assert (step.name, step.destinations) == ("loss_step", {"callbacks", "loggers"})
    assert (alias.name, alias.destinations) == ("loss", {"callbacks"})
    assert alias.value is step.value and step.value.item() == 2.0


@pytest.mark.parametrize("alias", ["", 3])
def test_bad_callback_alias_names_the_put(alias):
    with pytest.raises(ValueError, match=r"put\('loss_step'\): callback_alias must be a non-empty string"):
        Module().put("loss_step", 1.0, callback_alias=alias)

@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (torch.tensor(3), torch.float32),
        (torch.tensor(True), torch.float32),
        (torch.tensor(1.0, dtype=torch.float16), torch.float32),
        (torch.tensor(1.0, dtype=torch.bfloat16), torch.float32),
        (torch.tensor(1.0, dtype=torch.float64), torch.float64),
        (np.float64(1.5), torch.float32),
        (True, torch.float32),
    ],
)
def test_value_dtypes_follow_self_log(value, dtype):
    module = Module()
    module.put("x", value)
    assert module.put_records[-1].value.dtype == dtype


@pytest.mark.parametrize("default_dtype", [torch.float32, torch.float64])
def test_numbers_become_the_tensors_self_log_makes(default_dtype):
    numbers = [0.1, -2.5e-8, 3.4028235e38, 3.5e38, -1e300, float("inf"), float("nan"), -0.0, 7, 2**53 + 1,
               2**60 + 2**36 + 1, True, np.float32(0.1), np.int64(2**60 + 2**36 + 1)]
    module = Module()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype)
    try:
        for value in numbers:
            module.put("x", value)
            expected = torch.tensor(value, dtype=default_dtype)  # LightningModule.log's conversion
            got = module.put_records[-1].value
            bits = torch.int32 if default_dtype == torch.float32 else torch.int64
            assert got.dtype == expected.dtype and torch.equal(got.view(bits), expected.view(bits)), value
    finally:
        torch.set_default_dtype(previous)


def test_a_number_put_again_under_its_name_reuses_its_tensor_only_while_untouched():
    module = Module()
    module.put("lr", 0.01)
    module.put("lr", 0.01)
    first, second = (record.value for record in module.put_records)
    assert second is first  # no tensor operation for a number put at every step
    first.add_(1)  # changed in place (by whoever read it): the next put makes a new tensor
    module.put("lr", 0.01)
    third = module.put_records[-1].value
    assert third is not first and third.item() == torch.tensor(0.01).item()
    module.put("other", 0.01)
    assert module.put_records[-1].value is not third  # each name its own tensor, as Lightning's
    first.requires_grad_()
    module.put("lr", 0.01)
    assert not module.put_records[-1].value.requires_grad


def test_numbers_that_cannot_share_a_tensor_are_made_afresh():
    module = Module()
    module.put("z", 0.0)
    module.put("z", -0.0)  # equal to 0.0 as a key, but another sign bit
    assert [torch.signbit(r.value).item() for r in module.put_records] == [False, True]
    with torch.inference_mode():
        module.put("i", 2.5)
    module.put("i", 2.5)  # in training: not the inference tensor, which autograd cannot save
    assert module.put_records[-2].value.is_inference() and not module.put_records[-1].value.is_inference()
    nan = float("nan")
    module.put("n", nan)
    module.put("n", nan)
    assert module.put_records[-1].value is not module.put_records[-2].value
    from shim.put import to_put_tensor

    assert to_put_tensor("d", 1.5, None) is not to_put_tensor("d", 1.5, None)  # no device: the default one's


def test_put_copies_the_tensor():
    module = Module()
    value = torch.tensor(1.0)
    module.put("x", value)
    value.add_(1)  # an in-place update after the put (an optimizer step, strategy.reduce) must not leak in
    assert module.put_records[0].value.item() == 1.0


def test_put_copies_a_graph_result_the_caller_changes_in_place_afterwards():
    module = Module()
    w = torch.nn.Parameter(torch.tensor(2.0))
    loss = w * 3
    module.put("loss", loss)
    loss += 1  # allowed by autograd (nothing saved it); Lightning logs the value before it
    assert module.put_records[0].value.item() == 6.0


def test_put_copies_views_of_parameters():
    module = Module()
    weight = torch.nn.Parameter(torch.tensor([2.0]))
    module.put("w", weight.squeeze())  # a view with a grad_fn, sharing the parameter's storage
    with torch.no_grad():
        weight.add_(1)
    assert module.put_records[0].value.item() == 2.0


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("s", "text"), TypeError, "put('s'): str values cannot be put"),
        (("d", {"a": 1}), TypeError, "put_dict"),
        (("t", torch.ones(3)), ValueError, "single element"),
        (("", 1.0), ValueError, "non-empty string"),
        (("x", 1.0, ["logger"]), ValueError, "valid destinations are ['callbacks', 'loggers', 'progress_bar']"),
    ],
)
def test_bad_input_names_the_put(args, error, message):
    with pytest.raises(error) as excinfo:
        Module().put(*args)
    assert message in str(excinfo.value)


def test_put_in_a_hook_where_lightning_cannot_log_is_an_error():
    class Bad(PutMixin, pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def training_step(self, batch, batch_idx):
            return self.layer(batch[0]).sum()

        def on_fit_start(self):
            self.put("x", 1.0)

        def train_dataloader(self):
            return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(2, 1)))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = pl.Trainer(max_steps=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    with pytest.raises(ValueError, match="inside `on_fit_start`"):
        trainer.fit(Bad())


def test_puts_under_a_barebones_trainer_are_dropped_as_self_log_calls_are():
    """Trainer(barebones=True): Lightning drops self.log (before checking the hook); put drops its values too,
    in a batch hook, an epoch hook and a hook where logging is forbidden, and keeps no records."""
    from shim.hook_scope import hook_value

    class Bare(PutMixin, pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def training_step(self, batch, batch_idx):
            self.put("step", 1.0)
            return self.layer(batch[0]).sum()

        def on_train_epoch_end(self):
            self.put("epoch", 2.0)
            hook_value(self, "hook", 3.0, ["callbacks"])

        def on_fit_start(self):
            self.put("forbidden", 4.0)

        def train_dataloader(self):
            return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(2, 1)))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    module = Bare()
    trainer = pl.Trainer(max_epochs=1, barebones=True, accelerator="cpu")
    trainer.fit(module)
    assert dict(trainer.callback_metrics) == {} and not module.__dict__.get("put_records")


def test_works_with_pytorch_lightning_package():
    class Classic(PutMixin, pytorch_lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def training_step(self, batch, batch_idx):
            loss = self.layer(batch[0]).sum()
            self.put("loss", loss)
            return loss

        def train_dataloader(self):
            return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 1)), batch_size=2)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = pytorch_lightning.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.fit(Classic())
    assert "loss" in trainer.callback_metrics


def test_importing_shim_imports_no_lightning_package():
    code = "import shim, sys; print(any(m in sys.modules for m in ('lightning', 'pytorch_lightning')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_aggregators_match_lightning_arithmetic_and_keep_nan():
    mean, total, high, low = Mean(), Sum(), Max(), Min()
    for value, weight in [(3.0, 4), (1.0, 4), (4.0, 4), (2.0, 2)]:
        mean.update(torch.tensor(value), weight=weight)
        total.update(torch.tensor(value))
        high.update(torch.tensor(value))
        low.update(torch.tensor(value))
    # semantics §3.2: weighted mean 36/14, sum 10, max 4, min 1
    assert mean.compute() == torch.tensor(36.0) / torch.tensor(14.0)
    assert (total.compute().item(), high.compute().item(), low.compute().item()) == (10.0, 4.0, 1.0)
    mean.update(torch.tensor(float("nan")))
    assert torch.isnan(mean.compute())
    assert Mean().state_dict() == {} and Sum().state_dict() == {}


def test_mean_keeps_float64_like_lightning():
    mean = Mean()
    mean.update(torch.tensor(1.0, dtype=torch.float64), weight=2)
    assert mean.compute().dtype == torch.float64


def test_callback_aggregators_follow_the_module_device(monkeypatch):
    """A Callback is not a submodule: the router moves its aggregators where the module trains, once per run."""
    moved = []

    class Agg(Sum):
        def _apply(self, fn, *args, **kwargs):
            moved.append(fn)
            return super()._apply(fn, *args, **kwargs)

    class Cb(PutMixin, pl.Callback):
        def __init__(self):
            self.total = Agg()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            self.total.update(outputs["loss"])

        def on_train_epoch_compute(self, trainer, pl_module):
            if self.total.update_called:
                self.put("total", self.total.compute(), ["callbacks"])
            self.total.reset()

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def training_step(self, batch, batch_idx):
            return self.layer(batch[0]).sum()

        def train_dataloader(self):
            return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 1)), batch_size=2)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = pl.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         callbacks=[Cb()])
    trainer.fit(Tiny())
    assert len(moved) == 1  # one placement per run, not per batch
    assert "total" in trainer.callback_metrics


def test_lazy_aggregators_keep_state_dict_keys_and_follow_device():
    from shim.metrics import Keyed, PerDataloader

    class Holder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)
            self.per_key = Keyed(Mean)
            self.per_dl = PerDataloader(Sum)

    holder = Holder()
    keys = set(holder.state_dict())
    holder.per_key["val/acc"].update(torch.tensor(1.0), weight=2)
    holder.per_key["val/acc"].update(torch.tensor(4.0), weight=1)
    holder.per_key["val.loss"].update(torch.tensor(3.0))
    holder.per_dl[1].update(torch.tensor(5.0))
    assert set(holder.state_dict()) == keys  # old checkpoints still load strictly
    assert [(k, a.compute().item()) for k, a in holder.per_key.items()] == [("val/acc", 2.0), ("val.loss", 3.0)]
    holder.per_key["late"]  # created after construction: still a registered submodule, so .to()/DDP reach it
    assert isinstance(dict(holder.named_modules())["per_key.aggregators.a2"], Mean)


def test_aggregators_survive_inference_mode_resets_and_squeeze():
    mean, high = Mean(), Max()
    with torch.inference_mode():  # trainer.validate(): the compute hook resets under inference mode
        mean.update(torch.tensor([1.0]), weight=2)
        high.update(torch.tensor([[3.0]]))
        mean.reset()
        high.reset()
    mean.update(torch.tensor([2.0]), weight=3)  # then training updates outside it
    high.update(torch.tensor(5.0))
    assert mean.compute().item() == 2.0 and mean.compute().shape == ()
    assert high.compute().item() == 5.0
    with pytest.raises(ValueError, match="single element"):
        mean.update(torch.ones(2))


@pytest.mark.parametrize("kind", [Mean, Sum, Max, Min])
def test_aggregators_recheck_a_state_that_took_in_place_updates_once_it_changes(kind):
    # The state found fit for in-place updates is remembered (_in_place_ok); a new state, or a value of another
    # dtype, is checked again.
    aggregator = kind()
    aggregator.update(torch.tensor(1.0))
    with torch.inference_mode():  # trainer.validate(): a compute hook resets under inference mode
        aggregator.reset()
    aggregator.update(torch.tensor(2.0))  # in place here would raise: an inference tensor outside inference mode
    aggregator.update(torch.tensor(4.0, dtype=torch.float64))  # promotes, as Lightning's `+` does
    assert aggregator.compute().dtype == torch.float64
    expected = {Mean: 3.0, Sum: 6.0, Max: 4.0, Min: 2.0}[kind]
    assert aggregator.compute().item() == expected
    aggregator.update(torch.tensor(8.0))  # a float32 value into the float64 state: not in place, still float64
    assert aggregator.compute().dtype == torch.float64


def test_reduce_step_values_keeps_each_dtype_and_leaves_inputs_alone():
    from types import SimpleNamespace

    from shim import reduce_step_values

    calls = []

    def reduce(tensor, group=None, reduce_op="mean"):
        calls.append(tensor.dtype)
        return tensor.mul_(2)  # in place, as DDP's reduce is

    trainer = SimpleNamespace(strategy=SimpleNamespace(reduce=reduce, root_device=torch.device("cpu")))
    a, b = torch.tensor(1.0), torch.tensor(2.0, dtype=torch.float64)
    ra, rb, rc, rd = reduce_step_values(trainer, a, b, 3, torch.tensor([4]), reduce_op="mean")
    assert (ra.dtype, rb.dtype, rc.dtype, rd.dtype) == (torch.float32, torch.float64, torch.float32, torch.float32)
    assert (ra.item(), rb.item(), rc.item(), rd.item()) == (2.0, 4.0, 6.0, 8.0)
    assert (a.item(), b.item()) == (1.0, 2.0)
    assert sorted(map(str, calls)) == ["torch.float32", "torch.float64"]  # one collective per dtype


def _two_val_loaders_run(module):
    """callback_metrics seen at each validation hook of a fit with two val dataloaders (sanity check included)."""
    seen = []

    class Watch(pl.Callback):
        def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
            seen.append((f"batch_end dl{dataloader_idx}", trainer.sanity_checking, sorted(trainer.callback_metrics)))

        def on_validation_epoch_end(self, trainer, pl_module):
            seen.append(("epoch_end", trainer.sanity_checking, sorted(trainer.callback_metrics)))

    trainer = pl.Trainer(max_epochs=1, limit_train_batches=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[Watch()])
    trainer.fit(module)
    return seen


class _FirstLoaderOnly(pl.LightningModule):
    """Logs an epoch value from val dataloader 0 only, without the dataloader suffix."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        if dataloader_idx == 0:
            self.log("v", 1.0, add_dataloader_idx=False)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(2, 1)))

    def val_dataloader(self):
        return [torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(2, 1)))] * 2

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_compute_hook_put_belongs_to_the_dataloader_it_computes():
    """Lightning files a value logged from dataloader 0 under dataloader 0: it reaches callback_metrics when
    dataloader 1 starts, and never during the sanity check (whose epoch-end extraction takes only values of no
    dataloader). A put from the compute hook of dataloader 0 does the same, though its name has no suffix."""

    class Put(PutMixin, _FirstLoaderOnly):
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            self.first = dataloader_idx == 0

        def on_validation_epoch_compute(self):
            if self.first:
                self.put("v", 1.0, ["callbacks"])

    logged, put = _two_val_loaders_run(_FirstLoaderOnly()), _two_val_loaders_run(Put())
    assert ("epoch_end", True, []) in logged and ("batch_end dl1", False, ["v"]) in logged
    assert put == logged


def test_put_converts_as_to_put_tensor_on_its_inline_path_and_off_it(monkeypatch):
    # put() converts a 0-d float32/float64 tensor in its own frame; everything else goes to to_put_tensor. Both
    # must give what to_put_tensor gives: the same value and dtype, out of the graph, and a copy.
    from shim import put as put_module

    class Owner(PutMixin, pl.LightningModule):
        pass

    w = torch.nn.Parameter(torch.tensor([2.0]))
    cases = {
        "graph result": (w * 3).sum(),
        "graph float64": (w.double() * 3).sum(),
        "parameter": torch.nn.Parameter(torch.tensor(1.5)),
        "view of a parameter": w.squeeze(),
        "leaf needing grad": torch.tensor(2.5, requires_grad=True),
        "plain": torch.tensor(0.5),
        "plain float64": torch.tensor(0.5, dtype=torch.float64),
        "one-element vector": torch.tensor([0.25]),
        "half": torch.tensor(0.75, dtype=torch.float16),
        "int": torch.tensor(3),
        "python float": 0.125,
    }
    converted = []
    original = put_module.to_put_tensor
    monkeypatch.setattr(put_module, "to_put_tensor", lambda *args: converted.append(args[0]) or original(*args))
    owner = Owner()
    for name, value in cases.items():
        expected = original(name, value, owner)
        owner.put(name, value, ["callbacks"])
        got = owner.put_records[-1].value
        assert got.dtype == expected.dtype and torch.equal(got, expected) and not got.requires_grad, name
        if isinstance(value, torch.Tensor):
            assert got.untyped_storage().data_ptr() != value.untyped_storage().data_ptr(), name  # always a copy
    # The inline path took the 0-d float32/float64 tensors, a Parameter (a subclass) excepted.
    assert converted == ["parameter", "one-element vector", "half", "int", "python float"]
