"""Lesson 08's figures: the agent's three losses and its return while meta-training, returns after
adaptation with 95 % intervals, and trajectories toward their goals. Text comes from ``i18n``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..i18n import plot_text
from ..plots import smooth
from .evaluation import AdaptationReturns
from .meta import RLHistory

#: Colours of the three starting points.
START_COLORS = {"reptile": "#2ca02c", "joint": "#8c564b", "random": "#7f7f7f"}
LOSS_COLORS = {"policy_loss": "#1f77b4", "value_loss": "#ff7f0e", "total_loss": "#2ca02c"}


def start_label(name: str) -> str:
    """The label of a starting point: ``"reptile"``, ``"joint"`` or ``"random"`` in the plot language."""
    return plot_text({"reptile": "reptile_theta", "joint": "joint_policy", "random": "random_theta"}.get(name, name))


def draw_training(history: RLHistory, axes: Sequence[Axes], *, window: int = 10) -> None:
    """Into two axes: the policy, value and total losses per outer step; the mean return of the episodes."""
    left, right = axes
    if history.step:
        for key, values in (
            ("policy_loss", history.policy_loss),
            ("value_loss", history.value_loss),
            ("total_loss", history.loss),
        ):
            left.plot(history.step, smooth(values, window), color=LOSS_COLORS[key], label=plot_text(key))
        right.plot(history.step, smooth(history.mean_return, window), color=START_COLORS["reptile"])
        left.legend(fontsize=7)
    left.axhline(0, color="k", lw=0.5)
    left.set_xlabel(plot_text("outer_step"))
    left.set_title(plot_text("agent_losses"))
    right.set_xlabel(plot_text("outer_step"))
    right.set_title(plot_text("mean_return_at_theta"))


def plot_training(history: RLHistory, *, window: int = 10) -> Figure:
    """The three loss curves and the return curve of one meta-training run, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    draw_training(history, axes, window=window)
    return fig


def plot_adaptation_returns(results: Mapping[str, AdaptationReturns], *, ax: Axes | None = None) -> Axes:
    """Mean return against the number of adaptation updates, one line per starting point, with 95 % intervals."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6), layout="constrained")
    for name, result in results.items():
        mean, half = np.array(result.interval()).T
        x = np.arange(len(mean))
        color = START_COLORS.get(name)
        ax.plot(x, mean, "o-", color=color, label=start_label(name))
        ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.2)
    ax.set_xticks(np.arange(len(mean)))
    ax.set_xlabel(plot_text("adaptation_updates"))
    ax.set_ylabel(plot_text("mean_return"))
    ax.legend(fontsize=8)
    return ax


def plot_trajectories(
    before: torch.Tensor, after: torch.Tensor, goals: torch.Tensor, *, updates: int, axes: Sequence[Axes] | None = None
) -> Sequence[Axes]:
    """Navigation paths: ``before``/``after`` are positions ``[T, E, H, 2]`` (first episode of each task
    drawn), goals ``[T, 2]``; one colour per task, the goal as a star."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 4.2), layout="constrained", sharex=True, sharey=True)
    colors = plt.cm.tab10(np.arange(goals.shape[0]) % 10)
    titles = (plot_text("before_updates"), plot_text("after_updates", u=updates))
    for ax, paths, title in zip(axes, (before, after), titles):
        for t in range(goals.shape[0]):
            xy = torch.cat([torch.zeros(1, 2), paths[t, 0].cpu()]).numpy()
            ax.plot(xy[:, 0], xy[:, 1], color=colors[t], lw=1.2)
            ax.plot(*goals[t].cpu().numpy(), "*", color=colors[t], ms=14, mec="k")
        ax.plot(0, 0, "ko", ms=5)
        ax.set_xlim(-0.7, 0.7)
        ax.set_ylim(-0.7, 0.7)
        ax.set_aspect("equal")
        ax.set_title(title)
    axes[0].plot([], [], "k*", ms=10, label=plot_text("goal"))
    axes[0].plot([], [], "ko", ms=5, label=plot_text("start"))
    axes[0].legend(fontsize=7, loc="lower left")
    return axes
