"""A stripped-down Reptile for ``reptile_edu.MLP``: the package's inner loop without the package's outer step.

Measured by ``benchmarks/run.py`` next to ``reptile_edu.reptile``, to show what the package's outer
step costs. The inner loop is the package's own hand-derived one (``MLP.sgd_steps``:
k SGD steps on each task's support set, or on minibatches of it, with the mean-squared error);
then θ ← θ + ε·mean_t(θ̃_t − θ) in place. What it leaves out is the package's bookkeeping around
that: the support loss after adaptation (one more forward pass), the ``torch.isfinite`` check of
the new θ every step, and the parameter dictionaries; it also runs under ``torch.inference_mode``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from reptile_edu import MLP, Episodes
from reptile_edu.episodes import TaskSource
from reptile_edu.inner import InnerLoop
from reptile_edu.models import expand_params, parameters_of


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
    (cyclically); ``None`` uses them all. Computes no loss: returns the sum of θ̃'s first-layer
    biases over tasks (a 0-d tensor, not synchronised), which turns NaN or infinite when the steps diverge.
    """
    if episodes.loss != "mse":
        raise ValueError("the prototype handles the MSE (sine) case only")
    xs, ys = episodes.x_support, episodes.y_support
    start = expand_params(parameters_of(model), episodes.num_tasks)
    theta_tilde = model.sgd_steps(start, xs, ys, eta, InnerLoop(k, eta, batch_size).slices(xs.shape[1]))
    if update:
        for name, p in model.named_parameters():
            p.lerp_(theta_tilde[name].mean(0), epsilon)  # θ ← θ + ε(mean_t θ̃_t − θ)
    return theta_tilde["layers.0.bias"].sum()


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

    Like the package it reads one number per step (``float``: not a loss, see ``fast_reptile_step``)
    to hand it to ``callback`` and to stop when it is NaN/inf (the package checks every parameter).
    """
    device = next(model.parameters()).device
    for s in range(steps):
        episodes = source.episodes(meta_batch, generator, device)
        value = float(fast_reptile_step(model, episodes, k=k, eta=eta, epsilon=epsilon, batch_size=batch_size))
        if not math.isfinite(value):
            raise FloatingPointError(f"the prototype diverged at outer step {s + 1}")
        if callback is not None and callback(s + 1, value) is False:
            return s + 1
    return steps
