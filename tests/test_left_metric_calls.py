"""What Lightning does with a Metric passed in (why the rewrite branches on ``isinstance(self.metric, Metric)``
instead of a plain put) and with a Callback's own Metric (PM224), run on the fixtures themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from shim.testing import load_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _trainer(**kwargs):
    import lightning.pytorch as pl

    return pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False, **kwargs)


def _loader():
    generator = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(8, 2, generator=generator), torch.randn(8, 1, generator=generator)),
                      batch_size=4)


def test_a_metric_passed_in_is_logged_as_a_metric_where_put_raises():
    from torchmetrics import MeanSquaredError

    from shim import PutMixin

    original = load_file(FIXTURES / "metrics" / "metric_passed_in.in.py").Model
    trainer = _trainer()
    trainer.fit(original(MeanSquaredError()), _loader())
    assert "acc" in trainer.callback_metrics  # Lightning logs the Metric's step value

    class Put(PutMixin, original):
        def training_step(self, batch, batch_idx):
            x, y = batch
            pred = self.layer(x)
            self.metric(pred, y)
            self.put("acc", self.metric, ["callbacks", "loggers"])  # a plain put, without the isinstance branch
            return torch.nn.functional.mse_loss(pred, y)

    with pytest.raises(TypeError, match="cannot be put"):
        _trainer().fit(Put(MeanSquaredError()), _loader())


def test_a_callback_logging_its_own_metric_makes_lightning_raise():
    from lightning.pytorch.utilities.exceptions import MisconfigurationException
    from torchmetrics import MeanSquaredError

    reporter = load_file(FIXTURES / "callbacks" / "callback_own_metric.in.py").Reporter
    module = load_file(FIXTURES / "metrics" / "metric_passed_in.in.py").Model(MeanSquaredError())
    with pytest.raises(MisconfigurationException, match="Could not find the `LightningModule` attribute"):
        _trainer(callbacks=[reporter()]).fit(module, _loader())
