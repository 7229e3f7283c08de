"""Watching meta-training: how the gradients of a task's minibatches align, and how much each layer moves.

Lesson 05's Taylor expansion says that Reptile's update climbs the inner product ḡ_i·ḡ_j of the
gradients of two *different* minibatches i ≠ j of the *same* task (AvgGradInner): when they agree, a
step on one minibatch also lowers the loss on the others. ``DynamicsRecorder`` measures that while a
run trains, on a fixed set of probe tasks, together with how much each layer's parameters change:

* ``within_cosine`` / ``within_inner``: mean cos(ḡ_i, ḡ_j) and ḡ_i·ḡ_j over the pairs i ≠ j of
  minibatches of one task, at the current θ;
* ``across_cosine``: the same cosine for minibatches of *different* tasks, for contrast;
* ``layer_step``: ‖θ_l(s) − θ_l(s − 1)‖ / ‖θ_l(s − 1)‖ for each layer l, the relative change of θ in one
  outer step, averaged over the steps since the last record;
* ``layer_adaptation`` (when given the training ``InnerLoop``): ‖θ̃_l − θ_l‖ / ‖θ_l‖, how far the inner
  loop moves each layer, averaged over the probe tasks.

Use it as the training callback: ``reptile(model, family, ..., callback=recorder)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from torch import nn

from ._checks import check_divides, check_int
from .episodes import Episodes
from .i18n import plot_text
from .inner import InnerLoop
from .losses import task_losses
from .messages import message
from .models import Params, batched_call, check_model, expand_params, parameters_of


def layer_groups(model: nn.Module) -> dict[str, list[str]]:
    """The model's layers and their parameters' names, in order: ``{"layers.0": ["layers.0.weight",
    "layers.0.bias"], …}`` (a layer is the module that owns the parameters)."""
    groups: dict[str, list[str]] = {}
    for name, _ in model.named_parameters():
        groups.setdefault(name.rsplit(".", 1)[0] if "." in name else name, []).append(name)
    return groups


def minibatch_gradients(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    loss: str = "mse",
    params: Params | None = None,
) -> torch.Tensor:
    """ḡ_{t,i} = ∇L(θ; minibatch i of task t) as vectors ``[T, m, P]``: the N points of each task
    (``x``, ``y`` are ``[T, N, ...]``) cut into m = N / b minibatches of b = ``batch_size`` points, in order.

    θ is the model's own parameters, or ``params``. All T·m gradients come from one backward pass of the
    sum of the losses: each minibatch's loss depends only on its own copy of θ.
    """
    check_model(model)
    t, n = x.shape[:2]
    b = check_int("batch_size", batch_size, low=1, high=n)
    check_divides("batch_size", b, n)
    m = n // b
    theta = params if params is not None else parameters_of(model)
    copies = {name: p.detach().clone().unsqueeze(0).repeat(t * m, *([1] * p.dim())) for name, p in theta.items()}
    copies = {name: p.requires_grad_(True) for name, p in copies.items()}
    xb = x.reshape(t * m, b, *x.shape[2:])
    yb = y.reshape(t * m, b, *y.shape[2:])
    with torch.enable_grad():
        losses = task_losses(batched_call(model, copies, xb), yb, loss)
        grads = torch.autograd.grad(losses.sum(), list(copies.values()))
    return torch.cat([g.reshape(t * m, -1) for g in grads], 1).view(t, m, -1)


def alignment(grads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For gradients ``[T, m, P]``: cos(ḡ_i, ḡ_j) and ḡ_i·ḡ_j for every pair of minibatches of each task,
    as two ``[T, m, m]`` matrices (the diagonal pairs a minibatch with itself: cosine 1)."""
    inner = grads @ grads.transpose(1, 2)
    norms = inner.diagonal(dim1=1, dim2=2).clamp_min(0).sqrt()
    cos = inner / (norms.unsqueeze(2) * norms.unsqueeze(1)).clamp_min(torch.finfo(grads.dtype).tiny)
    return cos, inner


def off_diagonal_mean(matrices: torch.Tensor) -> float:
    """The mean of the entries i ≠ j of ``[T, m, m]`` matrices: the pairs of different minibatches."""
    m = matrices.shape[-1]
    if m < 2:
        raise ValueError(message("two_minibatches", m=m))
    mask = ~torch.eye(m, dtype=torch.bool, device=matrices.device)
    return float(matrices[:, mask].mean())


def across_task_cosine(grads: torch.Tensor) -> float:
    """Mean cos(ḡ_{t,i}, ḡ_{t+1,i}): minibatch i of task t against minibatch i of the next task (``[T, m, P]``,
    T ≥ 2), the contrast to the within-task alignment."""
    if grads.shape[0] < 2:
        raise ValueError(message("two_tasks", n=grads.shape[0]))
    other = grads.roll(1, dims=0)
    return float(torch.nn.functional.cosine_similarity(grads, other, dim=-1).mean())


@dataclass
class Dynamics:
    """What a ``DynamicsRecorder`` measured at each recorded outer step (see the module docstring)."""

    step: list[int] = field(default_factory=list)
    within_cosine: list[float] = field(default_factory=list)
    within_inner: list[float] = field(default_factory=list)
    across_cosine: list[float] = field(default_factory=list)
    layer_step: dict[str, list[float]] = field(default_factory=dict)
    layer_adaptation: dict[str, list[float]] = field(default_factory=dict)


Callback = Callable[[int, float], "bool | None"]


class DynamicsRecorder:
    """A training callback that records the ``Dynamics`` of a run every ``every`` outer steps (and at step 0).

    ``probe`` holds fixed tasks; the support set of each (K points) is cut into minibatches of
    ``batch_size`` points (at least two per task). With ``inner`` (the run's ``InnerLoop``) it also records
    how far the inner loop moves each layer on the probe tasks. ``callback`` is called after it, so a
    widget's callback can still stop the run.
    """

    def __init__(
        self,
        model: nn.Module,
        probe: Episodes,
        *,
        batch_size: int,
        every: int = 50,
        inner: InnerLoop | None = None,
        callback: Callback | None = None,
    ) -> None:
        self.model = check_model(model)
        self.probe = probe.to(next(model.parameters()).device)
        shots = probe.x_support.shape[1]
        self.batch_size = check_int("batch_size", batch_size, low=1, high=shots // 2)
        self.every = check_int("every", every)
        self.inner, self.callback = inner, callback
        self.groups = layer_groups(model)
        self.dynamics = Dynamics(
            layer_step={layer: [] for layer in self.groups},
            layer_adaptation={layer: [] for layer in self.groups} if inner is not None else {},
        )
        self._previous = self._theta()
        self._sums = dict.fromkeys(self.groups, 0.0)
        self._count = 0
        self.record(0)

    def _theta(self) -> Params:
        return {n: p.detach().clone() for n, p in self.model.named_parameters()}

    def _layer_norm(self, params: Params, layer: str) -> torch.Tensor:
        return torch.sqrt(sum(params[n].pow(2).sum() for n in self.groups[layer]))

    def __call__(self, step: int, loss: float) -> bool | None:
        """After outer step ``step``: add this step's change of θ, and record every ``every`` steps."""
        now = self._theta()
        for layer, names in self.groups.items():
            moved = torch.sqrt(sum((now[n] - self._previous[n]).pow(2).sum() for n in names))
            self._sums[layer] += float(moved / self._layer_norm(self._previous, layer).clamp_min(1e-30))
        self._previous, self._count = now, self._count + 1
        if step % self.every == 0:
            self.record(step)
        return self.callback(step, loss) if self.callback is not None else None

    def record(self, step: int) -> None:
        """Measure the alignment (and the inner loop's movement) at the current θ, as outer step ``step``."""
        d, ep = self.dynamics, self.probe
        grads = minibatch_gradients(self.model, ep.x_support, ep.y_support, batch_size=self.batch_size, loss=ep.loss)
        cos, inner = alignment(grads)
        d.step.append(step)
        d.within_cosine.append(off_diagonal_mean(cos))
        d.within_inner.append(off_diagonal_mean(inner))
        d.across_cosine.append(across_task_cosine(grads))
        for layer in self.groups:
            d.layer_step[layer].append(self._sums[layer] / self._count if self._count else float("nan"))
        self._sums, self._count = dict.fromkeys(self.groups, 0.0), 0
        if self.inner is not None:
            theta = parameters_of(self.model)
            theta_tilde = self.inner.adapt(
                self.model, expand_params({n: p.detach() for n, p in theta.items()}, ep.num_tasks),
                ep.x_support, ep.y_support, ep.loss,
            )  # fmt: skip
            for layer, names in self.groups.items():
                moved = torch.sqrt(
                    sum((theta_tilde[n].detach() - theta[n].detach()).pow(2).flatten(1).sum(1) for n in names)
                )
                size = self._layer_norm({n: theta[n].detach() for n in names}, layer).clamp_min(1e-30)
                d.layer_adaptation[layer].append(float((moved / size).mean()))


# ------------------------------------------------------------------------------------------------ plots


def layer_labels(layers: list[str]) -> list[str]:
    """``layer 1`` … ``layer L`` in the plot language, for the model's layers in order."""
    return [plot_text("layer_n", i=i + 1) for i in range(len(layers))]


def plot_alignment(
    runs: Mapping[str, Dynamics], *, ax: Axes | None = None, across: bool = True, inner_product: bool = False
) -> Axes:
    """Within-task alignment against the outer step, one line per run (``runs``: label → ``Dynamics``);
    dotted, the across-task cosine of the same run. ``inner_product=True`` draws ḡ_i·ḡ_j instead of the cosine."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, d) in enumerate(runs.items()):
        color = colors[i % len(colors)]
        ax.plot(d.step, d.within_inner if inner_product else d.within_cosine, "o-", ms=3, color=color, label=label)
        if across and not inner_product:
            ax.plot(d.step, d.across_cosine, ":", color=color)
    if across and not inner_product:
        ax.plot([], [], "k-", label=plot_text("within_task"))
        ax.plot([], [], "k:", label=plot_text("across_tasks"))
    if inner_product:
        ax.set_yscale("log")
    ax.set_xlabel(plot_text("outer_step"))
    ax.set_ylabel(plot_text("inner_product" if inner_product else "cosine"))
    ax.set_title(plot_text("gradient_alignment"))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return ax


def plot_dynamics(dynamics: Dynamics, *, title: str | None = None) -> plt.Figure:
    """One run's dynamics in three panels: gradient alignment (within and across tasks), each layer's
    relative change per outer step, and (if recorded) how far the inner loop moves each layer."""
    panels = 3 if dynamics.layer_adaptation else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.4), layout="constrained")
    ax = axes[0]
    ax.plot(dynamics.step, dynamics.within_cosine, "o-", ms=3, label=plot_text("within_task"))
    ax.plot(dynamics.step, dynamics.across_cosine, "s--", ms=3, label=plot_text("across_tasks"))
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel(plot_text("outer_step"))
    ax.set_ylabel(plot_text("cosine"))
    ax.set_title(plot_text("gradient_alignment"))
    ax.legend(fontsize=7)
    layers = list(dynamics.layer_step)
    series = [(axes[1], dynamics.layer_step, "layer_change")]
    if dynamics.layer_adaptation:
        series.append((axes[2], dynamics.layer_adaptation, "layer_adaptation"))
    for ax, values, key in series:
        for label, layer in zip(layer_labels(layers), layers):
            steps = [s for s, v in zip(dynamics.step, values[layer]) if v == v]  # skip the NaN at step 0
            ax.plot(steps, [v for v in values[layer] if v == v], "o-", ms=3, label=label)
        ax.set_yscale("log")
        ax.set_xlabel(plot_text("outer_step"))
        ax.set_title(plot_text(key), fontsize=9)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
