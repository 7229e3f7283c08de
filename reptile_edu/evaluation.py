"""Evaluation on held-out tasks: adapt θ with k inner steps, measure the query loss after each step.

``evaluate`` gives the curve "query loss (and accuracy) after 0, 1, …, k steps" averaged over
tasks, plus each task's final numbers. ``nearest_neighbour_accuracy`` is the pixel-space
yardstick for character episodes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import check_int
from .episodes import Episodes, TaskSource, check_source
from .inner import InnerLoop
from .losses import task_losses
from .methods import DivergenceError
from .models import Params, batched_call, check_model, expand_params, parameters_of


@dataclass
class Evaluation:
    """Query loss (and accuracy for classification) after 0, 1, …, k adaptation steps, mean over tasks.

    ``final_per_task`` is each task's query loss after k steps ``[T]``; for classification
    ``accuracy_per_task`` is each task's query accuracy after k steps ``[T]``.
    """

    loss: list[float]
    accuracy: list[float] | None
    final_per_task: torch.Tensor
    accuracy_per_task: torch.Tensor | None = None

    @property
    def final(self) -> float:
        """The mean query loss after all k steps."""
        return self.loss[-1]

    def accuracy_interval(self, z: float = 1.96) -> tuple[float, float]:
        """Mean accuracy after k steps over the T tasks and the half-width z·s/√T of its 95 % interval."""
        if self.accuracy_per_task is None:
            raise ValueError("accuracy_interval needs classification tasks (loss='ce').")
        acc = self.accuracy_per_task.double()
        half = z * float(acc.std()) / math.sqrt(len(acc)) if len(acc) > 1 else math.nan
        return float(acc.mean()), half


def _predict(model: nn.Module, params: Params, xs: torch.Tensor, xq: torch.Tensor, transductive: bool) -> torch.Tensor:
    """Query predictions ``[T, Q, ...]``: all queries of a task in one batch (transductive), or
    each query in a batch of its own with the task's support set (non-transductive)."""
    if transductive:
        return batched_call(model, params, xq)
    t, q = xq.shape[:2]
    batch = torch.cat([xs.unsqueeze(1).expand(t, q, *xs.shape[1:]), xq.unsqueeze(2)], dim=2)  # [T, Q, S+1, ...]
    per_query = {n: p.repeat_interleave(q, dim=0) for n, p in params.items()}  # the task's θ̃ for each query
    out = batched_call(model, per_query, batch.flatten(0, 1))[:, -1]
    return out.view(t, q, *out.shape[1:])


def _evaluate_chunk(
    model: nn.Module, ep: Episodes, inner: InnerLoop, transductive: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-step, per-task query losses ``[k+1, T]`` (and accuracies) of one batch of tasks."""
    theta = expand_params({n: p.detach() for n, p in parameters_of(model).items()}, ep.num_tasks)
    losses, accs = [], []
    for step, params in enumerate(inner.trajectory(model, theta, ep.x_support, ep.y_support, ep.loss)):
        with torch.no_grad():
            pred = _predict(model, params, ep.x_support, ep.x_query, transductive)
            per_task = task_losses(pred, ep.y_query, ep.loss)
            if not bool(torch.isfinite(per_task).all()):
                value = float(per_task[~torch.isfinite(per_task)][0])
                raise DivergenceError(
                    "Adaptation", step, value, f"the inner learning rate η (eta={inner.eta:g})", unit="inner step"
                )
            losses.append(per_task)
            if ep.loss == "ce":
                accs.append((pred.argmax(-1) == ep.y_query).float().mean(1))
    return torch.stack(losses), (torch.stack(accs) if accs else None)


def evaluate(
    model: nn.Module,
    source: TaskSource | Episodes,
    *,
    k: int,
    eta: float,
    num_tasks: int = 100,
    generator: torch.Generator | None = None,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    transductive: bool = True,
    chunk_size: int | None = None,
) -> Evaluation:
    """Adapt θ to held-out tasks with k steps of SGD (η) on their support sets; measure the query loss.

    ``source`` is a task family (``num_tasks`` fresh tasks are drawn) or ready ``Episodes``.
    Records the curve after each step 0 … k, so one call gives "MSE after 1, 5, 10 steps",
    and for classification (``loss="ce"``) the query accuracy too.

    ``inner_optimizer="adam"`` adapts with Adam (β1 = 0). ``transductive=False`` predicts each
    query on its own, batched with the support set, instead of all queries in one batch; it
    only matters for models with batch norm (see ``ConvNet``). ``chunk_size`` adapts that many
    tasks at a time, to bound memory; the numbers are the same.
    """
    check_model(model)
    inner = InnerLoop(k, eta, batch_size, inner_optimizer)
    device = next(model.parameters()).device
    if isinstance(source, Episodes):
        ep = source.to(device)
    else:
        ep = check_source(source).episodes(check_int("num_tasks", num_tasks), generator, device)
    size = ep.num_tasks if chunk_size is None else check_int("chunk_size", chunk_size)
    parts = [_evaluate_chunk(model, ep_chunk, inner, bool(transductive)) for ep_chunk in _chunks(ep, size)]
    losses = torch.cat([p[0] for p in parts], dim=1)
    accs = torch.cat([p[1] for p in parts], dim=1) if ep.loss == "ce" else None  # type: ignore[misc]
    return Evaluation(
        loss=losses.mean(1).tolist(),
        accuracy=accs.mean(1).tolist() if accs is not None else None,
        final_per_task=losses[-1],
        accuracy_per_task=accs[-1] if accs is not None else None,
    )


def _chunks(ep: Episodes, size: int) -> Iterator[Episodes]:
    for start in range(0, ep.num_tasks, size):
        yield ep.tasks(start, start + size)


def nearest_neighbour_accuracy(episodes: Episodes) -> torch.Tensor:
    """Per-episode accuracy ``[T]`` of the 1-nearest-neighbour classifier on raw pixels.

    Each query image gets the label of the support image closest in Euclidean distance.
    On real Omniglot (28×28, 5-way 1-shot) this scores about 0.42: the difficulty yardstick.
    """
    if episodes.loss != "ce":
        raise ValueError(
            f"nearest_neighbour_accuracy needs classification episodes (loss='ce'); got {episodes.loss!r}."
        )
    xs = episodes.x_support.flatten(2).float()
    xq = episodes.x_query.flatten(2).float()
    nearest = torch.cdist(xq, xs).argmin(-1)  # [T, Q]
    predicted = episodes.y_support.gather(1, nearest)
    return (predicted == episodes.y_query).float().mean(1)
