"""A small Lightning project of the kind put-migrate is for: step and epoch metrics, validation, a callback."""

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


def synthetic(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :1] * 0.5 - x[:, 1:2]) + 0.1 * torch.randn(n, 1, generator=g)
    return TensorDataset(x, y)


class Regressor(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        pred = self.net(x)
        loss = torch.nn.functional.mse_loss(pred, y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train_mae", (pred - y).abs().mean(), on_epoch=True, on_step=False)
        self.log("pred_max", pred.max(), on_step=False, on_epoch=True, reduce_fx="max")
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("val_loss", loss, prog_bar=True)

    def on_train_epoch_end(self):
        self.log("lr", self.trainer.optimizers[0].param_groups[0]["lr"])

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)

    def train_dataloader(self):
        return DataLoader(synthetic(100, 0), batch_size=16)

    def val_dataloader(self):
        return DataLoader(synthetic(40, 1), batch_size=16)


class GradNorm(pl.Callback):
    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in pl_module.parameters()]))
        pl_module.log("grad_norm", norm)


CALLBACKS = [GradNorm]
