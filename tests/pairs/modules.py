"""Hand-written pairs: the same module with ``self.log`` (``Log*``) and with ``put`` + aggregators (``Put*``).

The ``Put*`` classes are written the way docs/design/generated-code.md says the codemod writes them, so these
pairs test the shim's routing independently of the codemod. Module-level classes: ``ddp_spawn`` pickles them.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from shim import PutMixin, batch_size_in_flight, dataloader_suffix, reduce_step_values
from shim.metrics import Max, Mean, PerDataloader, Sum
from tests.lightning_package import extract_batch_size, pl

ALL = ["callbacks", "loggers", "progress_bar"]
CB_LOG = ["callbacks", "loggers"]


def loader(n: int, batch_size: int, seed: int = 0) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 4, generator=g), torch.randn(n, 1, generator=g)), batch_size)


class Base(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def train_dataloader(self) -> DataLoader:
        return loader(14, 4)  # batches of 4, 4, 4, 2: uneven last batch

    def val_dataloader(self) -> DataLoader:
        return loader(10, 4, seed=1)

    def test_dataloader(self) -> DataLoader:
        return loader(6, 4, seed=2)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.05)


# -- train step values, step+epoch (forked), eval epoch defaults -------------------------------------------------


class LogBasic(Base):
    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("step_only", loss * 2)
        self.log("const", 0.5, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.loss(batch))

    def test_step(self, batch, batch_idx):
        self.log("test_loss", self.loss(batch), prog_bar=True)


class PutBasic(PutMixin, Base):
    def __init__(self) -> None:
        super().__init__()
        self.train_loss = Mean()
        self.val_loss = Mean()
        self.test_loss = Mean()

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.train_loss.update(loss, weight=extract_batch_size(batch))
        self.put("train_loss_step", loss, ALL)
        self.put("train_loss", loss, ["callbacks"])
        self.put("step_only", loss * 2, CB_LOG)
        self.put("const", 0.5, ALL)
        return loss

    def validation_step(self, batch, batch_idx):
        self.val_loss.update(self.loss(batch), weight=extract_batch_size(batch))

    def test_step(self, batch, batch_idx):
        self.test_loss.update(self.loss(batch), weight=extract_batch_size(batch))

    def on_train_epoch_compute(self):
        if self.train_loss.update_called:
            train_loss = self.train_loss.compute()
            self.put("train_loss_epoch", train_loss, ALL)
            self.put("train_loss", train_loss, ["callbacks"])
        self.train_loss.reset()

    def on_validation_epoch_compute(self):
        if self.val_loss.update_called:
            self.put("val_loss", self.val_loss.compute(), CB_LOG)
        self.val_loss.reset()

    def on_test_epoch_compute(self):
        if self.test_loss.update_called:
            self.put("test_loss", self.test_loss.compute(), ALL)
        self.test_loss.reset()



class PutBasicAlias(PutBasic):
    """PutBasic with each forked value as one put (``callback_alias``)."""

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.train_loss.update(loss, weight=extract_batch_size(batch))
        self.put("train_loss_step", loss, ALL, callback_alias="train_loss")
        self.put("step_only", loss * 2, CB_LOG)
        self.put("const", 0.5, ALL)
        return loss

    def on_train_epoch_compute(self):
        if self.train_loss.update_called:
            self.put("train_loss_epoch", self.train_loss.compute(), ALL, callback_alias="train_loss")
        self.train_loss.reset()

# -- eval step values, reductions, epoch-level hooks, stale step values ------------------------------------------


class LogEvalAndHooks(Base):
    def on_train_start(self):
        self.log("started", 1.0)

    def on_train_epoch_start(self):
        self.log("epoch_start", float(self.current_epoch))

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("t_max", loss, on_step=False, on_epoch=True, reduce_fx="max")
        self.log("t_sum", loss, on_step=False, on_epoch=True, reduce_fx=torch.sum, prog_bar=True)
        self.log("count", torch.tensor(batch_idx), on_step=False, on_epoch=True)  # int: cast + warning
        if batch_idx == 0:
            self.log("first_only", loss)  # a stale step value: re-sent in every later step call of the epoch
        return loss

    def on_train_epoch_end(self):
        self.log("tee", 2.0 * self.current_epoch + 1, prog_bar=True)

    def on_validation_epoch_start(self):
        self.log("vstart", 3.0)

    def validation_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("v_steponly", loss, on_step=True, on_epoch=False, prog_bar=True)
        self.log("v_both", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("v_nolog", loss, logger=False, batch_size=3)

    def on_validation_epoch_end(self):
        self.log("vee", 7.0 + self.current_epoch)

    def test_step(self, batch, batch_idx):
        self.log("te", self.loss(batch), on_step=True, on_epoch=True)


class PutEvalAndHooks(PutMixin, Base):
    def __init__(self) -> None:
        super().__init__()
        self.t_max = Max()
        self.t_sum = Sum()
        self.count = Mean()
        self.v_both = Mean()
        self.v_nolog = Mean()
        self.te = Mean()

    def on_train_start(self):
        self.put("started", 1.0, CB_LOG)

    def on_train_epoch_start(self):
        self.put("epoch_start", float(self.current_epoch), CB_LOG)

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.t_max.update(loss)
        self.t_sum.update(loss)
        self.count.update(torch.tensor(batch_idx), weight=extract_batch_size(batch))
        if batch_idx == 0:
            self.put("first_only", loss, CB_LOG)
        return loss

    def on_train_epoch_compute(self):
        if self.t_max.update_called:
            self.put("t_max", self.t_max.compute(), CB_LOG)
        self.t_max.reset()
        if self.t_sum.update_called:
            self.put("t_sum", self.t_sum.compute(), ALL)
        self.t_sum.reset()
        if self.count.update_called:
            self.put("count", self.count.compute(), CB_LOG)
        self.count.reset()

    def on_train_epoch_end(self):
        self.put("tee", 2.0 * self.current_epoch + 1, ALL)

    def on_validation_epoch_start(self):
        self.put("vstart", 3.0, CB_LOG)

    def validation_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.put("v_steponly", loss, ["loggers", "progress_bar"])
        self.v_both.update(loss, weight=extract_batch_size(batch))
        self.put("v_both_step", loss, ["loggers", "progress_bar"])
        self.v_nolog.update(loss, weight=3)

    def on_validation_epoch_compute(self):
        if self.v_both.update_called:
            v_both = self.v_both.compute()
            self.put("v_both_epoch", v_both, ALL)
            self.put("v_both", v_both, ["callbacks"])
        self.v_both.reset()
        if self.v_nolog.update_called:
            self.put("v_nolog", self.v_nolog.compute(), ["callbacks"])
        self.v_nolog.reset()

    def on_validation_epoch_end(self):
        self.put("vee", 7.0 + self.current_epoch, CB_LOG)

    def test_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.te.update(loss, weight=extract_batch_size(batch))
        self.put("te_step", loss, ["loggers"])

    def on_test_epoch_compute(self):
        if self.te.update_called:
            te = self.te.compute()
            self.put("te_epoch", te, CB_LOG)
            self.put("te", te, ["callbacks"])
        self.te.reset()


# -- two validation dataloaders ------------------------------------------------------------------------------------


class TwoLoaders(Base):
    def val_dataloader(self):
        return [loader(10, 4, seed=1), loader(6, 3, seed=3)]


class LogTwoLoaders(TwoLoaders):
    def training_step(self, batch, batch_idx):
        return self.loss(batch)

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        loss = self.loss(batch)
        self.log("vl", loss)
        self.log("vb", loss, on_step=True, on_epoch=True)

    def on_validation_epoch_end(self):
        self.log("vee", 1.5)


class PutTwoLoaders(PutMixin, TwoLoaders):
    def __init__(self) -> None:
        super().__init__()
        self.vl = PerDataloader(Mean)
        self.vb = PerDataloader(Mean)

    def training_step(self, batch, batch_idx):
        return self.loss(batch)

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        loss = self.loss(batch)
        self.vl[dataloader_idx].update(loss, weight=extract_batch_size(batch))
        self.vb[dataloader_idx].update(loss, weight=extract_batch_size(batch))
        self.put(f"vb_step{dataloader_suffix(self.trainer, dataloader_idx)}", loss, ["loggers"])

    def on_validation_epoch_compute(self):
        for suffix, vl in self.vl.items(self.trainer):
            if vl.update_called:
                self.put(f"vl{suffix}", vl.compute(), CB_LOG)
            vl.reset()
        for suffix, vb in self.vb.items(self.trainer):
            if vb.update_called:
                value = vb.compute()
                self.put(f"vb_epoch{suffix}", value, CB_LOG)
                self.put(f"vb{suffix}", value, ["callbacks"])
            vb.reset()

    def on_validation_epoch_end(self):
        self.put("vee", 1.5, CB_LOG)



class PutTwoLoadersAlias(PutTwoLoaders):
    """PutTwoLoaders with the forked epoch value as one put (``callback_alias`` with a dataloader suffix)."""

    def on_validation_epoch_compute(self):
        for suffix, vl in self.vl.items(self.trainer):
            if vl.update_called:
                self.put(f"vl{suffix}", vl.compute(), CB_LOG)
            vl.reset()
        for suffix, vb in self.vb.items(self.trainer):
            if vb.update_called:
                self.put(f"vb_epoch{suffix}", vb.compute(), CB_LOG, callback_alias=f"vb{suffix}")
            vb.reset()

# -- a logging Callback ---------------------------------------------------------------------------------------------


class LogCallback(pl.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        pl_module.log("cb_tbe", float(batch_idx), prog_bar=True)
        pl_module.log("cb_agg", outputs["loss"], on_step=False, on_epoch=True, reduce_fx="sum")

    def on_validation_epoch_end(self, trainer, pl_module):
        self.log("cb_vee", 5.0)


class PutCallback(PutMixin, pl.Callback):
    def __init__(self) -> None:
        self.cb_agg = Sum()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.put("cb_tbe", float(batch_idx), ALL)
        self.cb_agg.to(pl_module.device)
        self.cb_agg.update(outputs["loss"])

    def on_train_epoch_compute(self, trainer, pl_module):
        if self.cb_agg.update_called:
            self.put("cb_agg", self.cb_agg.compute(), CB_LOG)
        self.cb_agg.reset()

    def on_validation_epoch_end(self, trainer, pl_module):
        self.put("cb_vee", 5.0, CB_LOG)


# -- a module that keeps some self.log calls next to put ----------------------------------------------------------


class PutMixed(PutMixin, Base):
    """Half migrated: one call per logger group, not extra rows."""

    def __init__(self) -> None:
        super().__init__()
        self.val_loss = Mean()

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.put("step_only", loss * 2, CB_LOG)
        self.put("const", 0.5, ALL)
        return loss

    def validation_step(self, batch, batch_idx):
        self.val_loss.update(self.loss(batch), weight=extract_batch_size(batch))

    def on_validation_epoch_compute(self):
        if self.val_loss.update_called:
            self.put("val_loss", self.val_loss.compute(), CB_LOG)
        self.val_loss.reset()

    def test_step(self, batch, batch_idx):
        self.log("test_loss", self.loss(batch), prog_bar=True)


# -- DDP: sync_dist on and off --------------------------------------------------------------------------------------


class DDPBase(Base):
    def train_dataloader(self):
        # Per-rank data differs (the DistributedSampler splits it); equal counts per rank keep Lightning exact.
        return loader(16, 2)

    def val_dataloader(self):
        return loader(8, 2, seed=1)


class LogDDP(DDPBase):
    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("s_both", loss, on_step=True, on_epoch=True, sync_dist=True)
        self.log("ns_both", loss, on_step=True, on_epoch=True)
        self.log("s_max", loss, on_step=False, on_epoch=True, sync_dist=True, reduce_fx="max")
        self.log("rz", loss, on_epoch=True, sync_dist=True, rank_zero_only=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("val_s", loss, sync_dist=True)
        self.log("val_ns", loss)


class PutDDP(PutMixin, DDPBase):
    def __init__(self) -> None:
        super().__init__()
        self.s_both = Mean(sync_on_compute=True)
        self.ns_both = Mean()
        self.s_max = Max(sync_on_compute=True)
        self.rz = Mean()
        self.val_s = Mean(sync_on_compute=True)
        self.val_ns = Mean()

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        batch_size = extract_batch_size(batch)
        self.s_both.update(loss, weight=batch_size)
        s_both = self.trainer.strategy.reduce(loss.detach().clone(), reduce_op="mean")
        self.put("s_both_step", s_both, CB_LOG)
        self.put("s_both", s_both, ["callbacks"])
        self.ns_both.update(loss, weight=batch_size)
        self.put("ns_both_step", loss, CB_LOG)
        self.put("ns_both", loss, ["callbacks"])
        self.s_max.update(loss)
        self.rz.update(loss, weight=batch_size)
        self.put("rz_step", loss, CB_LOG)
        self.put("rz", loss, ["callbacks"])
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.val_s.update(loss, weight=extract_batch_size(batch))
        self.val_ns.update(loss, weight=extract_batch_size(batch))

    def on_train_epoch_compute(self):
        for name, aggregator in (("s_both", self.s_both), ("ns_both", self.ns_both), ("rz", self.rz)):
            if aggregator.update_called:
                value = aggregator.compute()
                self.put(f"{name}_epoch", value, CB_LOG)
                self.put(name, value, ["callbacks"])
            aggregator.reset()
        if self.s_max.update_called:
            self.put("s_max", self.s_max.compute(), CB_LOG)
        self.s_max.reset()

    def on_validation_epoch_compute(self):
        if self.val_s.update_called:
            self.put("val_s", self.val_s.compute(), CB_LOG)
        self.val_s.reset()
        if self.val_ns.update_called:
            self.put("val_ns", self.val_ns.compute(), CB_LOG)
        self.val_ns.reset()


class LogDDPSums(LogDDP):
    """``LogDDP`` plus epoch sums, the reduction where values added twice show (a max does not change)."""

    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        self.log("s_sum", loss, on_step=False, on_epoch=True, sync_dist=True, reduce_fx="sum")
        self.log("ns_sum", loss, on_step=False, on_epoch=True, reduce_fx="sum")
        return loss

    def validation_step(self, batch, batch_idx):
        super().validation_step(batch, batch_idx)
        self.log("val_s_sum", self.loss(batch), sync_dist=True, reduce_fx="sum")


class PutDDPSums(PutDDP):
    def __init__(self) -> None:
        super().__init__()
        self.s_sum = Sum(sync_on_compute=True)
        self.ns_sum = Sum()
        self.val_s_sum = Sum(sync_on_compute=True)

    def training_step(self, batch, batch_idx):
        loss = super().training_step(batch, batch_idx)
        self.s_sum.update(loss)
        self.ns_sum.update(loss)
        return loss

    def validation_step(self, batch, batch_idx):
        super().validation_step(batch, batch_idx)
        self.val_s_sum.update(self.loss(batch))

    def on_train_epoch_compute(self):
        super().on_train_epoch_compute()
        for name, aggregator in (("s_sum", self.s_sum), ("ns_sum", self.ns_sum)):
            if aggregator.update_called:
                self.put(name, aggregator.compute(), CB_LOG)
            aggregator.reset()

    def on_validation_epoch_compute(self):
        super().on_validation_epoch_compute()
        if self.val_s_sum.update_called:
            self.put("val_s_sum", self.val_s_sum.compute(), CB_LOG)
        self.val_s_sum.reset()


# -- Lightning's gloo count truncation (docs/known-differences.md) -------------------------------------------------


class UnevenRanks(Base):
    """Rank r logs 10*r + batch_idx with batch size r + 1 over 3 batches (semantics §5, ``s_bs``)."""

    def train_dataloader(self):
        return DataLoader(list(range(3)), batch_size=None)

    def value_and_size(self, batch_idx):
        rank = self.global_rank
        return torch.tensor(10.0 * rank + batch_idx), rank + 1

    def training_step(self, batch, batch_idx):
        return self.layer(torch.ones(1, 4)).sum() * 0.0

    def val_dataloader(self):
        return None


class LogUnevenRanks(UnevenRanks):
    def training_step(self, batch, batch_idx):
        value, size = self.value_and_size(batch_idx)
        self.log("s_bs", value, on_step=False, on_epoch=True, sync_dist=True, batch_size=size)
        return super().training_step(batch, batch_idx)


class PutUnevenRanks(PutMixin, UnevenRanks):
    def __init__(self) -> None:
        super().__init__()
        self.s_bs = Mean(sync_on_compute=True)

    def training_step(self, batch, batch_idx):
        value, size = self.value_and_size(batch_idx)
        self.s_bs.update(value, weight=size)
        return super().training_step(batch, batch_idx)

    def on_train_epoch_compute(self):
        if self.s_bs.update_called:
            self.put("s_bs", self.s_bs.compute(), CB_LOG)
        self.s_bs.reset()


# -- counting collectives in each DDP rank (issue 7) ---------------------------------------------------------------


class CollectiveCounter(pl.Callback):
    """Counts torch.distributed collectives per training step and in the epoch end; writes them per rank."""

    NAMES = ("all_reduce", "all_gather", "all_gather_into_tensor", "barrier", "broadcast", "reduce", "gather")

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.count = 0
        self.per_step: list[int] = []
        self.mark = 0

    def setup(self, trainer, pl_module, stage):
        import torch.distributed as dist

        for name in self.NAMES:
            original = getattr(dist, name)

            def counting(*args, _original=original, **kwargs):
                self.count += 1
                return _original(*args, **kwargs)

            setattr(dist, name, counting)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.mark = self.count

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.per_step.append(self.count - self.mark)

    def on_train_end(self, trainer, pl_module):
        import json
        from pathlib import Path

        Path(self.out_dir, f"rank{trainer.global_rank}.json").write_text(
            json.dumps({"per_step": self.per_step, "total": self.count})
        )


class LogTwoSynced(DDPBase):
    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("s_loss", loss, sync_dist=True)
        self.log("s_doubled", loss * 2, sync_dist=True)
        return loss


class PutTwoSyncedPacked(PutMixin, DDPBase):
    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        s_loss, s_doubled = reduce_step_values(self.trainer, loss, loss * 2, reduce_op="mean")
        self.put("s_loss", s_loss, CB_LOG)
        self.put("s_doubled", s_doubled, CB_LOG)
        return loss


class LogInterleavedHooks(Base):
    """Manual optimization: training_step logs, then on_before_backward (run by manual_backward), then
    training_step again. Lightning resets training_step's values when the hook name changes back in the first
    batch of an epoch (``_LoggerConnector.should_reset_tensors``), dropping that batch's first value."""

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("first", loss, on_step=False, on_epoch=True)
        self.manual_backward(loss)
        self.log("second", loss * 2, on_step=False, on_epoch=True)
        self.optimizers().step()
        self.optimizers().zero_grad()

    def on_before_backward(self, loss):
        self.log("backward", loss, on_step=False, on_epoch=True)


class PutInterleavedHooks(PutMixin, Base):
    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.first = Mean()
        self.second = Mean()
        self.backward_mean = Mean()

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.first.update(loss, weight=extract_batch_size(batch))
        self.manual_backward(loss)
        self.second.update(loss * 2, weight=extract_batch_size(batch))
        self.optimizers().step()
        self.optimizers().zero_grad()

    def on_before_backward(self, loss):
        self.backward_mean.update(loss, weight=batch_size_in_flight(self.trainer))

    def on_train_epoch_compute(self):
        for name, attr in (("first", "first"), ("second", "second"), ("backward", "backward_mean")):
            aggregator = getattr(self, attr)
            if aggregator.update_called:
                self.put(name, aggregator.compute(), CB_LOG)
            aggregator.reset()
