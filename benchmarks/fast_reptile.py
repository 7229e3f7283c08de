"""A prototype: Reptile for ``reptile_edu.MLP`` with a hand-derived backward pass (no autograd).

Measured by ``benchmarks/run.py`` next to the package, so the lead can judge whether to move it
into ``reptile_edu``. The arithmetic is the package's ``reptile_step`` with SGD (k SGD steps on
each task's support set, or on minibatches of it, with the mean-squared error, then
θ ← θ + ε·mean_t(θ̃_t − θ)); what
changes is how: per inner step one forward and one hand-written backward pass of batched matmuls,
with the SGD update fused into the weight-gradient matmul (``baddbmm_(…, alpha=-η)``), under
``torch.inference_mode`` (no autograd graph, no version counters), no ``torch.isfinite`` check
of the parameters per step, and no ``.item()``/``float()`` inside the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from reptile_edu import MLP, Episodes
from reptile_edu.algorithms import TaskSource


def _layers(model: MLP) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(layer.weight, layer.bias) for layer in model.layers]


@torch.inference_mode()
def fast_reptile_step(
    model: MLP,
    episodes: Episodes,
    *,
    k: int,
    eta: float,
    epsilon: float,
    batch_size: int | None = None,
    update: bool = True,
) -> torch.Tensor:
    """One Reptile outer step on all tasks of ``episodes``; updates ``model`` in place when ``update``.

    ``batch_size`` as in ``reptile_step``: inner step i uses support points i·b … i·b + b − 1
    (cyclically); ``None`` uses them all. Returns the mean loss of the first inner step's batch
    at θ (a 0-d tensor, not synchronised).
    """
    if episodes.loss != "mse":
        raise ValueError("the prototype handles the MSE (sine) case only")
    act = model.activation
    xs, ys = episodes.x_support, episodes.y_support
    t, shots = xs.shape[:2]
    b = shots if batch_size is None else batch_size
    if shots % b:
        raise ValueError(f"batch_size must divide the number of support points ({shots}); got {b}.")
    theta = _layers(model)
    # θ̃_t for every task: [T, out, in] and [T, 1, out] (bias kept 3-d so it broadcasts in baddbmm)
    ws = [w.unsqueeze(0).repeat(t, 1, 1) for w, _ in theta]
    bs = [b.view(1, 1, -1).repeat(t, 1, 1) for _, b in theta]
    scale = 2.0 / (b * ys.shape[-1])  # d/d out of the per-task mean of squared errors
    first = None
    last = len(ws) - 1
    for step in range(k):
        start = (step * b) % shots
        x, y = xs[:, start : start + b], ys[:, start : start + b]
        hs = [x]
        h = x
        for i in range(last + 1):
            h = torch.baddbmm(bs[i], h, ws[i].transpose(1, 2))
            if i < last:
                h = torch.tanh(h) if act == "tanh" else torch.relu(h)
                hs.append(h)
        d = h - y  # [T, N, out]
        if first is None:
            first = d.square().mean()
        d = d * scale
        for i in range(last, -1, -1):
            if i > 0:
                back = torch.bmm(d, ws[i])  # uses θ̃ before this step's update
                a = hs[i]
                # tanh' = 1 − a², as back − (back·a)·a; relu' = [a > 0]
                back = torch.addcmul(back, back * a, a, value=-1) if act == "tanh" else back * (a > 0)
            ws[i].baddbmm_(d.transpose(1, 2), hs[i], alpha=-eta)  # W ← W − η dᵀh
            bs[i].sub_(d.sum(1, keepdim=True), alpha=eta)
            if i > 0:
                d = back
    if update:
        for (w, b), wt, bt in zip(theta, ws, bs):
            w.lerp_(wt.mean(0), epsilon)  # θ ← θ + ε(mean_t θ̃_t − θ)
            b.lerp_(bt.mean(0).view(-1), epsilon)
    assert first is not None
    return first


def fast_reptile(
    model: MLP,
    source: TaskSource,
    *,
    steps: int,
    k: int = 5,
    eta: float = 0.02,
    epsilon: float = 0.1,
    meta_batch: int = 1,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
    callback: Callable[[int, float], bool | None] | None = None,
) -> int:
    """``reptile(...)``'s outer loop around ``fast_reptile_step``; returns the outer steps taken.

    Like the package it reads the loss once per step (``float``) to hand it to ``callback`` and
    to stop on a NaN/inf loss (one step later than the package's check of every parameter).
    """
    device = next(model.parameters()).device
    for s in range(steps):
        episodes = source.episodes(meta_batch, generator, device)
        loss = float(fast_reptile_step(model, episodes, k=k, eta=eta, epsilon=epsilon, batch_size=batch_size))
        if not math.isfinite(loss):
            raise FloatingPointError(f"the prototype diverged at outer step {s + 1}")
        if callback is not None and callback(s + 1, loss) is False:
            return s + 1
    return steps
