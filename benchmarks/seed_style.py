"""Reptile on sine waves written the way most tutorials write it: the baseline of the benchmarks.

One task per outer step, an ``nn.Module``, ``torch.optim.SGD`` for the k inner steps, the weights
copied with ``copy.deepcopy(model.state_dict())`` before adapting, and θ ← θ + ε(θ̃ − θ) computed
name by name in Python and loaded back with ``load_state_dict``. Tasks are drawn with NumPy: as
in the Reptile sine demo, 50 points per task, and the k = 5 inner steps take minibatches of 10 of
them in turn. Nothing here is tuned for speed on purpose: it is the loop a learner would write
first, and what ``reptile_edu`` is measured against.

The arithmetic is that of ``reptile_edu.reptile(..., meta_batch=1, batch_size=10)``: k SGD steps
of the mean squared error, step i on the i-th minibatch of the task's points, then the
interpolation.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class SineNet(nn.Module):
    """The Reptile sine demo's network: 1 → 64 → 64 → 1 with tanh."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def sample_task(rng: np.random.Generator, shots: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """One sine task of the Reptile demo: A ∈ [0.1, 5], φ ∈ [0, 2π], ``shots`` points x ∈ [−5, 5]."""
    amplitude = rng.uniform(0.1, 5.0)
    phase = rng.uniform(0.0, 2 * math.pi)
    x = rng.uniform(-5.0, 5.0, size=(shots, 1))
    y = amplitude * np.sin(x - phase)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


def adapt_and_interpolate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    k: int,
    eta: float,
    epsilon: float,
    batch_size: int | None = None,
) -> float:
    """One Reptile outer step on one task, in place; returns the loss of the first minibatch before adapting.

    Step i uses points i·b … i·b + b − 1 (cyclically) with b = ``batch_size``, or all points.
    """
    weights_before = copy.deepcopy(model.state_dict())
    optimizer = torch.optim.SGD(model.parameters(), lr=eta)
    b = batch_size or len(x)
    first_loss = None
    for i in range(k):
        start = (i * b) % len(x)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x[start : start + b]), y[start : start + b])
        loss.backward()
        optimizer.step()
        if first_loss is None:
            first_loss = loss.item()
    weights_after = model.state_dict()
    model.load_state_dict(
        {name: weights_before[name] + epsilon * (weights_after[name] - weights_before[name]) for name in weights_before}
    )
    return first_loss


def train(
    model: nn.Module,
    steps: int,
    *,
    k: int = 5,
    eta: float = 0.02,
    epsilon: float = 0.1,
    shots: int = 50,
    batch_size: int | None = 10,
    seed: int = 0,
    callback: Callable[[int, float], bool | None] | None = None,
    sample: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> int:
    """``steps`` outer steps, one fresh task each; ``callback(step, loss)`` returning False stops early.

    Tasks come from ``sample()`` if given (``(x, y)``, each ``[shots, 1]``), else from ``sample_task``
    with a NumPy generator seeded with ``seed``. Returns the number of outer steps taken (= tasks adapted).
    """
    rng = np.random.default_rng(seed)
    for step in range(1, steps + 1):
        x, y = sample() if sample is not None else sample_task(rng, shots)
        loss = adapt_and_interpolate(model, x, y, k=k, eta=eta, epsilon=epsilon, batch_size=batch_size)
        if callback is not None and callback(step, loss) is False:
            return step
    return steps
