"""A logging-heavy LightningModule for benchmarks/runtime.py: 20 logged values per training step, mixed options."""

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class HeavyLogging(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(32, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        out = self.layer(x)
        loss = torch.nn.functional.mse_loss(out, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train_mae", (out - y).abs().mean(), prog_bar=True)
        self.log("out_mean", out.mean(), on_epoch=True)
        self.log("out_std", out.std(), on_epoch=True)
        self.log("out_max", out.max(), on_step=False, on_epoch=True, reduce_fx="max")
        self.log("out_min", out.min(), on_step=False, on_epoch=True, reduce_fx="min")
        self.log("y_mean", y.mean())
        self.log("y_sum", y.sum(), on_step=False, on_epoch=True, reduce_fx="sum")
        self.log("x_mean", x.mean())
        self.log("x_std", x.std())
        self.log("x_abs", x.abs().mean(), on_epoch=True)
        self.log("w_norm", self.layer.weight.norm())
        self.log("b", self.layer.bias.squeeze())
        self.log("lr", 0.01, prog_bar=True)
        self.log("resid_mean", (out - y).mean(), on_epoch=True)
        self.log("resid_sq", ((out - y) ** 2).mean(), on_step=False, on_epoch=True)
        self.log("pos_frac", (out > 0).float().mean())
        self.log("neg_frac", (out < 0).float().mean(), on_epoch=True)
        self.log("loss_x2", loss * 2)
        self.log("loss_log", torch.log1p(loss), on_step=False, on_epoch=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        return DataLoader(TensorDataset(torch.randn(4096, 32, generator=g), torch.randn(4096, 1, generator=g)),
                          batch_size=16)
