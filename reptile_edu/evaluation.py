"""Evaluation on held-out tasks: adapt θ with k inner steps, measure the query loss after each step.

``evaluate`` gives the curve "query loss (and accuracy) after 0, 1, …, k steps" averaged over
tasks, plus each task's numbers, so that an ``Evaluation`` also tells what a mean hides: the
median and a high quantile over tasks, the worst task, and how many tasks diverged while adapting
(see ``EXPLOSION_FACTOR``). ``nearest_neighbour_accuracy`` is the pixel-space yardstick for
character episodes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import check_fraction, check_int
from .episodes import Episodes, TaskSource, check_source
from .i18n import tr
from .inner import InnerLoop
from .losses import task_losses
from .messages import message
from .methods import DivergenceError
from .models import Params, batched_call, check_model, expand_params, parameters_of

#: A task *diverged* while adapting when its query loss became NaN or infinite, or grew above
#: ``EXPLOSION_FACTOR`` times its loss before adaptation (after 0 steps), at any of the k steps.
EXPLOSION_FACTOR = 100.0


class DivergedTasksWarning(RuntimeWarning):
    """Some held-out tasks diverged while adapting (``Evaluation.diverged_tasks``); the others did not."""


@dataclass
class Evaluation:
    """Query loss (and accuracy for classification) after 0, 1, …, k adaptation steps, mean over tasks.

    ``loss[s]`` is the mean over the tasks whose loss after s steps is finite (a NaN or infinite
    task is counted in ``diverged_tasks`` and left out of that mean, never averaged into a NaN).
    ``loss_per_task`` is every task's query loss after each step ``[k+1, T]``; ``final_per_task`` is
    its last row ``[T]``; for classification ``accuracy_per_task`` is each task's query accuracy after
    k steps ``[T]``. ``median``, ``quantile(q)``, ``worst_task`` and ``diverged_tasks`` tell what the
    mean hides: one diverging task can make the mean as large as it likes, not the median.
    """

    loss: list[float]
    accuracy: list[float] | None
    final_per_task: torch.Tensor
    accuracy_per_task: torch.Tensor | None = None
    loss_per_task: torch.Tensor | None = None

    @property
    def final(self) -> float:
        """The mean query loss after all k steps."""
        return self.loss[-1]

    def _table(self) -> torch.Tensor:
        """Every task's loss after each step ``[steps, T]`` (only the final row when that is all there is)."""
        table = self.loss_per_task if self.loss_per_task is not None else self.final_per_task.unsqueeze(0)
        return table.detach().double().cpu()

    def quantile(self, q: float = 0.9) -> list[float]:
        """The q-quantile of the query loss over tasks after each step 0 … k (linear interpolation).

        A task whose loss is NaN or infinite counts as +∞: it pushes the quantile up, as it should,
        and the quantile stays finite as long as fewer than a fraction 1 − q of the tasks diverged.
        """
        q = check_fraction("q (quantile)", q)
        table = self._table()
        values = torch.where(torch.isnan(table), math.inf, table).sort(dim=1).values
        pos = q * (values.shape[1] - 1)
        lo, hi, w = math.floor(pos), math.ceil(pos), pos - math.floor(pos)
        a, b = values[:, lo], values[:, hi]
        between = torch.where(a == b, a, a + (b - a) * w) if w > 0 else a
        return between.tolist()

    @property
    def median(self) -> list[float]:
        """The median query loss over tasks after each step 0 … k (``quantile(0.5)``)."""
        return self.quantile(0.5)

    @property
    def worst_task(self) -> tuple[int, float]:
        """The task with the highest query loss after k steps, NaN counted highest: ``(index, loss)``."""
        final = self._table()[-1]
        index = int(torch.where(torch.isnan(final), math.inf, final).argmax())
        return index, float(final[index])

    @property
    def diverged_tasks(self) -> list[int]:
        """The tasks (indices) whose query loss became NaN or infinite, or grew above ``EXPLOSION_FACTOR``
        times its loss before adaptation, at any step."""
        table = self._table()
        exploded = ~torch.isfinite(table) | (table > EXPLOSION_FACTOR * table[:1])
        return torch.nonzero(exploded.any(0)).flatten().tolist()

    @property
    def diverged(self) -> int:
        """How many tasks diverged while adapting (``len(diverged_tasks)``)."""
        return len(self.diverged_tasks)

    def summary(self) -> str:
        """One line in the current language: the mean and median after k steps, the 90 % quantile, the
        worst task and how many tasks diverged."""
        index, worst = self.worst_task
        return tr(
            "evaluation_summary",
            k=len(self.loss) - 1,
            mean=self.final,
            median=self.median[-1],
            q90=self.quantile(0.9)[-1],
            task=index,
            worst=worst,
            diverged=self.diverged,
            tasks=self._table().shape[1],
        )

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
    """Per-step, per-task query losses ``[k+1, T]`` (and accuracies) of one batch of tasks; a task that
    diverges gives NaN or ∞ from then on, and the other tasks are not affected (each has its own θ̃)."""
    theta = expand_params({n: p.detach() for n, p in parameters_of(model).items()}, ep.num_tasks)
    losses, accs = [], []
    for params in inner.trajectory(model, theta, ep.x_support, ep.y_support, ep.loss):
        with torch.no_grad():
            pred = _predict(model, params, ep.x_support, ep.x_query, transductive)
            losses.append(task_losses(pred, ep.y_query, ep.loss))
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

    A task that diverges while adapting (its loss NaN, ∞, or above ``EXPLOSION_FACTOR`` × its
    loss before adaptation) is named in a ``DivergedTasksWarning`` and counted in
    ``Evaluation.diverged_tasks``; NaN or infinite tasks are left out of the mean. When half of the
    tasks or more become NaN or infinite, ``DivergenceError`` names η instead.
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
    finite = torch.isfinite(losses)
    _raise_if_most_diverged(losses, inner)
    result = Evaluation(
        loss=(torch.where(finite, losses, 0.0).sum(1) / finite.sum(1)).tolist(),
        accuracy=accs.mean(1).tolist() if accs is not None else None,
        final_per_task=losses[-1],
        accuracy_per_task=accs[-1] if accs is not None else None,
        loss_per_task=losses,
    )
    if result.diverged:
        _warn_diverged(result, int((~finite[-1]).sum()), inner)
    return result


def _raise_if_most_diverged(losses: torch.Tensor, inner: InnerLoop) -> None:
    """``DivergenceError`` at the first step at which half of the tasks or more have a NaN or infinite
    loss ``[k+1, T]``: then not even the median says anything."""
    bad = ~torch.isfinite(losses)
    most = bad.sum(1) * 2 >= losses.shape[1]
    if bool(most.any()):
        step = int(most.nonzero()[0])
        value = float(losses[step][bad[step]][0])
        raise DivergenceError("Adaptation", step, value, message("hint_eta", eta=inner.eta), unit="inner step")


def _warn_diverged(result: Evaluation, non_finite: int, inner: InnerLoop) -> None:
    """Tell the learner which tasks diverged and what that does to the mean (``DivergedTasksWarning``)."""
    index, worst = result.worst_task
    text = message(
        "tasks_diverged",
        diverged=result.diverged,
        tasks=len(result.final_per_task),
        factor=EXPLOSION_FACTOR,
        task=index,
        worst=worst,
        k=inner.k,
        mean=result.final,
        median=result.median[-1],
    )
    if non_finite:
        text += " " + message("tasks_left_out", n=non_finite)
    text += " " + message("tasks_diverged_hint", eta=inner.eta)
    warnings.warn(text, DivergedTasksWarning, stacklevel=3)


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
