"""Loss landscapes: a two-parameter toy whose contours can be drawn, and slices of the real sine loss.

**The toy** (``ToyTasks``). Task t has the loss L_t(θ) = ½(θ − θ*_t)ᵀ A_t (θ − θ*_t) in two parameters,
with A_t = λ_t·a_t a_tᵀ + μ·(I − a_t a_tᵀ): steep (λ_t) across a valley, nearly flat (μ ≪ λ_t) along it.
Its optimum θ*_t lies in the valley, and the valley's floor, the line through θ*_t across a_t, is the
task's *solution set*: there L_t is within ½μ·(distance along the line)² of its minimum, almost optimal.
Nichol et al. (2018, §5.2) argue that Reptile converges toward a point close, in Euclidean distance, to
every task's solution set; ``closest_point`` is that point, ``joint_optimum`` the minimum of the average
loss (joint training), ``reptile_fixed_point`` where Reptile's update θ + ε·mean_t(θ̃_t − θ) stops moving.
Everything is exact linear algebra on 2×2 matrices, so a lesson can compare the points numerically.

**The sine slices** (``loss_along``): L_t(θ + α(θ̃_t − θ)) for a few real tasks, on the line from the
initialisation θ (α = 0) through the adapted θ̃_t (α = 1), on the support and on the query points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn

from ._checks import check_choice, check_epsilon, check_int, check_positive
from .episodes import Episodes
from .i18n import plot_text
from .losses import task_losses
from .models import Params, batched_call, check_model, parameters_of


@dataclass(frozen=True)
class ToyTasks:
    """T two-parameter quadratic tasks (see the module docstring), in float64.

    ``optima`` θ*_t ``[T, 2]``; ``normals`` a_t ``[T, 2]`` (unit vectors across each valley);
    ``steepness`` λ_t ``[T]``; ``flatness`` μ, the curvature along every valley.
    """

    optima: torch.Tensor
    normals: torch.Tensor
    steepness: torch.Tensor
    flatness: float = 0.01

    @classmethod
    def random(cls, num_tasks: int = 5, *, seed: int = 0, flatness: float = 0.01) -> ToyTasks:
        """``num_tasks`` tasks: optima ~ N(0, 2²·I), valley directions uniform, λ_t log-uniform in [0.3, 3]."""
        g = torch.Generator().manual_seed(check_int("seed", seed, low=0))
        t = check_int("num_tasks", num_tasks, low=2)
        optima = 2.0 * torch.randn(t, 2, generator=g, dtype=torch.float64)
        angle = math.pi * torch.rand(t, generator=g, dtype=torch.float64)
        steep = torch.exp(math.log(0.3) + math.log(10) * torch.rand(t, generator=g, dtype=torch.float64))
        return cls(optima, torch.stack([angle.cos(), angle.sin()], 1), steep, check_positive("flatness", flatness))

    @property
    def num_tasks(self) -> int:
        """T."""
        return len(self.optima)

    @property
    def hessians(self) -> torch.Tensor:
        """A_t = λ_t·a_t a_tᵀ + μ·(I − a_t a_tᵀ), ``[T, 2, 2]``."""
        outer = self.normals.unsqueeze(2) * self.normals.unsqueeze(1)
        eye = torch.eye(2, dtype=torch.float64)
        return self.steepness.view(-1, 1, 1) * outer + self.flatness * (eye - outer)

    def losses(self, theta: torch.Tensor) -> torch.Tensor:
        """L_t(θ) for points θ ``[..., 2]``: ``[..., T]``."""
        d = theta.to(torch.float64).unsqueeze(-2) - self.optima  # [..., T, 2]
        return 0.5 * torch.einsum("...ti,tij,...tj->...t", d, self.hessians, d)

    def adapt(self, theta: torch.Tensor, k: int, eta: float) -> torch.Tensor:
        """θ̃_t: k steps of gradient descent θ ← θ − η·A_t(θ − θ*_t) on every task from θ ``[..., 2]``.

        Returns ``[..., T, 2]``."""
        k, eta = check_int("k (inner steps)", k), check_positive("η (eta)", eta)
        d = theta.to(torch.float64).unsqueeze(-2) - self.optima
        for _ in range(k):
            d = d - eta * torch.einsum("tij,...tj->...ti", self.hessians, d)
        return self.optima + d

    def loss_after(self, theta: torch.Tensor, k: int, eta: float) -> torch.Tensor:
        """mean_t L_t(θ̃_t) after k steps from θ ``[..., 2]``: ``[...]`` (MAML's objective on this toy)."""
        tilde = self.adapt(theta, k, eta)  # [..., T, 2]
        d = tilde - self.optima
        return (0.5 * torch.einsum("...ti,tij,...tj->...t", d, self.hessians, d)).mean(-1)

    def reptile_path(self, start: Sequence[float], *, k: int, eta: float, epsilon: float, steps: int) -> torch.Tensor:
        """θ during meta-training: ``steps`` Reptile updates θ ← θ + ε·mean_t(θ̃_t − θ) from ``start``.

        Returns ``[steps + 1, 2]``."""
        epsilon = check_epsilon(epsilon)
        theta = torch.as_tensor(start, dtype=torch.float64)
        path = [theta]
        for _ in range(check_int("steps", steps)):
            theta = theta + epsilon * (self.adapt(theta, k, eta) - theta).mean(0)  # the Reptile update
            path.append(theta)
        return torch.stack(path)

    def _weighted_point(self, weights: torch.Tensor) -> torch.Tensor:
        """The θ with Σ_t W_t(θ − θ*_t) = 0 for 2×2 weights W_t ``[T, 2, 2]``."""
        rhs = (weights @ self.optima.unsqueeze(-1)).sum(0)
        return torch.linalg.solve(weights.sum(0), rhs).squeeze(-1)

    def joint_optimum(self) -> torch.Tensor:
        """argmin_θ mean_t L_t(θ): where joint training goes."""
        return self._weighted_point(self.hessians)

    def closest_point(self) -> torch.Tensor:
        """argmin_θ mean_t dist(θ, solution set t)²: the point nearest to all the valley floors."""
        return self._weighted_point(self.normals.unsqueeze(2) * self.normals.unsqueeze(1))

    def reptile_fixed_point(self, k: int, eta: float) -> torch.Tensor:
        """Where Reptile stops: mean_t(θ̃_t − θ) = 0. Here θ̃_t − θ = −W_t(θ − θ*_t), W_t = I − (I − η·A_t)^k."""
        k, eta = check_int("k (inner steps)", k), check_positive("η (eta)", eta)
        eye = torch.eye(2, dtype=torch.float64)
        return self._weighted_point(eye - torch.linalg.matrix_power(eye - eta * self.hessians, k))

    def distance_to_solution_sets(self, theta: torch.Tensor) -> torch.Tensor:
        """|a_t·(θ − θ*_t)|: how far θ ``[..., 2]`` is from each task's solution set, ``[..., T]``."""
        d = theta.to(torch.float64).unsqueeze(-2) - self.optima
        return (d * self.normals).sum(-1).abs()


def grid(
    center: Sequence[float], half_width: float, points: int = 121
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A square grid around ``center``: the x and y axes ``[points]`` and the points ``[points, points, 2]``."""
    n = check_int("points", points, low=2)
    xs = torch.linspace(center[0] - half_width, center[0] + half_width, n, dtype=torch.float64)
    ys = torch.linspace(center[1] - half_width, center[1] + half_width, n, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([gx, gy], -1)


def plot_toy_landscape(
    toy: ToyTasks,
    *,
    k: int,
    eta: float,
    path: torch.Tensor | None = None,
    objective: str = "joint",
    half_width: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Contours of the toy, its task optima and solution sets, Reptile's path and the three special points.

    ``objective`` picks the contours: ``"joint"`` (mean_t L_t(θ), what joint training minimises) or
    ``"after_k"`` (mean_t L_t(θ̃_t) after k steps of η, what MAML minimises).
    """
    check_choice("objective", objective, ("joint", "after_k"))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    points = [toy.optima, toy.joint_optimum().view(1, 2), toy.closest_point().view(1, 2)]
    if path is not None:
        points.append(path)
    cloud = torch.cat(points)
    center = ((cloud.max(0).values + cloud.min(0).values) / 2).tolist()
    half = half_width if half_width is not None else 0.6 * float((cloud.max(0).values - cloud.min(0).values).max())
    xs, ys, pts = grid(center, half)
    z = toy.losses(pts).mean(-1) if objective == "joint" else toy.loss_after(pts, k, eta)
    levels = np.quantile(z.numpy(), np.linspace(0.01, 0.95, 14))
    ax.contourf(xs, ys, z, levels=levels, cmap="Greys", alpha=0.35, extend="both")
    ax.contour(xs, ys, z, levels=levels, colors="grey", linewidths=0.6)
    along = torch.stack([-toy.normals[:, 1], toy.normals[:, 0]], 1)  # the direction of each valley floor
    span = torch.linspace(-3 * half, 3 * half, 2, dtype=torch.float64)
    for t in range(toy.num_tasks):
        line = toy.optima[t] + span.view(-1, 1) * along[t]
        ax.plot(line[:, 0], line[:, 1], "-", color="#1f77b4", lw=1, alpha=0.7,
                label=plot_text("solution_sets") if t == 0 else None)  # fmt: skip
    ax.scatter(*toy.optima.T, marker="*", s=140, color="#d62728", zorder=4, label=plot_text("task_optimum"))
    if path is not None:
        ax.plot(path[:, 0], path[:, 1], ".-", color="#2ca02c", ms=3, lw=1.2, label=plot_text("theta_path"))
    reptile_point = toy.reptile_fixed_point(k, eta)
    ax.scatter(*reptile_point, marker="o", s=70, facecolor="none", edgecolor="#2ca02c", lw=2, zorder=5,
               label=plot_text("reptile_point", k=k))  # fmt: skip
    ax.scatter(*toy.joint_optimum(), marker="s", s=55, color="#8c564b", zorder=5, label=plot_text("joint_point"))
    ax.scatter(*toy.closest_point(), marker="D", s=45, color="#9467bd", zorder=5, label=plot_text("closest_point"))
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_aspect("equal")
    ax.set_xlabel(plot_text("param_1"))
    ax.set_ylabel(plot_text("param_2"))
    ax.set_title(plot_text("contours_joint" if objective == "joint" else "contours_after_k", k=k), fontsize=10)
    return ax


def loss_along(
    model: nn.Module, episodes: Episodes, theta_tilde: Params, alphas: Sequence[float]
) -> dict[str, torch.Tensor]:
    """L_t(θ + α(θ̃_t − θ)) for every α in ``alphas`` and every task t, with θ the model's parameters and
    ``theta_tilde`` each task's adapted parameters ``[T, ...]``: ``{"support": [A, T], "query": [A, T]}``."""
    check_model(model)
    theta = {n: p.detach() for n, p in parameters_of(model).items()}
    out: dict[str, list[torch.Tensor]] = {"support": [], "query": []}
    with torch.no_grad():
        for alpha in alphas:
            params = {n: theta[n] + float(alpha) * (theta_tilde[n].detach() - theta[n]) for n in theta}
            out["support"].append(
                task_losses(batched_call(model, params, episodes.x_support), episodes.y_support, episodes.loss)
            )
            out["query"].append(
                task_losses(batched_call(model, params, episodes.x_query), episodes.y_query, episodes.loss)
            )
    return {key: torch.stack(values).cpu() for key, values in out.items()}


def plot_slices(
    alphas: Sequence[float], losses: dict[str, torch.Tensor], *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """The loss along θ → θ̃ for each task (``loss_along``'s result): query solid, support dashed, one colour
    per task; θ at α = 0 and θ̃ at α = 1 marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    a = np.asarray(alphas, dtype=float)
    for t in range(losses["query"].shape[1]):
        c = colors[t % len(colors)]
        ax.plot(a, losses["query"][:, t], "-", color=c, label=plot_text("task_n", t=t + 1))
        ax.plot(a, losses["support"][:, t], "--", color=c, lw=1)
    ax.plot([], [], "k-", label=plot_text("query_short"))
    ax.plot([], [], "k--", lw=1, label=plot_text("support_short"))
    for x, text in ((0.0, "θ"), (1.0, "θ̃")):
        ax.axvline(x, color="k", lw=0.6, ls=":")
        ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12), textcoords="offset points")
    ax.set_yscale("log")
    ax.set_xlabel(plot_text("slice_alpha"))
    ax.set_ylabel(plot_text("mse"))
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    return ax
