"""What a task family is: the contract the episode runner relies on.

A *task family* (a meta-environment) hands out tasks and builds, for T tasks × E episodes,
an ``EnvBatch`` that steps all of them at once. ``PointNavigation`` and ``CartPoleFamily`` are
written in torch; ``GymFamily`` turns any ``gymnasium.Env`` into one.
"""

from __future__ import annotations

from typing import Protocol

import torch


class EnvBatch:
    """E episodes of each of T tasks, stepped together. Tensors are ``[T, E, ...]``."""

    def reset(self) -> torch.Tensor:
        """Start every episode; return the first observations ``[T, E, obs_dim]``."""
        raise NotImplementedError

    def step(self, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Apply actions ``[T, E, ...]``; return observations, rewards ``[T, E]`` and whether each
        episode has ended ``[T, E]`` (the runner ignores an episode's steps after its end)."""
        raise NotImplementedError

    def close(self) -> None:
        """Free what the batch holds (gymnasium environments); nothing for torch families."""


class TaskFamily(Protocol):
    """A distribution over MDPs: T tasks are a tensor ``[T, P]`` of P task parameters."""

    name: str
    obs_dim: int
    action_dim: int
    discrete: bool
    horizon: int
    task_parameters: tuple[str, ...]

    def sample_tasks(self, num_tasks: int, generator: torch.Generator | None = ...) -> torch.Tensor: ...

    def make(
        self,
        tasks: torch.Tensor,
        episodes: int,
        generator: torch.Generator | None = ...,
        device: torch.device | str = ...,
    ) -> EnvBatch: ...


def check_tasks(tasks: object, width: int, what: str = "tasks") -> torch.Tensor:
    """``tasks`` as a finite float tensor ``[T, width]``, or a clear error."""
    if not isinstance(tasks, torch.Tensor) or tasks.dim() != 2 or tasks.shape[1] != width or tasks.shape[0] < 1:
        got = tuple(tasks.shape) if isinstance(tasks, torch.Tensor) else type(tasks).__name__
        raise ValueError(f"{what} must be a tensor [T, {width}] with T ≥ 1 (one row per task); got {got}.")
    if not bool(torch.isfinite(tasks).all()):
        raise ValueError(f"{what} must be finite numbers; got {tasks.tolist()}.")
    return tasks.float()


def check_family(family: object) -> TaskFamily:
    """``family`` if it has what the runner needs; a TypeError naming what is missing otherwise."""
    needed = ("obs_dim", "action_dim", "discrete", "horizon", "sample_tasks", "make")
    missing = [name for name in needed if not hasattr(family, name)]
    if missing:
        raise TypeError(
            f"family must be a task family (e.g. PointNavigation(), CartPoleFamily() or GymFamily(...)); "
            f"{type(family).__name__} has no {', '.join(missing)}."
        )
    return family  # type: ignore[return-value]
