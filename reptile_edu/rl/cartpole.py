"""CartPole whose physics differ per task: a family where the dynamics change, not the goal.

The equations are gymnasium's ``CartPoleEnv`` (Barto, Sutton & Anderson 1983; Euler steps of
τ = 0.02 s), written in torch and batched over tasks × episodes. A task is a triple
(gravity g, pole mass m, pole half-length l), each drawn uniformly from a range. The goal never
changes: keep the pole up (reward 1 per step) and the cart on the track, for at most ``horizon``
steps; an episode ends when |x| > 2.4 or the pole tilts more than 12°. Actions: 0 pushes left,
1 pushes right, with a force of 10 N.

``tests/test_rl_gym.py`` checks these dynamics against gymnasium's own CartPole, run through
``GymFamily``: the same tasks and actions give the same trajectories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .._checks import check_int
from .family import EnvBatch, check_tasks
from .gym_family import GymFamily

MASS_CART = 1.0
FORCE = 10.0
TAU = 0.02
X_LIMIT = 2.4
ANGLE_LIMIT = 12 * 2 * math.pi / 360


def _check_range(name: str, value: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(v) for v in value)
    if not (0 < low <= high and math.isfinite(high)):
        raise ValueError(f"{name} must be a range (low, high) with 0 < low ≤ high; got {value!r}.")
    return low, high


@dataclass(frozen=True)
class CartPoleFamily:
    """CartPole tasks with gravity, pole mass and pole half-length drawn uniformly from their ranges.

    Gymnasium's fixed CartPole is g = 9.8, m = 0.1, l = 0.5, inside the default ranges.
    """

    gravity: tuple[float, float] = (4.9, 14.7)
    pole_mass: tuple[float, float] = (0.05, 0.5)
    pole_half_length: tuple[float, float] = (0.25, 1.0)
    horizon: int = 200

    name = "cartpole"
    discrete = True
    obs_dim = 4
    action_dim = 2
    task_parameters = ("gravity", "pole mass", "pole half-length")

    def __post_init__(self) -> None:
        _check_range("gravity", self.gravity)
        _check_range("pole_mass", self.pole_mass)
        _check_range("pole_half_length", self.pole_half_length)
        check_int("horizon", self.horizon)

    @property
    def value_scale(self) -> float:
        """Roughly the size of a discounted return of a balancing policy (γ = 0.99: at most 100)."""
        return 50.0

    def sample_tasks(self, num_tasks: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """T tasks ``[T, 3]``: (gravity, pole mass, pole half-length)."""
        num_tasks = check_int("num_tasks", num_tasks)
        u = torch.rand(num_tasks, 3, generator=generator)
        low = torch.tensor([self.gravity[0], self.pole_mass[0], self.pole_half_length[0]])
        high = torch.tensor([self.gravity[1], self.pole_mass[1], self.pole_half_length[1]])
        return low + (high - low) * u

    def make(
        self,
        tasks: torch.Tensor,
        episodes: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> CartPoleBatch:
        """E episodes of each of the T tasks. Start states are uniform in [−0.05, 0.05]⁴, drawn exactly
        as gymnasium's ``CartPole-v1`` draws them when ``GymFamily`` resets it with seeds from the same
        ``generator``: with the same generator, both families start (and so run) the same episodes."""
        tasks = check_tasks(tasks, 3, "tasks (gravity, pole mass, pole half-length)")
        episodes = check_int("episodes", episodes)
        seeds = torch.randint(0, 2**31 - 1, (tasks.shape[0] * episodes,), generator=generator).tolist()
        start = np.stack([np.random.default_rng(seed).uniform(-0.05, 0.05, 4) for seed in seeds])
        start = torch.as_tensor(start, dtype=torch.float32).view(tasks.shape[0], episodes, 4)
        return CartPoleBatch(tasks.to(device), start.to(device))

    def gymnasium(self) -> GymFamily:
        """The same family run by gymnasium's own ``CartPole-v1`` through ``GymFamily`` (slower:
        one Python environment per episode; for checking the torch version and for teaching)."""
        import gymnasium

        return GymFamily(
            lambda: gymnasium.make("CartPole-v1", max_episode_steps=self.horizon),
            set_cartpole_task,
            dict(zip(self.task_parameters, (self.gravity, self.pole_mass, self.pole_half_length))),
            value_scale=self.value_scale,
            name="cartpole (gymnasium)",
        )


def set_cartpole_task(env: object, params: dict[str, float]) -> None:
    """Set gymnasium's ``CartPoleEnv`` to one task: its gravity, pole mass and pole half-length
    (and the two quantities the environment derives from them in its constructor)."""
    env.gravity = params["gravity"]  # type: ignore[attr-defined]
    env.masspole = params["pole mass"]  # type: ignore[attr-defined]
    env.length = params["pole half-length"]  # type: ignore[attr-defined]
    env.total_mass = env.masspole + env.masscart  # type: ignore[attr-defined]
    env.polemass_length = env.masspole * env.length  # type: ignore[attr-defined]


def cartpole_step(state: torch.Tensor, action: torch.Tensor, tasks: torch.Tensor) -> torch.Tensor:
    """One Euler step of gymnasium's CartPole equations; state ``[..., 4]`` = (x, ẋ, φ, φ̇), action
    ``[...]`` in {0, 1}, tasks ``[..., 3]`` = (g, m, l) broadcast against the state's batch shape."""
    x, x_dot, phi, phi_dot = state.unbind(-1)
    g, m, half = tasks.unbind(-1)
    total = m + MASS_CART
    force = torch.where(action == 1, FORCE, -FORCE)
    cos, sin = torch.cos(phi), torch.sin(phi)
    temp = (force + m * half * phi_dot.pow(2) * sin) / total
    phi_acc = (g * sin - cos * temp) / (half * (4.0 / 3.0 - m * cos.pow(2) / total))
    x_acc = temp - m * half * phi_acc * cos / total
    return torch.stack([x + TAU * x_dot, x_dot + TAU * x_acc, phi + TAU * phi_dot, phi_dot + TAU * phi_acc], -1)


class CartPoleBatch(EnvBatch):
    """T tasks × E episodes of CartPole; observations are states ``[T, E, 4]``."""

    def __init__(self, tasks: torch.Tensor, start: torch.Tensor) -> None:
        self.tasks, self.start = tasks.unsqueeze(1), start
        self.state = start

    def reset(self) -> torch.Tensor:
        self.state = self.start.clone()
        return self.state

    def step(self, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self.state = cartpole_step(self.state, action, self.tasks)
        x, phi = self.state[..., 0], self.state[..., 2]
        ended = (x.abs() > X_LIMIT) | (phi.abs() > ANGLE_LIMIT)
        return self.state, torch.ones_like(x), ended
