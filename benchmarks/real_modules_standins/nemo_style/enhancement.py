"""``EncMaskDecAudioToAudioModel`` as in ``nemo/collections/audio/models/enhancement.py`` (training and evaluation
steps verbatim); the encoder, mask estimator and decoder are one small convolution here, the data synthetic."""

import einops
import torch
from torch.utils.data import DataLoader, TensorDataset

from nemo_style.audio_to_audio import AudioToAudioModel


class _MaskedConv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 1, kernel_size=5, padding=2)

    def forward(self, input, input_length):
        return input * torch.sigmoid(self.conv(input)), input_length


class _SignalLoss(torch.nn.Module):
    def forward(self, estimate, target, input_length):
        return torch.mean((estimate - target) ** 2)


def _signals(n: int, seed: int) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    target = torch.sin(torch.linspace(0, 20, 64)).repeat(n, 1) * torch.rand(n, 1, generator=g)
    noisy = target + 0.3 * torch.randn(n, 64, generator=g)
    return TensorDataset(noisy, torch.full((n,), 64), target, torch.zeros(n))


class EncMaskDecAudioToAudioModel(AudioToAudioModel):
    """Encoder-mask-decoder enhancement model."""

    def __init__(self, cfg: dict = None, trainer=None):
        super().__init__(cfg=cfg or {"lr": 1e-2}, trainer=trainer)
        self.model = _MaskedConv()
        self.loss = _SignalLoss()
        self.channel_augmentation = None

    def forward(self, input_signal, input_length=None):
        return self.model(input_signal, input_length)

    def train_dataloader(self):
        return DataLoader(_signals(24, 0), batch_size=8, shuffle=True)

    def val_dataloader(self):
        return DataLoader(_signals(10, 1), batch_size=4)

    def test_dataloader(self):
        return DataLoader(_signals(10, 2), batch_size=3)

    # PTL-specific methods
    def training_step(self, batch, batch_idx):

        if isinstance(batch, dict):
            # lhotse batches are dictionaries
            input_signal = batch['input_signal']
            input_length = batch['input_length']
            target_signal = batch['target_signal']
        else:
            input_signal, input_length, target_signal, _ = batch

        # For consistency, the model uses multi-channel format, even if the channel dimension is 1
        if input_signal.ndim == 2:
            input_signal = einops.rearrange(input_signal, 'B T -> B 1 T')
        if target_signal.ndim == 2:
            target_signal = einops.rearrange(target_signal, 'B T -> B 1 T')

        # Apply channel augmentation
        if self.training and self.channel_augmentation is not None:
            input_signal = self.channel_augmentation(input=input_signal)

        # Process input
        processed_signal, _ = self.forward(input_signal=input_signal, input_length=input_length)

        # Calculate the loss
        loss = self.loss(estimate=processed_signal, target=target_signal, input_length=input_length)

        # Logs
        self.log('train_loss', loss)
        self.log('learning_rate', self._optimizer.param_groups[0]['lr'])
        self.log('global_step', torch.tensor(self.trainer.global_step, dtype=torch.float32))

        # Return loss
        return loss

    def evaluation_step(self, batch, batch_idx, dataloader_idx: int = 0, tag: str = 'val'):

        if isinstance(batch, dict):
            # lhotse batches are dictionaries
            input_signal = batch['input_signal']
            input_length = batch['input_length']
            target_signal = batch['target_signal']
        else:
            input_signal, input_length, target_signal, _ = batch

        # For consistency, the model uses multi-channel format, even if the channel dimension is 1
        if input_signal.ndim == 2:
            input_signal = einops.rearrange(input_signal, 'B T -> B 1 T')
        if target_signal.ndim == 2:
            target_signal = einops.rearrange(target_signal, 'B T -> B 1 T')

        # Process input
        processed_signal, _ = self.forward(input_signal=input_signal, input_length=input_length)

        # Calculate the loss
        loss = self.loss(estimate=processed_signal, target=target_signal, input_length=input_length)

        # Update metrics
        if hasattr(self, 'metrics') and tag in self.metrics:
            # Update metrics for this (tag, dataloader_idx)
            for name, metric in self.metrics[tag][dataloader_idx].items():
                metric.update(preds=processed_signal, target=target_signal, input_length=input_length)

        # Log global step
        self.log('global_step', torch.tensor(self.trainer.global_step, dtype=torch.float32))

        # Return loss
        return {f'{tag}_loss': loss}
