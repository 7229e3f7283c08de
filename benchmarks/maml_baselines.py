"""Second-order MAML on sine waves written without ``reptile_edu``: the baselines of the MAML benchmark.

``higher_*``: the usual way with the ``higher`` library (as in its MAML examples): an
``nn.Module``, a loop over the tasks of the meta-batch, one ``higher.innerloop_ctx`` per task
with a differentiable SGD inner optimiser, the query loss of each task back-propagated into θ,
then one Adam step. ``higher`` is optional (``pip install -e ".[bench]"``).

``loop_*``: the same per-task loop with ``reptile_edu.one_task.maml_gradient_one`` (plain
``torch.autograd.grad`` with ``create_graph=True``), the fall-back when ``higher`` is missing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reptile_edu import Episodes
from reptile_edu.episodes import TaskSource
from reptile_edu.one_task import maml_gradient_one


def sine_net(hidden: int = 40) -> nn.Module:
    """MAML's sine network: 1 → 40 → 40 → 1 with ReLU."""
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def higher_meta_gradient(model: nn.Module, episodes: Episodes, *, k: int, eta: float) -> None:
    """Accumulate ∇_θ mean_t L^query_t(θ̃_t(θ)) into ``p.grad`` with one ``innerloop_ctx`` per task."""
    import higher

    inner_opt = torch.optim.SGD(model.parameters(), lr=eta)
    tasks = episodes.num_tasks
    for t in range(tasks):
        with higher.innerloop_ctx(model, inner_opt, copy_initial_weights=False) as (fmodel, diffopt):
            for _ in range(k):
                diffopt.step(F.mse_loss(fmodel(episodes.x_support[t]), episodes.y_support[t]))
            query_loss = F.mse_loss(fmodel(episodes.x_query[t]), episodes.y_query[t])
            (query_loss / tasks).backward()


def loop_meta_gradient(model: nn.Module, episodes: Episodes, *, k: int, eta: float) -> None:
    """The same gradient, task by task with ``reptile_edu.one_task.maml_gradient_one``."""
    tasks = episodes.num_tasks
    params = dict(model.named_parameters())
    for t in range(tasks):
        grads = maml_gradient_one(
            model,
            episodes.x_support[t],
            episodes.y_support[t],
            episodes.x_query[t],
            episodes.y_query[t],
            k=k,
            eta=eta,
        )
        for name, g in grads.items():
            p = params[name]
            p.grad = g / tasks if p.grad is None else p.grad + g / tasks


def train(
    model: nn.Module,
    source: TaskSource,
    optimizer: torch.optim.Optimizer,
    steps: int,
    *,
    k: int,
    eta: float,
    meta_batch: int = 25,
    generator: torch.Generator | None = None,
    use_higher: bool = True,
) -> None:
    """``steps`` MAML meta-steps: sample ``meta_batch`` tasks, meta-gradient, one step of ``optimizer``."""
    meta_gradient = higher_meta_gradient if use_higher else loop_meta_gradient
    device = next(model.parameters()).device
    for _ in range(steps):
        episodes = source.episodes(meta_batch, generator, device)
        optimizer.zero_grad()
        meta_gradient(model, episodes, k=k, eta=eta)
        optimizer.step()
