"""The inner loop's fast path: k SGD steps for the ``MLP`` with its gradient written out by hand.

Everywhere else the course gets ∇L_t(θ̃) from autograd (``algorithms._inner_sgd``). For the
sine lessons' case, an ``MLP`` with the mean-squared error and plain SGD, the backward pass is
short enough to write down. With h₀ = x, zᵢ = hᵢ₋₁Wᵢᵀ + bᵢ, hᵢ = σ(zᵢ) and the output z_L:

    d_L = ∂L/∂z_L = 2(z_L − y)/(N·out)          (L: the mean squared error over N points)
    ∂L/∂Wᵢ = dᵢᵀ hᵢ₋₁,   ∂L/∂bᵢ = Σ_points dᵢ
    dᵢ₋₁ = (dᵢ Wᵢ) ⊙ σ'(zᵢ₋₁),   tanh' = 1 − h²,   relu' = [h > 0]

for every task at once with batched matmuls, and the SGD step θ̃ ← θ̃ − η∇L is fused into the
weight-gradient matmul. Skipping autograd's bookkeeping makes an inner step several times
faster on a CPU, where these matrices are tiny. The arithmetic is the same as autograd's;
tests check the two paths agree, and ``autograd_only()`` switches this path off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .models import MLP, Params

_state = {"enabled": True}


@contextlib.contextmanager
def autograd_only() -> Iterator[None]:
    """Inside this block every inner loop uses autograd, the MLP's included (for comparisons)."""
    previous = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = previous


def applies(model: nn.Module, loss: str, create_graph: bool, plain_sgd: bool) -> bool:
    """Whether the hand-derived path computes this inner loop: an ``MLP`` (its own batched forward),
    the MSE, plain SGD and no graph through the steps (MAML's second order needs autograd)."""
    return (
        _state["enabled"]
        and plain_sgd
        and not create_graph
        and loss == "mse"
        and isinstance(model, MLP)
        and type(model).batched_forward is MLP.batched_forward
    )


@torch.no_grad()
def mlp_sgd(
    model: MLP, params: Params, x: torch.Tensor, y: torch.Tensor, eta: float, batches: list[slice]
) -> tuple[Params, torch.Tensor]:
    """θ̃ after one SGD step with learning rate η per entry of ``batches`` (the support points each
    inner step uses) on every task; also the first step's mean loss at θ. ``params`` are ``[T, ...]``."""
    n = len(model.layers)
    # Own contiguous copies of θ̃_t; bias views [T, 1, out] share their storage and broadcast in baddbmm.
    ws = [params[f"layers.{i}.weight"].clone(memory_format=torch.contiguous_format) for i in range(n)]
    bs = [params[f"layers.{i}.bias"].clone(memory_format=torch.contiguous_format) for i in range(n)]
    bs3 = [b.unsqueeze(1) for b in bs]
    tanh = model.activation == "tanh"
    first = None
    for sl in batches:
        hs = [x[:, sl]]  # the input of each layer
        for i in range(n):
            z = torch.baddbmm(bs3[i], hs[-1], ws[i].transpose(1, 2))
            hs.append((torch.tanh(z) if tanh else torch.relu(z)) if i < n - 1 else z)
        d = hs.pop() - y[:, sl]  # [T, B, out]
        if first is None:
            first = d.square().mean()
        d = d * (2.0 / (d.shape[1] * d.shape[2]))
        for i in range(n - 1, -1, -1):
            h = hs[i]
            if i > 0:
                back = torch.bmm(d, ws[i])  # through θ̃ before this step's update
                back = torch.addcmul(back, back * h, h, value=-1) if tanh else back * (h > 0)
            ws[i].baddbmm_(d.transpose(1, 2), h, alpha=-eta)  # W ← W − η dᵀh
            bs[i].sub_(d.sum(1), alpha=eta)  # b ← b − η Σ d
            if i > 0:
                d = back
    assert first is not None
    out = {}
    for i in range(n):
        out[f"layers.{i}.weight"], out[f"layers.{i}.bias"] = ws[i], bs[i]
    return out, first
