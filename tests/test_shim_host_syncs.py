"""No device-to-host transfer in put or routing: 0 on steps that log nothing, 1 batched transfer on logging steps.

On CPU a transfer is counted by instrumenting the Tensor methods that hand a value to Python. On a GPU the same
check runs with ``torch.cuda.set_sync_debug_mode("error")`` (benchmarks/).
"""

from __future__ import annotations

import sys

import lightning.pytorch as pl
import torch

from shim.metrics import Mean
from tests.pairs import modules as m

_TRANSFERS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__")
# Mean's reads of CPU values and states into host floats: taken only where value and state are on the CPU (no
# device, nothing to transfer); off the CPU each product is added at once (test_shim_metrics counts those ops).
_CPU_ONLY_READS = {Mean._counted_update.__code__, Mean._add_products.__code__}


class TransferCounter:
    def __init__(self, monkeypatch):
        self.count = 0
        for name in _TRANSFERS:
            original = getattr(torch.Tensor, name)

            def counting(tensor, *args, _original=original, **kwargs):
                if not (tensor.is_cpu and sys._getframe(1).f_code in _CPU_ONLY_READS):
                    self.count += 1
                return _original(tensor, *args, **kwargs)

            monkeypatch.setattr(torch.Tensor, name, counting)


class PerStep(pl.Callback):
    def __init__(self, counter):
        self.counter, self.marks = counter, []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.marks.append(self.counter.count)

    def on_train_epoch_end(self, trainer, pl_module):
        self.marks.append(self.counter.count)


class PutOnly(m.PutBasic):
    def validation_step(self, batch, batch_idx):
        pass


def transfers_per_step(module_class, monkeypatch):
    counter = TransferCounter(monkeypatch)
    per_step = PerStep(counter)
    trainer = pl.Trainer(
        max_epochs=1, log_every_n_steps=2, limit_val_batches=0, enable_progress_bar=False,
        enable_checkpointing=False, enable_model_summary=False, callbacks=[per_step],
        logger=pl.loggers.CSVLogger("/tmp/put-migrate-sync-test"),
    )
    trainer.fit(module_class())
    return [b - a for a, b in zip(per_step.marks, per_step.marks[1:])]


def test_put_module_transfers_only_on_logging_steps(monkeypatch):
    # 4 batches; log_every_n_steps=2 logs after batches 1 and 3. The last delta also holds the epoch-end compute.
    deltas = transfers_per_step(PutOnly, monkeypatch)
    assert deltas[0] == 0 and deltas[2] == 0, deltas
    assert deltas[1] == 1, deltas


def test_self_log_reference_transfers_more(monkeypatch):
    deltas = transfers_per_step(m.LogBasic, monkeypatch)
    assert deltas[0] > 0, "self.log converts progress-bar values every batch"
