"""The same algorithms, written plainly for one task at a time.

This is the version to read aloud in a lesson: an ``nn.Module``, a loop over tasks,
``torch.optim.SGD`` for the inner loop. ``reptile_edu.meta`` does the same
arithmetic for a whole meta-batch at once; the tests check that both agree.
Inputs here have no task dimension: ``x`` is ``[N, ...]``.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ._checks import check_epsilon, check_int, check_positive


def _loss(pred: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    return F.mse_loss(pred, y) if loss == "mse" else F.cross_entropy(pred, y)


def sgd_adapt_one(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, k: int, eta: float, loss: str = "mse"
) -> nn.Module:
    """θ̃: a copy of ``model`` after k steps of SGD with learning rate η on one task (``model`` is unchanged)."""
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    adapted = copy.deepcopy(model)
    optimizer = torch.optim.SGD(adapted.parameters(), lr=eta)
    for _ in range(k):
        optimizer.zero_grad()
        _loss(adapted(x), y, loss).backward()
        optimizer.step()
    return adapted


def reptile_step_one(
    model: nn.Module,
    tasks: list[tuple[torch.Tensor, torch.Tensor]],
    *,
    k: int,
    eta: float,
    epsilon: float,
    loss: str = "mse",
) -> None:
    """One Reptile outer step, in place: θ ← θ + ε·mean over ``tasks`` of (θ̃ − θ)."""
    epsilon = check_epsilon(epsilon)
    adapted = [sgd_adapt_one(model, x, y, k=k, eta=eta, loss=loss) for x, y in tasks]
    with torch.no_grad():
        for name, theta in model.named_parameters():
            theta_tilde = torch.stack([dict(a.named_parameters())[name] for a in adapted])
            theta += epsilon * (theta_tilde - theta).mean(0)


def maml_gradient_one(
    model: nn.Module,
    x_support: torch.Tensor,
    y_support: torch.Tensor,
    x_query: torch.Tensor,
    y_query: torch.Tensor,
    *,
    k: int,
    eta: float,
    first_order: bool = False,
    loss: str = "mse",
) -> dict[str, torch.Tensor]:
    """∇_θ L^query(θ̃(θ)) for one task, θ̃ = k SGD steps on the support set.

    ``create_graph=True`` keeps the inner steps differentiable (MAML, second order);
    ``first_order=True`` returns ∇L^query at θ̃ instead (FOMAML).
    """
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    theta = dict(model.named_parameters())
    fast = dict(theta)
    for _ in range(k):
        inner = _loss(functional_call(model, fast, (x_support,)), y_support, loss)
        grads = torch.autograd.grad(inner, list(fast.values()), create_graph=not first_order)
        fast = {n: p - eta * g for (n, p), g in zip(fast.items(), grads)}
    query = _loss(functional_call(model, fast, (x_query,)), y_query, loss)
    wrt = fast if first_order else theta
    return dict(zip(wrt, torch.autograd.grad(query, list(wrt.values()))))
