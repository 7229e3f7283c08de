"""The equations: one outer step of each method, for a whole meta-batch at once.

Notation (Nichol et al. 2018): θ is the initialisation being meta-learned, θ̃_t the parameters
after k steps of SGD with inner learning rate η on task t (``reptile_edu.inner.InnerLoop``),
ε the meta step size, T the tasks of a meta-batch. Each function here is pure: it returns a
new θ or a gradient and changes nothing; the training loops in ``reptile_edu.methods`` apply them.

* Reptile:  θ ← θ + ε·mean_t(θ̃_t − θ)                          ``reptile_outer_step``, ``reptile_step``
            or θ − mean_t θ̃_t as a gradient for an optimizer (Adam) ``reptile_gradient``
* MAML:     ∇_θ mean_t L^query_t(θ̃_t(θ)), through the k steps     ``maml_meta_gradient``
* FOMAML:   mean_t ∇L^query_t(θ̃_t), the inner steps held fixed     ``maml_meta_gradient(first_order=True)``
* Joint:    mean_t L_t(θ), one θ for all tasks, no adaptation      ``joint_loss``
"""

from __future__ import annotations

import torch
from torch import nn

from .episodes import Episodes
from .inner import InnerLoop
from .losses import task_losses
from .models import Params, batched_call, expand_params, parameters_of


def reptile_outer_step(theta: Params, theta_tilde: Params, epsilon: float) -> Params:
    """The Reptile update θ ← θ + ε·mean_t(θ̃_t − θ); ``theta_tilde`` is ``[T, ...]``."""
    return {n: theta[n] + epsilon * (theta_tilde[n] - theta[n]).mean(0) for n in theta}


def reptile_gradient(theta: Params, theta_tilde: Params) -> Params:
    """θ − mean_t θ̃_t: the direction Reptile's outer step follows, as a gradient.

    Reptile's update is plain SGD on it, θ ← θ − ε·(θ − mean_t θ̃_t) = ``reptile_outer_step``; the paper
    (Nichol et al. 2018, where it introduces Reptile) notes it can be handed to any optimizer instead, e.g. Adam.
    """
    return {n: theta[n] - theta_tilde[n].mean(0) for n in theta}


def adapt_meta_batch(model: nn.Module, episodes: Episodes, inner: InnerLoop) -> tuple[Params, Params, torch.Tensor]:
    """θ, every task's θ̃_t after the inner loop on its support set (``[T, ...]``), and the mean support
    loss at θ̃ (it falls as meta-learning works). The model is unchanged."""
    theta = {n: p.detach() for n, p in parameters_of(model).items()}
    xs, ys = episodes.x_support, episodes.y_support
    theta_tilde = inner.adapt(model, expand_params(theta, episodes.num_tasks), xs, ys, episodes.loss)
    with torch.no_grad():
        adapted = task_losses(batched_call(model, theta_tilde, xs), ys, episodes.loss)
    return theta, theta_tilde, adapted.mean()


def reptile_step(
    model: nn.Module,
    episodes: Episodes,
    *,
    k: int,
    eta: float,
    epsilon: float,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    minibatches: str = "separate",
) -> tuple[Params, torch.Tensor]:
    """One Reptile outer step on a meta-batch: adapt every task for k steps on its support set,
    then move θ toward the mean θ̃. Returns the new θ (the model is unchanged) and the
    mean support loss after adaptation (at θ̃). ``inner_optimizer`` is ``"sgd"`` or ``"adam"`` (β1 = 0);
    ``minibatches`` is ``"separate"`` or ``"same"`` (see ``InnerLoop``)."""
    inner = InnerLoop(k, eta, batch_size, inner_optimizer, minibatches=minibatches)
    theta, theta_tilde, loss = adapt_meta_batch(model, episodes, inner)
    return reptile_outer_step(theta, theta_tilde, epsilon), loss


def maml_meta_gradient(
    model: nn.Module,
    episodes: Episodes,
    *,
    k: int,
    eta: float,
    first_order: bool = False,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
) -> tuple[Params, torch.Tensor]:
    """∇_θ mean_t L^query_t(θ̃_t(θ)): the MAML meta-gradient through k inner SGD steps.

    Second order (default) differentiates through the inner loop (``create_graph=True``);
    ``first_order=True`` (FOMAML) drops those second derivatives and uses
    mean_t ∇L^query_t evaluated at θ̃_t. Returns the gradient and the mean query loss.
    ``inner_optimizer="adam"`` adapts with Adam (β1 = 0); second order then differentiates
    through Adam's steps too.
    """
    inner = InnerLoop(k, eta, batch_size, inner_optimizer)
    theta = parameters_of(model)
    names = list(theta)
    with torch.enable_grad():
        theta_tilde = inner.adapt(
            model,
            expand_params(theta, episodes.num_tasks),
            episodes.x_support,
            episodes.y_support,
            episodes.loss,
            create_graph=not first_order,
        )
        query = task_losses(batched_call(model, theta_tilde, episodes.x_query), episodes.y_query, episodes.loss).mean()
        if first_order:
            grads = torch.autograd.grad(query, [theta_tilde[n] for n in names])
            grads = [g.sum(0) for g in grads]  # d(mean_t L_t)/dθ̃_t summed over t = mean_t ∇L_t(θ̃_t)
        else:
            grads = torch.autograd.grad(query, [theta[n] for n in names])
    return dict(zip(names, grads)), query.detach()


def joint_loss(model: nn.Module, episodes: Episodes) -> torch.Tensor:
    """The joint-training loss mean_t L_t(θ): each task's support loss at the one shared θ, averaged."""
    params = expand_params(parameters_of(model), episodes.num_tasks)
    return task_losses(batched_call(model, params, episodes.x_support), episodes.y_support, episodes.loss).mean()
