"""2D point navigation (Finn et al. 2017, §5.3): each task is a goal the agent must find from rewards.

The agent is a point in the plane that starts at the origin. A task is a goal g drawn uniformly
from [−0.5, 0.5]²; the agent does not observe it, only its own position s. An action a moves the
point by clip(a, −0.1, 0.1) (each coordinate), and the reward after the move is −‖s − g‖.
Episodes last 100 steps. Everything is a torch tensor batched over tasks × episodes ``[T, E, ...]``,
on the CPU or the GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import check_int, check_positive
from .family import EnvBatch, check_tasks


@dataclass(frozen=True)
class PointNavigation:
    """The task family: goals uniform in [−goal_range, goal_range]², actions clipped to ±max_step."""

    goal_range: float = 0.5
    max_step: float = 0.1
    horizon: int = 100

    name = "navigation"
    obs_dim = 2
    action_dim = 2
    discrete = False
    task_parameters = ("goal x", "goal y")

    def __post_init__(self) -> None:
        check_positive("goal_range", self.goal_range)
        check_positive("max_step", self.max_step)
        check_int("horizon", self.horizon)

    @property
    def action_scale(self) -> float:
        """The size of a useful action: the policy's starting standard deviation."""
        return self.max_step

    @property
    def value_scale(self) -> float:
        """Roughly the size of a return (H steps of a reward of the order of the goal distance)."""
        return self.horizon * self.goal_range / 5

    def sample_tasks(self, num_tasks: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """T goals ``[T, 2]``, uniform in [−goal_range, goal_range]²."""
        num_tasks = check_int("num_tasks", num_tasks)
        return (2 * torch.rand(num_tasks, 2, generator=generator) - 1) * self.goal_range

    def make(
        self,
        tasks: torch.Tensor,
        episodes: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> NavigationBatch:
        """E episodes of each of the T tasks, ready to ``reset`` and ``step``."""
        tasks = check_tasks(tasks, 2, "goals")
        return NavigationBatch(self, tasks.to(device), check_int("episodes", episodes))

    def step(
        self, position: torch.Tensor, action: torch.Tensor, goal: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step for any batch shape: s' = s + clip(a, ±max_step), reward −‖s' − g‖."""
        new = position + action.clamp(-self.max_step, self.max_step)
        return new, -(new - goal).norm(dim=-1)


class NavigationBatch(EnvBatch):
    """T goals × E episodes of point navigation; observations are positions ``[T, E, 2]``."""

    def __init__(self, family: PointNavigation, goals: torch.Tensor, episodes: int) -> None:
        self.family, self.goals, self.episodes = family, goals, episodes
        self.position = torch.zeros(goals.shape[0], episodes, 2, device=goals.device)

    def reset(self) -> torch.Tensor:
        self.position = torch.zeros_like(self.position)
        return self.position

    def step(self, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self.position, reward = self.family.step(self.position, action, self.goals.unsqueeze(1))
        return self.position, reward, torch.zeros_like(reward, dtype=torch.bool)
