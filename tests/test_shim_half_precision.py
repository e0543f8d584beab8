"""Half-precision epoch means: Lightning 2.0 multiplies the value by the batch size in half precision, 2.1+ upcasts
to float32 first; ``shim.metrics.Mean`` always upcasts first (docs/known-differences.md)."""

from __future__ import annotations

import torch

from shim import PutMixin
from shim.metrics import Mean
from shim.testing import record_run
from tests.lightning_package import pl
from tests.pairs import modules as m

HALF = torch.tensor(0.1, dtype=torch.float16)  # 0.0999755859375; x3 = 0.2999267578125 is not a float16
KWARGS = {"max_epochs": 1, "limit_val_batches": 0, "enable_progress_bar": False}
# Lightning 2.0's _ResultMetric.update accumulates `value * batch_size` without upcasting float16 first.
MULTIPLIES_IN_HALF = tuple(int(part) for part in pl.__version__.split(".")[:2]) < (2, 1)


class LogHalf(m.Base):
    def training_step(self, batch, batch_idx):
        self.log("h", HALF, on_step=False, on_epoch=True, batch_size=3)
        return self.loss(batch)


class PutHalf(PutMixin, m.Base):
    def __init__(self):
        super().__init__()
        self.h_mean = Mean()

    def training_step(self, batch, batch_idx):
        self.h_mean.update(HALF, weight=3)
        return self.loss(batch)

    def on_train_epoch_compute(self):
        self.put("h", self.h_mean.compute(), ["callbacks", "loggers"])
        self.h_mean.reset()


def _epoch_value(record):
    return next(metrics["h"] for _, metrics in record.logger_calls if "h" in metrics)


def test_half_precision_epoch_mean():
    lightning, migrated = (_epoch_value(record_run(c, trainer_kwargs=KWARGS)) for c in (LogHalf, PutHalf))
    assert migrated == 0.0999755859375  # float32(HALF) * 3, four batches, / 12: exact
    if MULTIPLIES_IN_HALF:
        # float16(0.2999267578125) = 0.2998046875 per batch, summed in float32: 1.19921875 / 12 = 0.09993490
        assert lightning == (torch.tensor(1.19921875) / 12).item() and lightning != migrated
    else:
        assert lightning == migrated
