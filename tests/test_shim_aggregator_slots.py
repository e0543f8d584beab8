"""``shim.aggregator_slots``: a migrated module's class finds its aggregators without ``nn.Module.__getattr__``,
and every instance look-up answers as it did without the slots."""

from __future__ import annotations

import copy
import inspect
import pickle

import lightning.pytorch as pl
import pytest
import torch

from shim import PutMixin
from shim.aggregator_slots import AggregatorSlot, add_aggregator_slots
from shim.metrics import Keyed, Mean, Sum


class Model(PutMixin, pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.loss_mean = Mean()
        self.per_name = Keyed(Sum)
        self.layer = torch.nn.Linear(2, 1)


def _slotted() -> Model:
    model = Model()
    add_aggregator_slots(model)
    return model


def test_attaching_a_trainer_adds_slots_for_aggregators_only():
    class Fresh(Model):
        pass

    model = Fresh()
    assert "loss_mean" not in vars(Fresh)
    model.trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False,
                               enable_model_summary=False)
    assert isinstance(vars(Fresh)["loss_mean"], AggregatorSlot)
    assert isinstance(vars(Fresh)["per_name"], AggregatorSlot)
    assert "layer" not in vars(Fresh)  # not an aggregator: left to nn.Module
    assert model.loss_mean is model._modules["loss_mean"]


def test_instance_look_ups_answer_as_without_slots():
    model = _slotted()
    other = Model()
    assert model.loss_mean is model._modules["loss_mean"] and other.loss_mean is other._modules["loss_mean"]
    model.loss_mean = Mean()  # reassigned: the new submodule
    assert model.loss_mean is model._modules["loss_mean"]
    del model.loss_mean
    with pytest.raises(AttributeError, match="'Model' object has no attribute 'loss_mean'"):
        model.loss_mean
    assert not hasattr(model, "loss_mean")
    model.loss_mean = 3  # a plain attribute now: the instance __dict__ answers
    assert model.loss_mean == 3
    model.__dict__.pop("loss_mean")
    model.register_buffer("loss_mean", torch.ones(()))  # a buffer: nn.Module.__getattr__ answers
    assert model.loss_mean is model._buffers["loss_mean"]


def test_class_access_and_copies_behave_as_before():
    model = _slotted()
    with pytest.raises(AttributeError, match="type object 'Model' has no attribute 'loss_mean'"):
        Model.loss_mean
    assert isinstance(inspect.getattr_static(model, "loss_mean"), AggregatorSlot)  # the visible difference
    for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert copied.loss_mean is copied._modules["loss_mean"] is not model.loss_mean
    assert pickle.loads(pickle.dumps(AggregatorSlot("x"))).name == "x"


def test_no_slot_shadows_a_class_attribute_or_bypasses_a_custom_getattr():
    class WithClassAttribute(Model):
        loss_mean = "class attribute"

    model = WithClassAttribute()
    add_aggregator_slots(model)
    assert vars(WithClassAttribute)["loss_mean"] == "class attribute" and model.loss_mean == "class attribute"
    assert "per_name" in vars(WithClassAttribute) or "per_name" in vars(Model)

    calls = []

    class WithGetattr(Model):
        def __getattr__(self, name):
            calls.append(name)
            return super().__getattr__(name)

    model = WithGetattr()
    add_aggregator_slots(model)
    assert "loss_mean" not in vars(WithGetattr)

    class SubclassWithGetattr(Model):  # a subclass of a slotted class: the slot defers to its __getattr__
        def __getattr__(self, name):
            calls.append(name)
            return super().__getattr__(name)

    add_aggregator_slots(Model())
    sub = SubclassWithGetattr()
    calls.clear()
    assert sub.loss_mean is sub._modules["loss_mean"]
    assert calls == ["loss_mean"]
    with pytest.raises(AttributeError):
        sub.missing
    assert calls == ["loss_mean", "missing"]  # called once per look-up, as without slots
