"""The task loss L_t: the mean squared error (regression) or the cross-entropy (classification)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def task_losses(pred: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """L_t for every task t, averaged over its points: ``[T]``. ``loss`` is ``"mse"`` or ``"ce"``."""
    if loss == "mse":
        return (pred - target).pow(2).flatten(1).mean(1)
    if loss == "ce":
        t, n = target.shape[:2]
        if target.numel() and int(target.max()) >= pred.shape[-1]:
            raise ValueError(
                f"the model has {pred.shape[-1]} outputs but the labels go up to {int(target.max())}: "
                f"an N-way task needs a model with N outputs, e.g. ConvNet(ways={int(target.max()) + 1})."
            )
        return F.cross_entropy(pred.reshape(t * n, -1), target.reshape(t * n), reduction="none").view(t, n).mean(1)
    raise ValueError(f"loss must be 'mse' or 'ce'; got {loss!r}.")
